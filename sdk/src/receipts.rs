//! Automatic delivery receipts: which messages reached the app and are not reported yet.
//!
//! The [`crate::EventStream`] notes each message as the app takes it (so "delivered" means the app has
//! it, not that it sits in a buffer); the connection task sends one `MarkDelivered` per conversation for
//! the highest of them, with request id 0 (no reply), at most once per [`REPORT_INTERVAL`] — never one per
//! message under load. The user's own messages (which their devices are given too) are not noted: that
//! a sender's device has what it sent tells nobody anything, and reporting it would cost every message
//! a `MarkDelivered` and a receipt event to the other members.
//!
//! Concurrency: the map sits behind a `std` mutex held only for an insert or a drain, never across an
//! `.await`; a `Notify` wakes the connection task when something new is noted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use crate::sync::lock;

/// The shortest time between two reports (each covers every conversation with news).
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// Per conversation, the highest seq the app took and the broker was not told about yet.
#[derive(Debug, Default)]
pub(crate) struct DeliveryReports {
    pending: Mutex<Pending>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    /// The session's user (from `Welcome`): their own messages are not reported.
    me: String,
    seqs: HashMap<u64, u64>,
}

impl DeliveryReports {
    /// The session is `user`'s (called on every `Welcome`).
    pub(crate) fn set_user(&self, user: &str) {
        let mut pending = lock(&self.pending);
        if pending.me != user {
            user.clone_into(&mut pending.me);
        }
    }

    /// The app took message `seq` of `conv`, sent by `sender`.
    pub(crate) fn note(&self, conv: u64, seq: u64, sender: &str) {
        {
            let mut pending = lock(&self.pending);
            if !pending.me.is_empty() && pending.me == sender {
                return;
            }
            let entry = pending.seqs.entry(conv).or_insert(0);
            if seq <= *entry {
                return;
            }
            *entry = seq;
        }
        self.wake.notify_one();
    }

    /// Everything to report, by conversation id; the map is left empty.
    pub(crate) fn take(&self) -> Vec<(u64, u64)> {
        let mut all: Vec<(u64, u64)> = lock(&self.pending).seqs.drain().collect();
        all.sort_unstable();
        all
    }

    /// Puts back reports that could not be sent (a newer note for the same conversation wins).
    pub(crate) fn restore(&self, reports: impl IntoIterator<Item = (u64, u64)>) {
        let mut restored = false;
        {
            let mut pending = lock(&self.pending);
            for (conv, seq) in reports {
                let entry = pending.seqs.entry(conv).or_insert(0);
                *entry = (*entry).max(seq);
                restored = true;
            }
        }
        if restored {
            self.wake.notify_one();
        }
    }

    /// Whether anything waits to be reported.
    pub(crate) fn has_pending(&self) -> bool {
        !lock(&self.pending).seqs.is_empty()
    }

    /// Resolves once something was noted since the last call (at once if it already was).
    pub(crate) async fn noted(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_coalesce_per_conversation_and_wake_once() {
        let reports = DeliveryReports::default();
        reports.set_user("me");
        for seq in 1..=500 {
            reports.note(7, seq, "bob");
        }
        reports.note(3, 2, "bob");
        reports.note(7, 100, "bob"); // older: ignored
        reports.note(4, 9, "me"); // one's own: not reported
        tokio::time::timeout(Duration::from_secs(1), reports.noted()).await.unwrap();
        assert_eq!(reports.take(), vec![(3, 2), (7, 500)]);
        assert!(reports.take().is_empty() && !reports.has_pending());
        reports.note(7, 501, "bob");
        reports.restore([(7, 499), (9, 4)]);
        assert_eq!(reports.take(), vec![(7, 501), (9, 4)]);
    }
}
