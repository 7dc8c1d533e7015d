//! Who sees a receipt. In a small conversation every member sees every receipt: ticks in a 1:1, "seen
//! by" rows in a small group. In a large one that is quadratic — each of N members' delivered marks
//! would go to all N members, a million events for one message to a group of 1 000 — so a receipt goes
//! to the marking user's own devices and to the senders of the messages it newly covers, the people
//! whose ticks it changes. Everyone else can still ask `GetReceipts`.
//!
//! The senders of a large conversation's newest messages are remembered here as they are committed, so
//! a receipt for a message just delivered costs no read; older ones are read from the store.
//!
//! Concurrency: used only by the writer thread (fan-out runs there after each commit), so the mutex
//! is never contended; it is only what makes the publisher `Sync`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use quip_store::Store;
use quip_store::model::{ConvId, Seq, UserId};

/// Senders remembered per large conversation (its newest messages).
const RECENT_PER_CONV: usize = 64;
/// Large conversations remembered; past it the memory starts over (senders are then read once).
const MAX_CONVS: usize = 10_000;
/// A receipt covering more messages than this looks up the senders of its newest this many only.
const MAX_COVERED: Seq = 64;

pub struct ReceiptAudience {
    broadcast_max_members: usize,
    recent: Mutex<HashMap<ConvId, VecDeque<(Seq, UserId)>>>,
}

impl ReceiptAudience {
    /// Receipts go to every member of conversations with at most `broadcast_max_members` members.
    pub fn new(broadcast_max_members: usize) -> Self {
        Self { broadcast_max_members, recent: Mutex::new(HashMap::new()) }
    }

    fn recent(&self) -> MutexGuard<'_, HashMap<ConvId, VecDeque<(Seq, UserId)>>> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers who sent `seq` of `conv` (committed messages, in commit order).
    pub fn note_message(&self, conv: ConvId, seq: Seq, sender: &UserId, members: usize) {
        if members <= self.broadcast_max_members {
            return;
        }
        let mut recent = self.recent();
        if recent.len() >= MAX_CONVS && !recent.contains_key(&conv) {
            recent.clear();
        }
        let ring = recent.entry(conv).or_default();
        if ring.len() == RECENT_PER_CONV {
            ring.pop_front();
        }
        ring.push_back((seq, sender.clone()));
    }

    /// Who is told that `user` moved a watermark of `conv` from `from` to `up_to`.
    pub fn audience(
        &self,
        store: &Store,
        conv: ConvId,
        user: &UserId,
        from: Seq,
        up_to: Seq,
        members: &Arc<[UserId]>,
    ) -> Arc<[UserId]> {
        if members.len() <= self.broadcast_max_members {
            return members.clone();
        }
        let first = from.max(up_to.saturating_sub(MAX_COVERED)).saturating_add(1);
        let mut senders: Vec<UserId> = Vec::new();
        let mut unknown = Vec::new();
        {
            let recent = self.recent();
            let ring = recent.get(&conv);
            for seq in first..=up_to {
                let known = ring.and_then(|r| r.binary_search_by_key(&seq, |(s, _)| *s).ok().map(|i| &r[i].1));
                match known {
                    Some(sender) if !senders.contains(sender) => senders.push(sender.clone()),
                    Some(_) => {}
                    None => unknown.push(seq),
                }
            }
        }
        for seq in unknown {
            match store.message(conv, seq) {
                Ok(Some(msg)) if !senders.contains(&msg.sender.id) => senders.push(msg.sender.id),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, conv, seq, "sender of a receipted message not read"),
            }
        }
        // Someone who has left since sending is not told; the marking user's other devices always are.
        let mut audience = vec![user.clone()];
        audience.extend(senders.into_iter().filter(|s| s != user && members.contains(s)));
        audience.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience_of(
        a: &ReceiptAudience,
        store: &Store,
        user: &str,
        from: Seq,
        to: Seq,
        members: &[&str],
    ) -> Vec<String> {
        let members: Arc<[UserId]> = members.iter().map(|m| (*m).to_owned()).collect();
        a.audience(store, 1, &user.to_owned(), from, to, &members).to_vec()
    }

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), &crate::config::StoreConfig::default()).expect("store");
        (dir, store)
    }

    #[test]
    fn small_conversations_tell_every_member() {
        let (_dir, store) = temp_store();
        let a = ReceiptAudience::new(3);
        assert_eq!(audience_of(&a, &store, "b", 0, 1, &["a", "b", "c"]), ["a", "b", "c"]);
    }

    #[test]
    fn large_conversations_tell_the_user_and_the_senders_covered() {
        let (_dir, store) = temp_store();
        let a = ReceiptAudience::new(2);
        let members = ["a", "b", "c", "d"];
        for (seq, sender) in [(1, "a"), (2, "c"), (3, "a"), (4, "b")] {
            a.note_message(1, seq, &sender.to_owned(), members.len());
        }
        assert_eq!(audience_of(&a, &store, "d", 0, 3, &members), ["d", "a", "c"]);
        assert_eq!(audience_of(&a, &store, "d", 2, 3, &members), ["d", "a"]);
        // The user's own message in the range: they are told once.
        assert_eq!(audience_of(&a, &store, "b", 3, 4, &members), ["b"]);
        // A sender who has left is not told.
        assert_eq!(audience_of(&a, &store, "d", 1, 2, &["a", "b", "d"]), ["d"]);
    }

    #[test]
    fn forgotten_senders_are_looked_up_and_missing_ones_skipped() {
        let (_dir, store) = temp_store();
        let a = ReceiptAudience::new(1);
        for seq in 1..=(RECENT_PER_CONV as Seq + 10) {
            a.note_message(1, seq, &format!("u{}", seq % 2), 3);
        }
        // Seq 1..=10 fell out of memory and the (empty) store has no such messages.
        assert_eq!(audience_of(&a, &store, "x", 0, 10, &["u0", "u1", "x"]), ["x"]);
        assert_eq!(audience_of(&a, &store, "x", 10, 12, &["u0", "u1", "x"]), ["x", "u1", "u0"]);
    }
}
