//! Typing indicators: coalesced and rate-limited per (user, conversation), forwarded only to the other
//! members' online devices, never stored.
//!
//! A client sends `Typing{active: true}` on about every keystroke. The first one is forwarded; further
//! refreshes are forwarded at most once per [`TYPING_REFRESH`], and each forwarded one tells recipients to
//! hide the indicator after [`TYPING_EXPIRES_MS`] without a refresh. `Typing{active: false}` is forwarded
//! only if an active signal was forwarded and has not expired yet. Typing events always travel on the
//! event stream for now (QUIC datagrams are not used yet); like every ephemeral event, a full session
//! queue drops them.

use std::time::{Duration, Instant};

use quip_protocol::family::presence::TypingEvent;

use super::Presence;
use crate::hub::Outbound;
use crate::wire::frame;
use quip_store::model::{ConvId, UserId};

/// At most one active typing signal per (user, conversation) is forwarded within this time.
pub const TYPING_REFRESH: Duration = Duration::from_secs(2);
/// Recipients hide the indicator after this long without a refresh (ms).
pub const TYPING_EXPIRES_MS: u32 = 6_000;
const EXPIRES: Duration = Duration::from_millis(TYPING_EXPIRES_MS as u64);
/// A shard forgets expired entries when it holds more than this many.
const PRUNE_AT: usize = 4096;

impl Presence {
    /// Whether a typing signal of `user` in `conv` is to be forwarded now. If so, it is counted as
    /// forwarded and the returned stamp can undo that ([`Presence::typing_undo`]) when the signal turns
    /// out to be refused (the user is not a member).
    pub fn typing_gate(&self, user: &str, conv: ConvId, active: bool, now: Instant) -> Option<Instant> {
        let key = (user.to_owned(), conv);
        let mut shard = self.inner.typing.forwarded.lock(&key);
        if shard.len() > PRUNE_AT {
            shard.retain(|_, at| now.saturating_duration_since(*at) < EXPIRES);
        }
        if active {
            match shard.get(&key) {
                Some(at) if now.saturating_duration_since(*at) < TYPING_REFRESH => None,
                _ => {
                    shard.insert(key, now);
                    Some(now)
                }
            }
        } else {
            shard.remove(&key).filter(|at| now.saturating_duration_since(*at) < EXPIRES).map(|_| now)
        }
    }

    /// Forgets an active signal counted by [`Presence::typing_gate`] at `stamp`.
    pub fn typing_undo(&self, user: &str, conv: ConvId, stamp: Instant) {
        let key = (user.to_owned(), conv);
        let mut shard = self.inner.typing.forwarded.lock(&key);
        if shard.get(&key) == Some(&stamp) {
            shard.remove(&key);
        }
    }

    /// Pushes one TypingEvent (encoded once) to the online sessions of `recipients`; returns how many
    /// sessions got it.
    pub fn typing_forward(&self, recipients: &[UserId], conv: ConvId, user: &str, active: bool) -> usize {
        let event = TypingEvent {
            conversation_id: conv,
            user_id: user.to_owned(),
            active,
            expires_in_ms: if active { TYPING_EXPIRES_MS } else { 0 },
            display_name: self.card(user).and_then(|c| c.display_name.clone()),
        };
        let n = self.inner.hub.deliver(recipients, &Outbound::Event(frame(0, event)));
        metrics::counter!("quip_typing_events_total").increment(1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;
    use crate::presence::PresenceConfig;
    use std::sync::Arc;

    fn presence() -> (Presence, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = quip_store::Store::open(dir.path(), &crate::config::StoreConfig::default()).unwrap();
        (Presence::new(store, Arc::new(Hub::default()), PresenceConfig::default(), Vec::new()), dir)
    }

    #[test]
    fn refreshes_are_coalesced_and_stop_needs_a_start() {
        let (p, _dir) = presence();
        let t0 = Instant::now();
        assert!(p.typing_gate("a", 1, false, t0).is_none(), "no stop without a start");
        assert!(p.typing_gate("a", 1, true, t0).is_some());
        for ms in [1, 500, 1999] {
            assert!(p.typing_gate("a", 1, true, t0 + Duration::from_millis(ms)).is_none());
        }
        assert!(p.typing_gate("b", 1, true, t0).is_some(), "per user");
        assert!(p.typing_gate("a", 2, true, t0).is_some(), "per conversation");
        assert!(p.typing_gate("a", 1, true, t0 + TYPING_REFRESH).is_some());
        assert!(p.typing_gate("a", 1, false, t0 + TYPING_REFRESH).is_some());
        assert!(p.typing_gate("a", 1, false, t0 + TYPING_REFRESH).is_none(), "one stop");
        // A stop after the indicator expired by itself is not forwarded.
        assert!(p.typing_gate("a", 2, false, t0 + EXPIRES).is_none());
    }

    #[test]
    fn a_refused_signal_is_undone() {
        let (p, _dir) = presence();
        let t0 = Instant::now();
        let stamp = p.typing_gate("a", 1, true, t0).unwrap();
        p.typing_undo("a", 1, stamp);
        assert!(p.typing_gate("a", 1, true, t0).is_some());
    }
}
