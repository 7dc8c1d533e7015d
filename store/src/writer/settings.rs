//! The writer's half of what each user decides for themselves: archive, mute, delete a conversation
//! for themselves ("hide"), and block or unblock another user.
//!
//! Hiding records the conversation's current last seq: those messages stay hidden from that user, the
//! conversation leaves their list until a newer message arrives, and their read watermark moves to it
//! (nothing hidden counts as unread). It runs on the writer thread so the seq it records is exactly the
//! head at that point of the order of writes.

use rocksdb::WriteBatch;

use super::cmd::{Committed, ConvChange, Reply, WriteCmd};
use super::handle::Writer;
use super::requests::{SettingChange, SettingOp};
use super::state::{Pending, State};
use crate::keys;
use crate::model::UserId;
use crate::{StoreError, encode};

impl Writer {
    /// Applies a user's own setting; returns once it is durable.
    pub async fn change_setting(&self, change: SettingChange) -> Result<(), StoreError> {
        self.call(|reply: Reply<()>| WriteCmd::Setting { change, reply }).await
    }
}

impl State {
    pub(super) fn change_setting(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        c: SettingChange,
    ) -> Result<(), StoreError> {
        let conv = match c.op {
            SettingOp::Hide(conv) | SettingOp::Archive(conv, _) | SettingOp::Mute(conv, _) => conv,
            SettingOp::Block(other) => return self.set_block(batch, pending, c.user, other, true, c.now_ms),
            SettingOp::Unblock(other) => return self.set_block(batch, pending, c.user, other, false, c.now_ms),
        };
        let members = self.members_of(conv)?;
        if !members.contains(&c.user) {
            return Err(StoreError::NotFound);
        }
        let key = (c.user.clone(), conv);
        let mut settings = match pending.settings.get(&key) {
            Some(s) => *s,
            None => self.store.settings(&c.user, conv)?,
        };
        match c.op {
            SettingOp::Hide(_) => {
                let last = self.head_of(conv)?.last_seq;
                settings.hidden_up_to = Some(last);
                if last > 0 {
                    self.sender_read(batch, pending, conv, &c.user, last, c.now_ms, &members)?;
                }
            }
            SettingOp::Archive(_, archived) => settings.archived = archived,
            SettingOp::Mute(_, until) => settings.muted_until_ms = until,
            SettingOp::Block(_) | SettingOp::Unblock(_) => {}
        }
        batch.put_cf(&self.store.cf(keys::SETTINGS)?, keys::user_conv_key(&c.user, conv), encode(&settings));
        pending.settings.insert(key, settings);
        pending.events.push(Committed::ConvChanged {
            conv,
            change: ConvChange::SettingsChanged,
            actor: c.user.clone(),
            users: vec![c.user.clone()],
            at_ms: c.now_ms,
            audience: vec![c.user].into(),
        });
        Ok(())
    }

    fn set_block(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        blocker: UserId,
        blocked: UserId,
        block: bool,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        if blocker == blocked {
            return Err(StoreError::Invalid("you cannot block yourself".into()));
        }
        if blocked.is_empty() {
            return Err(StoreError::Invalid("user_id is required".into()));
        }
        let cf = self.store.cf(keys::BLOCKS)?;
        let key = keys::block_key(&blocker, &blocked);
        if block {
            batch.put_cf(&cf, key, keys::u64_key(now_ms));
        } else {
            batch.delete_cf(&cf, key);
        }
        pending.blocks.insert((blocker.clone(), blocked.clone()), block);
        self.note_block(&blocker, &blocked, block);
        // The blocker's devices learn through their direct conversation with that user, if there is one.
        if let Some(conv) = self.store.direct(&keys::direct_key(&blocker, &blocked, None))? {
            pending.events.push(Committed::ConvChanged {
                conv,
                change: ConvChange::BlockChanged,
                actor: blocker.clone(),
                users: vec![blocked],
                at_ms: now_ms,
                audience: vec![blocker].into(),
            });
        }
        Ok(())
    }
}
