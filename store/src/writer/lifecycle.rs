//! The writer's half of a message's life after it was sent: edits, deletions (for everyone: the record
//! becomes a tombstone; for one user: a `hidden` row), reactions, and the reply preview taken when a
//! reply is appended.
//!
//! Everything is decided on the writer thread, so an edit cannot race with a deletion of the same
//! message and two reactions to one message build on each other; what a batch rewrote is kept in
//! `Pending` until it commits, so later commands of the same batch see it.

use std::sync::Arc;

use rocksdb::WriteBatch;

use super::cmd::{Committed, Reply, WriteCmd};
use super::handle::Writer;
use super::requests::{Delete, Edit, ReactTo};
use super::state::{Pending, State};
use crate::keys::{self, msg_key};
use crate::model::{ConvId, ConvKind, ReactionRec, ReplyPreviewRec, Role, Seq, StoredMessage, UserId};
use crate::{Store, StoreError, decode, encode};

/// How long after sending a message its sender may still edit it.
pub const EDIT_WINDOW_MS: u64 = 15 * 60 * 1000;

impl Writer {
    /// Edits a message; returns once the edit is durable.
    pub async fn edit(&self, edit: Edit) -> Result<(), StoreError> {
        self.call(|reply: Reply<()>| WriteCmd::Edit { edit, reply }).await
    }

    /// Deletes (or hides) a message; returns once the deletion is durable.
    pub async fn delete(&self, delete: Delete) -> Result<(), StoreError> {
        self.call(|reply: Reply<()>| WriteCmd::Delete { delete, reply }).await
    }

    /// Adds or removes a reaction; returns once the change is durable.
    pub async fn react(&self, react: ReactTo) -> Result<(), StoreError> {
        self.call(|reply: Reply<()>| WriteCmd::React { react, reply }).await
    }
}

impl Store {
    /// The reactions on one message, in the order each emoji was first used.
    pub fn reactions(&self, conv: ConvId, seq: Seq) -> Result<Vec<ReactionRec>, StoreError> {
        let cf = self.cf(keys::REACTIONS)?;
        Ok(self
            .db
            .get_cf(&cf, keys::reactions_key(conv, seq))?
            .map(|v| decode(&v, "reactions"))
            .transpose()?
            .unwrap_or_default())
    }

    /// Whether `user` deleted message `seq` of `conv` for themselves.
    pub fn is_hidden(&self, user: &str, conv: ConvId, seq: Seq) -> Result<bool, StoreError> {
        let cf = self.cf(keys::HIDDEN)?;
        Ok(self.db.get_pinned_cf(&cf, keys::hidden_key(user, conv, seq))?.is_some())
    }
}

impl State {
    /// A message as this batch left it: rewritten earlier in the batch, or as committed. A member
    /// check is included: NotFound unless `user` is a member of the message's conversation.
    fn load_message(
        &mut self,
        pending: &Pending,
        msg_id: u64,
        user: &str,
    ) -> Result<(StoredMessage, Arc<[UserId]>), StoreError> {
        let (conv, seq) = self.store.locate(msg_id)?.ok_or(StoreError::NotFound)?;
        let members = self.members_of(conv)?;
        if !members.iter().any(|m| m == user) {
            return Err(StoreError::NotFound);
        }
        let msg = match pending.msgs.get(&(conv, seq)) {
            Some(m) => m.clone(),
            None => self.store.message(conv, seq)?.ok_or(StoreError::NotFound)?,
        };
        Ok((msg, members))
    }

    fn put_message(&self, batch: &mut WriteBatch, pending: &mut Pending, msg: StoredMessage) -> Result<(), StoreError> {
        batch.put_cf(&self.store.cf(keys::MSGS)?, msg_key(msg.conv, msg.seq), encode(&msg));
        pending.msgs.insert((msg.conv, msg.seq), msg);
        Ok(())
    }

