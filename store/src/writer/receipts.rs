//! The writer's half of receipts: watermarks move here, on the writer thread, so the read-modify-write
//! of a watermark needs no lock, two devices of one user cannot race, and several marks in one batch
//! build on each other (through the write-through caches in `State`).
//!
//! Besides the merged watermarks (`receipts`) and the per-device ones (`device_receipts`), each move of a
//! merged watermark appends a step (seq, time) so that "when did they read message X" can be answered;
//! the newest `KEEP_STEPS` are kept per member, conversation and kind.

use std::sync::Arc;

use rocksdb::WriteBatch;

use super::cmd::{Committed, Mark};
use super::state::{Pending, State};
use crate::keys::{self, u64_key};
use crate::model::{ConvId, ReceiptKind, Seq, UserId};
use crate::{StoreError, encode};

/// Steps kept per member, conversation and kind: messages older than these report the oldest kept time.
const KEEP_STEPS: u32 = 256;
/// Steps are trimmed once this many more piled up, so trimming costs one short scan per this many moves.
const TRIM_SLACK: u32 = 32;

impl State {
    /// A MarkDelivered or MarkRead from one device.
    pub(super) fn mark(&mut self, batch: &mut WriteBatch, pending: &mut Pending, m: Mark) -> Result<(), StoreError> {
        let members = self.members_of(m.conv)?;
        if !members.contains(&m.user) {
            return Err(StoreError::NotFound);
        }
        let to = m.up_to.min(self.head_of(m.conv)?.last_seq);
        if to == 0 {
            return Ok(());
        }
        let device_key = (m.conv, m.user.clone(), m.device.clone());
        let mut device = match self.device_receipts.get(&device_key) {
            Some(w) => *w,
            None => self.store.device_watermarks(m.conv, &m.user, &m.device)?,
        };
        if device.advance(m.kind, to, m.now_ms).is_empty() {
            // This device reported as much before, and the merged watermark is never below a device's.
            return self.announce_read(pending, &m, &members);
        }
        let store = self.store.clone();
        let cf = store.cf(keys::DEVICE_RECEIPTS)?;
        let moved = self.advance_member(
            batch,
            pending,
            m.conv,
            &m.user,
            m.kind,
            to,
            m.now_ms,
            &members,
            None,
            Some(&m.device),
        )?;
        batch.put_cf(cf, keys::device_receipt_key(m.conv, &m.user, &m.device), encode(&device));
        self.device_receipts.insert(device_key, device);
        if !moved {
            self.announce_read(pending, &m, &members)?;
        }
        Ok(())
    }

    /// A MarkRead that moves nothing is still announced, as the apps Quip replaces do on every mark: a
    /// `Committed::Receipt` of the member's read watermark as it is (`from` = `up_to`), which records no
    /// step and writes nothing. A MarkDelivered that moves nothing stays silent.
    fn announce_read(&mut self, pending: &mut Pending, m: &Mark, members: &Arc<[UserId]>) -> Result<(), StoreError> {
        if m.kind != ReceiptKind::Read {
            return Ok(());
        }
        let marks = match self.receipts.get(&(m.conv, m.user.clone())) {
            Some(w) => *w,
            None => self.store.watermarks(m.conv, &m.user)?,
        };
        if marks.read == 0 {
            return Ok(());
        }
        pending.events.push(Committed::Receipt {
            conv: m.conv,
            user: m.user.clone(),
            kind: ReceiptKind::Read,
            from: marks.read,
            up_to: marks.read,
            at_ms: marks.read_at_ms,
            members: members.clone(),
            by_device: Some(m.device.clone()),
        });
        Ok(())
    }

    /// Sending implies reading: `sender`'s read (and delivered) watermark moves to their new message
    /// `seq`. A move past their own message alone tells nobody anything: it records no step and
    /// publishes no event.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sender_read(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        conv: ConvId,
        sender: &str,
        seq: Seq,
        now_ms: u64,
        members: &Arc<[UserId]>,
    ) -> Result<(), StoreError> {
        self.advance_member(batch, pending, conv, sender, ReceiptKind::Read, seq, now_ms, members, Some(seq), None)
            .map(drop)
    }

    /// Moves `user`'s merged watermark; every move records a step and publishes a `Committed::Receipt`.
    /// Whether it moved. Everything that can fail happens before the batch is touched, so an error leaves
    /// it as it was.
    #[allow(clippy::too_many_arguments)]
    fn advance_member(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        conv: ConvId,
        user: &str,
        kind: ReceiptKind,
        to: Seq,
        now_ms: u64,
        members: &Arc<[UserId]>,
        own: Option<Seq>,
        device: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key = (conv, user.to_owned());
        let mut marks = match self.receipts.get(&key) {
            Some(w) => *w,
            None => self.store.watermarks(conv, user)?,
        };
        let before = marks;
        let moved = marks.advance(kind, to, now_ms);
        if moved.is_empty() {
            return Ok(false);
        }
        // An explicit read past the user's own messages sent with `leave_read_state` retires their rows.
        let read_past = if own.is_none() && moved.contains(&ReceiptKind::Read) {
            self.store.sent_between(user, conv, before.read, to)?
        } else {
            Vec::new()
        };
        let mut steps = Vec::new();
        let mut trimmed = Vec::new();
        for k in moved {
            if own == Some(to) && before.get(k).saturating_add(1) == to {
                continue;
            }
            let count = marks.steps_mut(k);
            *count += 1;
            if *count >= KEEP_STEPS + TRIM_SLACK {
                // Only committed steps are seen here, and they are all older than the ones of this batch.
                let old = self.store.oldest_steps(conv, user, k, (*count - KEEP_STEPS) as usize)?;
                *count -= u32::try_from(old.len()).unwrap_or(0);
                trimmed.extend(old);
            }
            steps.push(k);
        }
        let cf = self.store.cf(keys::RECEIPTS)?;
        let sent = self.store.cf(keys::SENT)?;
        for seq in read_past {
            batch.delete_cf(&sent, keys::sent_key(user, conv, seq));
        }
        for old in trimmed {
            batch.delete_cf(cf, old);
        }
        for k in steps {
            if k == ReceiptKind::Read && !pending.read_moved.iter().any(|(u, c)| *c == conv && u == user) {
                pending.read_moved.push((user.to_owned(), conv));
            }
            batch.put_cf(cf, keys::step_key(conv, user, k, to), u64_key(now_ms));
            pending.events.push(Committed::Receipt {
                conv,
                user: user.to_owned(),
                kind: k,
                from: before.get(k),
                up_to: to,
                at_ms: now_ms,
                members: members.clone(),
                by_device: device.map(str::to_owned),
            });
        }
        batch.put_cf(cf, keys::receipt_key(conv, user), encode(&marks));
        self.receipts.insert(key, marks);
        Ok(true)
    }
}
