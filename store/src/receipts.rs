//! Receipt reads: watermarks, when a member's watermark passed a message, and unread counts. Straight
//! from RocksDB, safe from any thread; callers on the async runtime run them in `spawn_blocking`.
//!
//! Unread counts are not stored: they are computed from the conversation head, the member's read
//! watermark and the messages deleted for everyone after it, so they can never drift from the messages
//! themselves and survive restarts as they are.

use std::collections::HashMap;

use rocksdb::{Direction as RDirection, IteratorMode};

use super::keys::{self, read_u64};
use super::{Store, StoreError, decode};
use crate::model::{ConvHead, ConvId, ReceiptKind, Seq, UserId, Watermarks};

/// The unread counts of one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    /// Over all the user's conversations.
    pub total: u32,
    /// The conversations asked for, in the order asked (every one of the user's when none were named).
    pub conversations: Vec<(ConvId, u32)>,
}

/// When one member got and read one message (`None`: not yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberReceipt {
    pub user: UserId,
    pub delivered_at_ms: Option<u64>,
    pub read_at_ms: Option<u64>,
}

impl Store {
    /// A member's merged watermarks (zero when they never moved).
    pub fn watermarks(&self, conv: ConvId, user: &str) -> Result<Watermarks, StoreError> {
        let cf = self.cf(keys::RECEIPTS)?;
        Ok(self
            .db
            .get_cf(&cf, keys::receipt_key(conv, user))?
            .map(|v| decode(&v, "receipts"))
            .transpose()?
            .unwrap_or_default())
    }

    /// One device's watermarks (zero when it never reported).
    pub fn device_watermarks(&self, conv: ConvId, user: &str, device: &str) -> Result<Watermarks, StoreError> {
        let cf = self.cf(keys::DEVICE_RECEIPTS)?;
        let key = keys::device_receipt_key(conv, user, device);
        Ok(self.db.get_cf(&cf, key)?.map(|v| decode(&v, "device_receipts")).transpose()?.unwrap_or_default())
    }

