//! Automatic delivery receipts: which messages reached the app and are not reported yet.
//!
//! The [`crate::EventStream`] notes each message as the app takes it (so "delivered" means the app has
//! it, not that it sits in a buffer); the connection task sends one `MarkDelivered` per conversation for
//! the highest of them, with request id 0 (no reply), at most once per [`REPORT_INTERVAL`] — never one per
//! message under load.
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
    pending: Mutex<HashMap<u64, u64>>,
    wake: Notify,
}

impl DeliveryReports {
    /// The app took message `seq` of `conv`.
    pub(crate) fn note(&self, conv: u64, seq: u64) {
        {
            let mut pending = lock(&self.pending);
            let entry = pending.entry(conv).or_insert(0);
            if seq <= *entry {
                return;
            }
            *entry = seq;
        }
        self.wake.notify_one();
    }

    /// Everything to report, by conversation id; the map is left empty.
    pub(crate) fn take(&self) -> Vec<(u64, u64)> {
        let mut all: Vec<(u64, u64)> = lock(&self.pending).drain().collect();
        all.sort_unstable();
        all
    }

    /// Puts back reports that could not be sent (a newer note for the same conversation wins).
    pub(crate) fn restore(&self, reports: impl IntoIterator<Item = (u64, u64)>) {
        let mut restored = false;
        {
            let mut pending = lock(&self.pending);
            for (conv, seq) in reports {
                let entry = pending.entry(conv).or_insert(0);
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
        !lock(&self.pending).is_empty()
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
        for seq in 1..=500 {
            reports.note(7, seq);
        }
        reports.note(3, 2);
        reports.note(7, 100); // older: ignored
        tokio::time::timeout(Duration::from_secs(1), reports.noted()).await.unwrap();
        assert_eq!(reports.take(), vec![(3, 2), (7, 500)]);
        assert!(reports.take().is_empty() && !reports.has_pending());
        reports.note(7, 501);
        reports.restore([(7, 499), (9, 4)]);
        assert_eq!(reports.take(), vec![(7, 501), (9, 4)]);
    }
}