    /// Checks a send's `reply_to` (a message of the same conversation) and returns the preview to store
    /// with the reply. A message appended earlier in the same batch is accepted without a preview.
    pub(super) fn reply_preview(
        &mut self,
        pending: &Pending,
        conv: ConvId,
        reply_to: u64,
    ) -> Result<Option<ReplyPreviewRec>, StoreError> {
        if reply_to == 0 {
            return Ok(None);
        }
        let wrong = || StoreError::Invalid("reply_to must name a message of the same conversation".into());
        if pending.msg_locations.get(&reply_to) == Some(&conv) {
            return Ok(None);
        }
        let (c, seq) = self.store.locate(reply_to)?.ok_or_else(wrong)?;
        if c != conv {
            return Err(wrong());
        }
        let replied = match pending.msgs.get(&(c, seq)) {
            Some(m) => Some(m.clone()),
            None => self.store.message(c, seq)?,
        };
        Ok(replied.as_ref().map(ReplyPreviewRec::of))
    }

    /// An EditMessage: its sender only, within `EDIT_WINDOW_MS`, never on a tombstone.
    pub(super) fn edit(&mut self, batch: &mut WriteBatch, pending: &mut Pending, e: Edit) -> Result<(), StoreError> {
        let (mut msg, members) = self.load_message(pending, e.msg_id, &e.user)?;
        if msg.deleted {
            return Err(StoreError::NotFound);
        }
        if msg.sender.id != e.user {
            return Err(StoreError::Forbidden("only the sender may edit a message"));
        }
        if e.now_ms.saturating_sub(msg.created_at_ms) > EDIT_WINDOW_MS {
            return Err(StoreError::EditWindowClosed);
        }
        msg.text = e.text;
        msg.edited_at_ms = e.now_ms.max(msg.created_at_ms);
        self.put_message(batch, pending, msg.clone())?;
        pending.events.push(Committed::Edited { msg: Arc::new(msg), members });
        Ok(())
    }

    /// A DeleteMessage. For everyone: its sender, or a group's admin or owner; the record becomes a
    /// tombstone (text, attachments, metadata and quoted preview purged, seq kept), its reactions go,
    /// and a `deleted` row keeps unread counts right. For me: any member; a `hidden` row.
    pub(super) fn delete(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        d: Delete,
    ) -> Result<(), StoreError> {
        let (mut msg, members) = self.load_message(pending, d.msg_id, &d.user)?;
        let (conv, seq) = (msg.conv, msg.seq);
        if !d.for_everyone {
            batch.put_cf(&self.store.cf(keys::HIDDEN)?, keys::hidden_key(&d.user, conv, seq), []);
            if msg.sender.id == d.user {
                // Hidden already keeps it out of its sender's unread count: it must not count twice.
                batch.delete_cf(&self.store.cf(keys::SENT)?, keys::sent_key(&d.user, conv, seq));
            }
            pending.events.push(Committed::Deleted {
                conv,
                msg_id: msg.id,
                seq,
                for_everyone: false,
                by: d.user.clone(),
                at_ms: d.now_ms,
                audience: Arc::from(vec![d.user]),
            });
            return Ok(());
        }
        if msg.sender.id != d.user && !self.may_moderate(conv, &d.user)? {
            return Err(StoreError::Forbidden("only the sender or a group admin may delete this message for everyone"));
        }
        if msg.deleted {
            // Already a tombstone: nothing to do, nothing to tell.
            return Ok(());
        }
        msg.deleted = true;
        msg.text = String::new();
        msg.attachments = Vec::new();
        msg.metadata = Vec::new();
        msg.reply_preview = None;
        let msg_id = msg.id;
        let sender = msg.sender.id.clone();
        self.put_message(batch, pending, msg)?;
        batch.put_cf(&self.store.cf(keys::DELETED)?, keys::deleted_key(conv, seq), []);
        // Deleted rows already keep it out of every unread count, its sender's included.
        batch.delete_cf(&self.store.cf(keys::SENT)?, keys::sent_key(&sender, conv, seq));
        batch.delete_cf(&self.store.cf(keys::REACTIONS)?, keys::reactions_key(conv, seq));
        pending.reactions.insert((conv, seq), Vec::new());
        pending.events.push(Committed::Deleted {
            conv,
            msg_id,
            seq,
            for_everyone: true,
            by: d.user,
            at_ms: d.now_ms,
            audience: members,
        });
        Ok(())
    }

