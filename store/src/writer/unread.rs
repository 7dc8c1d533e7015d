//! Unread counts after a batch, for the readers whose read watermark it moved: computed on the writer
//! thread right after the batch is durable and before the next one, so each count matches the committed
//! state, and from the writer's own write-through caches (each reader's conversations, the heads, the
//! watermarks), so a read receipt costs no RocksDB read for a user whose conversations are all read.
//! Only messages past a read watermark need the store: those deleted for everyone or hidden are not
//! unread.

use super::cmd::{Committed, Publish};
use super::state::State;
use crate::StoreError;
use crate::model::{ConvId, UserId, Watermarks};

impl State {
    /// One `Committed::Unread` per (reader, conversation) of `moved` whose reader the publisher can reach.
    pub(super) fn unread_events(&mut self, moved: Vec<(UserId, ConvId)>, publisher: &impl Publish) -> Vec<Committed> {
        let mut out = Vec::new();
        for (user, conv) in moved {
            if !publisher.reaches(&user) {
                continue;
            }
            match self.unread_of(&user, conv) {
                Ok((unread, total)) => out.push(Committed::Unread { user, conv, unread, total }),
                Err(e) => tracing::warn!(error = %e, user = %user.escape_debug(), conv, "unread count not published"),
            }
        }
        out
    }

    /// `user`'s unread count in `conv` and their total over every conversation.
    fn unread_of(&mut self, user: &str, conv: ConvId) -> Result<(u32, u32), StoreError> {
        let (mut unread, mut total) = (0u32, 0u32);
        for c in self.user_convs_of(user)? {
            let head = self.head_of(c)?;
            let marks = self.watermarks_of(c, user)?;
            let n = self.store.unread_in(c, user, &head, &marks)?;
            total = total.saturating_add(n);
            if c == conv {
                unread = n;
            }
        }
        Ok((unread, total))
    }

    fn user_convs_of(&mut self, user: &str) -> Result<Vec<ConvId>, StoreError> {
        if let Some(convs) = self.user_convs.get(user) {
            return Ok(convs.clone());
        }
        let convs = self.store.user_convs(user)?;
        self.user_convs.insert(user.to_owned(), convs.clone());
        Ok(convs)
    }

    fn watermarks_of(&mut self, conv: ConvId, user: &str) -> Result<Watermarks, StoreError> {
        let key = (conv, user.to_owned());
        if let Some(w) = self.receipts.get(&key) {
            return Ok(*w);
        }
        let marks = self.store.watermarks(conv, user)?;
        self.receipts.insert(key, marks);
        Ok(marks)
    }

    /// Keeps the conversation-list cache in step with a membership written in the current batch.
    pub(super) fn note_user_conv(&mut self, user: &str, conv: ConvId, member: bool) {
        if let Some(convs) = self.user_convs.get_mut(user) {
            match (convs.binary_search(&conv), member) {
                (Err(at), true) => convs.insert(at, conv),
                (Ok(at), false) => {
                    convs.remove(at);
                }
                _ => {}
            }
        }
    }
}