    /// The merged watermarks of every member of `conv` that has any.
    pub fn conv_watermarks(&self, conv: ConvId) -> Result<Vec<(UserId, Watermarks)>, StoreError> {
        let cf = self.cf(keys::RECEIPTS)?;
        let prefix = keys::receipt_prefix(conv);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&prefix, RDirection::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let user = keys::split_receipt_key(&k).ok_or(StoreError::Corrupt("receipts"))?;
            out.push((user, decode(&v, "receipts")?));
        }
        Ok(out)
    }

    /// When `user`'s `kind` watermark reached `seq`: the time of the first kept step at or past it (for
    /// messages older than every kept step, the oldest one's), or the watermark's last move when no step
    /// covers it. `None` while the watermark is below `seq`.
    pub fn reached_at(
        &self,
        conv: ConvId,
        user: &str,
        kind: ReceiptKind,
        seq: Seq,
        marks: &Watermarks,
    ) -> Result<Option<u64>, StoreError> {
        if marks.get(kind) < seq {
            return Ok(None);
        }
        let cf = self.cf(keys::RECEIPTS)?;
        let prefix = keys::step_prefix(conv, user, kind);
        let start = keys::step_key(conv, user, kind, seq);
        if let Some(item) = self.db.iterator_cf(&cf, IteratorMode::From(&start, RDirection::Forward)).next() {
            let (k, v) = item?;
            if k.starts_with(&prefix) {
                return read_u64(&v).map(Some).ok_or(StoreError::Corrupt("receipts"));
            }
        }
        Ok(Some(marks.at_ms(kind)))
    }

    /// The oldest kept steps of `user`'s `kind` watermark in `conv`, at most `limit` (for trimming).
    pub(super) fn oldest_steps(
        &self,
        conv: ConvId,
        user: &str,
        kind: ReceiptKind,
        limit: usize,
    ) -> Result<Vec<Box<[u8]>>, StoreError> {
        let cf = self.cf(keys::RECEIPTS)?;
        let prefix = keys::step_prefix(conv, user, kind);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&prefix, RDirection::Forward)) {
            let (k, _) = item?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            out.push(k);
        }
        Ok(out)
    }

    /// `user`'s own messages `after < seq <= up_to` of `conv` that left their read state alone (the
    /// `sent` rows), ascending.
    pub fn sent_between(&self, user: &str, conv: ConvId, after: Seq, up_to: Seq) -> Result<Vec<Seq>, StoreError> {
        self.user_conv_seqs(keys::SENT, user, conv, after, up_to)
    }

    /// How many messages with `after < seq <= up_to` were deleted for everyone.
    pub fn deleted_between(&self, conv: ConvId, after: Seq, up_to: Seq) -> Result<u64, StoreError> {
        if up_to <= after {
            return Ok(0);
        }
        let cf = self.cf(keys::DELETED)?;
        let start = keys::deleted_key(conv, after.saturating_add(1));
        let mut n = 0;
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&start, RDirection::Forward)) {
            let (k, _) = item?;
            match keys::split_msg_key(&k) {
                Some((c, seq)) if c == conv && seq <= up_to => n += 1,
                _ => break,
            }
        }
        Ok(n)
    }

    /// `user`'s unread count in `conv`, given its head and their watermarks: the messages after their
    /// read watermark, less those deleted for everyone, those they deleted for themselves and their own
    /// (sent with `leave_read_state`; without it, a send moves the watermark past the message).
    pub fn unread_in(&self, conv: ConvId, user: &str, head: &ConvHead, marks: &Watermarks) -> Result<u32, StoreError> {
        let after = marks.read.min(head.last_seq);
        if after == head.last_seq {
            return Ok(0);
        }
        let gone = self.deleted_between(conv, after, head.last_seq)?
            + self.hidden_between(user, conv, after, head.last_seq)?
            + self.sent_between(user, conv, after, head.last_seq)?.len() as u64;
        let unread = (head.last_seq - after).saturating_sub(gone);
        Ok(u32::try_from(unread).unwrap_or(u32::MAX))
    }

    /// `user`'s unread count in `conv`.
    pub fn unread(&self, conv: ConvId, user: &str) -> Result<u32, StoreError> {
        self.unread_in(conv, user, &self.conv_head(conv)?, &self.watermarks(conv, user)?)
    }

    /// `user`'s unread counts: the total over all their conversations, and the count of each of `only`
    /// (all of them when empty). NotFound when one of `only` is not a conversation of theirs.
    pub fn unread_counts(&self, user: &str, only: &[ConvId]) -> Result<Unread, StoreError> {
        let mut out = Unread::default();
        let mut mine = Vec::new();
        for conv in self.user_convs(user)? {
            let n = self.unread(conv, user)?;
            out.total = out.total.saturating_add(n);
            mine.push((conv, n));
        }
        if only.is_empty() {
            out.conversations = mine;
        } else {
            let by_conv: HashMap<ConvId, u32> = mine.into_iter().collect();
            out.conversations = only
                .iter()
                .map(|c| by_conv.get(c).map(|n| (*c, *n)).ok_or(StoreError::NotFound))
                .collect::<Result<_, _>>()?;
        }
        Ok(out)
    }

    /// When each of `users` got and read message `seq` of `conv`.
    pub fn message_receipts(&self, conv: ConvId, seq: Seq, users: &[UserId]) -> Result<Vec<MemberReceipt>, StoreError> {
        let marks: HashMap<UserId, Watermarks> = self.conv_watermarks(conv)?.into_iter().collect();
        let mut out = Vec::with_capacity(users.len());
        for user in users {
            let m = marks.get(user).copied().unwrap_or_default();
            out.push(MemberReceipt {
                user: user.clone(),
                delivered_at_ms: self.reached_at(conv, user, ReceiptKind::Delivered, seq, &m)?,
                read_at_ms: self.reached_at(conv, user, ReceiptKind::Read, seq, &m)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rocksdb::WriteBatch;

    use super::*;
    use crate::config::StoreConfig;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreConfig::default()).unwrap();
        (dir, store)
    }

    #[test]
    fn unread_counts_skip_messages_deleted_for_everyone() {
        let (_dir, s) = store();
        let head = ConvHead { last_seq: 10, ..ConvHead::default() };
        let marks = Watermarks { read: 4, delivered: 6, ..Watermarks::default() };
        assert_eq!(s.unread_in(1, "u", &head, &marks).unwrap(), 6);
        let cf = s.cf(keys::DELETED).unwrap();
        let mut batch = WriteBatch::default();
        for (conv, seq) in [(1, 3), (1, 5), (1, 10), (1, 11), (2, 6)] {
            batch.put_cf(&cf, keys::deleted_key(conv, seq), []);
        }
        s.db.write(batch).unwrap();
        assert_eq!(s.deleted_between(1, 4, 10).unwrap(), 2);
        assert_eq!(s.unread_in(1, "u", &head, &marks).unwrap(), 4);
        assert_eq!(s.deleted_between(1, 10, 10).unwrap(), 0);
        // A watermark past the head (it cannot be, but never underflow).
        let past = Watermarks { read: 20, ..marks };
        assert_eq!(s.unread_in(1, "u", &head, &past).unwrap(), 0);
        // Messages deleted "for me" count for nobody else.
        let hidden = s.cf(keys::HIDDEN).unwrap();
        let mut batch = WriteBatch::default();
        for (user, conv, seq) in [("u", 1, 7), ("u", 1, 8), ("u", 1, 2), ("u", 2, 9), ("v", 1, 9), ("uu", 1, 9)] {
            batch.put_cf(&hidden, keys::hidden_key(user, conv, seq), []);
        }
        s.db.write(batch).unwrap();
        assert_eq!(s.hidden_between("u", 1, 4, 10).unwrap(), 2);
        assert_eq!(s.unread_in(1, "u", &head, &marks).unwrap(), 2);
        assert_eq!(s.unread_in(1, "v", &head, &marks).unwrap(), 3);
    }

    #[test]
    fn reached_at_finds_the_first_step_at_or_past_the_message() {
        let (_dir, s) = store();
        let cf = s.cf(keys::RECEIPTS).unwrap();
        let mut batch = WriteBatch::default();
        for (seq, at) in [(3u64, 100u64), (7, 200), (9, 300)] {
            batch.put_cf(&cf, keys::step_key(1, "bob", ReceiptKind::Read, seq), keys::u64_key(at));
        }
        // Another user's and another kind's steps are not looked at.
        batch.put_cf(&cf, keys::step_key(1, "bobby", ReceiptKind::Read, 10), keys::u64_key(999));
        batch.put_cf(&cf, keys::step_key(1, "bob", ReceiptKind::Delivered, 10), keys::u64_key(998));
        s.db.write(batch).unwrap();
        let marks =
            Watermarks { read: 9, delivered: 10, read_at_ms: 300, delivered_at_ms: 400, ..Watermarks::default() };
        let at = |seq| s.reached_at(1, "bob", ReceiptKind::Read, seq, &marks).unwrap();
        let want = [Some(100), Some(100), Some(200), Some(200), Some(300), Some(300), None];
        assert_eq!([at(1), at(3), at(4), at(7), at(8), at(9), at(10)], want);
        // No step covers it (the watermark moved without one): its last move.
        let later = Watermarks { read: 12, read_at_ms: 500, ..marks };
        assert_eq!(s.reached_at(1, "bob", ReceiptKind::Read, 11, &later).unwrap(), Some(500));
        assert_eq!(s.oldest_steps(1, "bob", ReceiptKind::Read, 2).unwrap().len(), 2);
        assert_eq!(s.oldest_steps(1, "bob", ReceiptKind::Read, 10).unwrap().len(), 3);
    }
}
