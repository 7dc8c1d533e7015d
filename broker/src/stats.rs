//! Live counters for the admin API's `/v1/stats` (the seeds' websocket-stats): connections, messages per
//! second, conversations active in the last minute. Prometheus has the same and more as time series; these
//! are the numbers an operator asks for right now.
//!
//! The writer thread notes each stored message (an atomic add and, once per conversation per minute, a
//! short lock); the upkeep task turns them into rates every few seconds.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use quip_store::model::ConvId;

/// The window over which conversations count as active.
const ACTIVE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Stats {
    connections: AtomicU64,
    messages: AtomicU64,
    /// Messages per second over the last upkeep interval, in thousandths.
    rate_milli: AtomicU64,
    /// Conversations with a message in the last complete window.
    active_last: AtomicU64,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    convs: HashSet<ConvId>,
    last_sample: Instant,
    last_messages: u64,
}

impl Default for Stats {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            connections: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            rate_milli: AtomicU64::new(0),
            active_last: AtomicU64::new(0),
            window: Mutex::new(Window { started: now, convs: HashSet::new(), last_sample: now, last_messages: 0 }),
        }
    }
}

/// Counts a connection until dropped.
#[derive(Debug)]
pub struct ConnectionGuard<'a>(&'a Stats);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What `/v1/stats` reports.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Snapshot {
    pub connections: u64,
    pub sessions: u64,
    pub users_online: u64,
    pub messages_total: u64,
    pub messages_per_second: f64,
    pub active_conversations: u64,
}

impl Stats {
    pub fn connection(&self) -> ConnectionGuard<'_> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self)
    }

    /// A message of `conv` was stored.
    pub fn note_message(&self, conv: ConvId) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.window.lock().unwrap_or_else(PoisonError::into_inner).convs.insert(conv);
    }

    /// Updates the rates; called every few seconds.
    pub fn upkeep(&self) {
        let now = Instant::now();
        let total = self.messages.load(Ordering::Relaxed);
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = now.duration_since(w.last_sample).as_secs_f64();
        if elapsed > 0.0 {
            let rate = (total - w.last_messages) as f64 / elapsed;
            self.rate_milli.store((rate * 1000.0) as u64, Ordering::Relaxed);
        }
        w.last_sample = now;
        w.last_messages = total;
        if now.duration_since(w.started) >= ACTIVE_WINDOW {
            self.active_last.store(w.convs.len() as u64, Ordering::Relaxed);
            w.convs.clear();
            w.started = now;
        }
    }

    pub fn snapshot(&self, sessions: usize, users_online: usize) -> Snapshot {
        let current = self.window.lock().unwrap_or_else(PoisonError::into_inner).convs.len() as u64;
        Snapshot {
            connections: self.connections.load(Ordering::Relaxed),
            sessions: sessions as u64,
            users_online: users_online as u64,
            messages_total: self.messages.load(Ordering::Relaxed),
            messages_per_second: self.rate_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            // The busier of the last complete minute and the one in progress.
            active_conversations: current.max(self.active_last.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_connections_messages_and_active_conversations() {
        let stats = Stats::default();
        let a = stats.connection();
        let b = stats.connection();
        drop(a);
        for conv in [1, 2, 2, 3] {
            stats.note_message(conv);
        }
        let s = stats.snapshot(5, 4);
        assert_eq!((s.connections, s.sessions, s.users_online), (1, 5, 4));
        assert_eq!((s.messages_total, s.active_conversations), (4, 3));
        drop(b);
        assert_eq!(stats.snapshot(0, 0).connections, 0);
    }
}