    /// Whether `user` may delete others' messages in `conv`: an admin or owner of a group.
    fn may_moderate(&self, conv: ConvId, user: &str) -> Result<bool, StoreError> {
        let is_group = self.store.conv_meta(conv)?.is_some_and(|m| m.kind == ConvKind::Group);
        let role = self.store.member(conv, user)?.map(|m| m.role);
        Ok(is_group && matches!(role, Some(Role::Admin | Role::Owner)))
    }

    /// A React: any member, on a message that is not a tombstone. Adding twice or removing what is not
    /// there changes nothing and tells nobody.
    pub(super) fn react(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        r: ReactTo,
    ) -> Result<(), StoreError> {
        let (msg, members) = self.load_message(pending, r.msg_id, &r.user)?;
        if msg.deleted {
            return Err(StoreError::NotFound);
        }
        let key = (msg.conv, msg.seq);
        let mut set = match pending.reactions.get(&key) {
            Some(s) => s.clone(),
            None => self.store.reactions(msg.conv, msg.seq)?,
        };
        let changed = if r.remove {
            remove_reaction(&mut set, &r.emoji, &r.user)
        } else {
            add_reaction(&mut set, &r.emoji, &r.user)
        };
        if !changed {
            return Ok(());
        }
        let cf = self.store.cf(keys::REACTIONS)?;
        if set.is_empty() {
            batch.delete_cf(&cf, keys::reactions_key(msg.conv, msg.seq));
        } else {
            batch.put_cf(&cf, keys::reactions_key(msg.conv, msg.seq), encode(&set));
        }
        pending.reactions.insert(key, set.clone());
        pending.events.push(Committed::Reacted {
            conv: msg.conv,
            msg_id: msg.id,
            user: r.user,
            emoji: r.emoji,
            removed: r.remove,
            reactions: set,
            members,
        });
        Ok(())
    }
}

/// Adds `user` under `emoji`; false when they were there already.
fn add_reaction(set: &mut Vec<ReactionRec>, emoji: &str, user: &str) -> bool {
    match set.iter_mut().find(|r| r.emoji == emoji) {
        Some(r) if r.users.iter().any(|u| u == user) => false,
        Some(r) => {
            r.users.push(user.to_owned());
            true
        }
        None => {
            set.push(ReactionRec { emoji: emoji.to_owned(), users: vec![user.to_owned()] });
            true
        }
    }
}

/// Removes `user` from `emoji` (and the emoji when nobody is left); false when they were not there.
fn remove_reaction(set: &mut Vec<ReactionRec>, emoji: &str, user: &str) -> bool {
    let Some(i) = set.iter().position(|r| r.emoji == emoji) else { return false };
    let Some(r) = set.get_mut(i) else { return false };
    let before = r.users.len();
    r.users.retain(|u| u != user);
    let changed = r.users.len() != before;
    if r.users.is_empty() {
        set.remove(i);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_add_idempotently_and_remove_empty_emoji() {
        let mut set = Vec::new();
        assert!(add_reaction(&mut set, "👍", "a"));
        assert!(!add_reaction(&mut set, "👍", "a"));
        assert!(add_reaction(&mut set, "👍", "b"));
        assert!(add_reaction(&mut set, "🎉", "a"));
        assert_eq!(set.len(), 2);
        assert_eq!(set[0].users, ["a", "b"]);
        assert!(remove_reaction(&mut set, "🎉", "a"));
        assert!(!remove_reaction(&mut set, "🎉", "a"));
        assert_eq!(set.len(), 1);
    }
}
