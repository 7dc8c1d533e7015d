//! Watches: a session may ask to hear about users it shares no conversation with (`WatchPresence`).
//! A watch belongs to the session that asked (not to the user's other devices) and ends with it.
//!
//! Two maps, each sharded: watched user → the sessions watching them (read when an event goes out), and
//! session → the users it watches (so its watches can be dropped when it ends). Locks are taken in that
//! order only (session map, then watched map), each for a few map operations, never across `.await`.

use std::collections::HashSet;

use super::{Inner, Presence};
use crate::hub::Outbound;
use quip_store::model::UserId;

/// How many users one session may watch.
pub const MAX_WATCHES_PER_SESSION: usize = 1_000;

/// Why a watch request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error("a session may watch at most {MAX_WATCHES_PER_SESSION} users")]
    TooMany,
}

impl Presence {
    /// Session `session_id` of `watcher` starts (or, with `unwatch`, stops) watching `users`.
    pub fn watch(&self, session_id: u64, watcher: &str, users: &[UserId], unwatch: bool) -> Result<(), WatchError> {
        let mut watching = self.inner.watching.lock(&session_id);
        let set = watching.entry(session_id).or_default();
        if unwatch {
            for user in users {
                if set.remove(user) {
                    self.inner.remove_watcher(user, session_id);
                }
            }
            if set.is_empty() {
                watching.remove(&session_id);
            }
            return Ok(());
        }
        let new: HashSet<&UserId> = users.iter().filter(|u| *u != watcher && !set.contains(*u)).collect();
        if set.len() + new.len() > MAX_WATCHES_PER_SESSION {
            return Err(WatchError::TooMany);
        }
        for user in new {
            set.insert(user.clone());
            self.inner
                .watchers
                .lock(user.as_str())
                .entry(user.clone())
                .or_default()
                .push((watcher.to_owned(), session_id));
        }
        Ok(())
    }

    /// The session ended: so do its watches.
    pub(super) fn end_watches(&self, session_id: u64) {
        let Some(set) = self.inner.watching.lock(&session_id).remove(&session_id) else { return };
        for user in set {
            self.inner.remove_watcher(&user, session_id);
        }
    }
}

impl Inner {
    /// Pushes `out` to the sessions watching `user`, except those whose user is in `audience` (sorted:
    /// they got it already) and the user's own; returns how many sessions got it.
    pub(super) fn push_to_watchers(&self, user: &str, out: &Outbound, audience: &[UserId]) -> usize {
        let watchers = self.watchers.lock(user).get(user).cloned().unwrap_or_default();
        let mut sessions = 0;
        for (watcher, session_id) in watchers {
            if watcher == user || audience.binary_search(&watcher).is_ok() {
                continue;
            }
            let handle =
                self.hub.sessions_of(&watcher).and_then(|s| s.iter().find(|h| h.session_id == session_id).cloned());
            match handle {
                Some(h) => sessions += usize::from(h.push(out.clone())),
                // The watching session is gone (its watch raced with its end): forget it.
                None => self.remove_watcher(user, session_id),
            }
        }
        sessions
    }

    fn remove_watcher(&self, user: &str, session_id: u64) {
        let mut shard = self.watchers.lock(user);
        if let Some(list) = shard.get_mut(user) {
            list.retain(|(_, s)| *s != session_id);
            if list.is_empty() {
                shard.remove(user);
            }
        }
    }
}
