//! The routing table: which sessions each online user has, and fan-out to them.
//!
//! Concurrency: the table is split into shards, each a `RwLock<HashMap<user, Arc<[SessionHandle]>>>`.
//! A delivery takes a shard's read lock only long enough to clone one `Arc` (a reference count), then
//! pushes to the sessions' queues with the lock released; no lock is ever held across `.await` or
//! while pushing. Registering a session copies that user's small slice under the write lock.
//!
//! Slow consumers: every session has a bounded queue. When a push finds it full, the frame is dropped
//! for that session and the session is flagged as lagging; the session then catches up from the store
//! (messages are durable before they are published), so it loses nothing and quipd's memory stays
//! bounded. Ephemeral events (typing, presence) dropped this way are not replayed.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::lane::{Lane, LaneFrame};
use quip_store::model::{ConvId, Seq, UserId};

static SLOW_CONSUMER_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// How many times, since start, a session's queue overflowed and it was switched to catch-up.
pub fn slow_consumer_switches() -> u64 {
    SLOW_CONSUMER_SWITCHES.load(Ordering::Relaxed)
}

/// One frame queued for a session.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A stored message (deduplicated and gap-checked by sequence in the session); `since` is when its
    /// send arrived (or, for messages the server wrote, when it committed), for the send→deliver latency.
    Message { conv: ConvId, seq: Seq, frame: Bytes, since: std::time::Instant },
    /// Any other event, already encoded.
    Event(Bytes),
    /// Say this Goodbye and close the session.
    Close(quip_protocol::family::session::Goodbye),
}

/// How the hub reaches one session.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub session_id: u64,
    pub device_id: Arc<str>,
    pub tx: mpsc::Sender<Outbound>,
    pub lagging: Arc<AtomicBool>,
    /// The session came through a gateway (a multiplexed connection).
    pub gateway: bool,
    /// Its events go on its gateway connection's shared stream: the lane, and the session's name there
    /// (its control stream id).
    pub lane: Option<(Lane, u64)>,
    pub connected_at_ms: u64,
}

impl SessionHandle {
    /// Sends a frame without waiting: through the session's shared stream when the hub sends its events
    /// itself (`crate::lane`), else into its queue. A full queue flags the session as lagging.
    pub fn push(&self, frame: Outbound) -> bool {
        match &self.lane {
            Some(_) if !matches!(frame, Outbound::Close(_)) => {
                let mut fan = FanOut::default();
                fan.add(std::slice::from_ref(self), &frame);
                fan.finish(&frame) > 0
            }
            _ => self.push_own(frame),
        }
    }

    /// Queues a frame in the session's own queue without waiting. A full queue flags the session as
    /// lagging.
    fn push_own(&self, frame: Outbound) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.lagging.swap(true, Ordering::AcqRel) {
                    SLOW_CONSUMER_SWITCHES.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("quip_slow_consumer_switches_total").increment(1);
                    tracing::debug!(session = self.session_id, "outbound queue full: switching to catch-up");
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

const SHARDS: usize = 32;

type Shard = RwLock<HashMap<UserId, Arc<[SessionHandle]>>>;

/// The online sessions of every user.
#[derive(Debug)]
pub struct Hub {
    shards: Box<[Shard]>,
    hasher: RandomState,
    sessions: AtomicUsize,
    users: AtomicUsize,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            sessions: AtomicUsize::new(0),
            users: AtomicUsize::new(0),
        }
    }
}

impl Hub {
    fn shard(&self, user: &str) -> &Shard {
        let i = (self.hasher.hash_one(user) as usize) % self.shards.len();
        &self.shards[i]
    }

    /// Adds a session of `user`; returns how many sessions the user now has.
    pub fn register(&self, user: &str, handle: SessionHandle) -> usize {
        let mut shard = self.shard(user).write().unwrap_or_else(|e| e.into_inner());
        let entry = shard.entry(user.to_owned()).or_insert_with(|| Arc::from(Vec::new()));
        if entry.is_empty() {
            self.users.fetch_add(1, Ordering::Relaxed);
        }
        let mut list: Vec<SessionHandle> = entry.iter().cloned().collect();
        list.push(handle);
        let n = list.len();
        *entry = list.into();
        self.sessions.fetch_add(1, Ordering::Relaxed);
        n
    }

    /// Removes a session; returns how many sessions the user still has.
    pub fn unregister(&self, user: &str, session_id: u64) -> usize {
        let mut shard = self.shard(user).write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = shard.get_mut(user) else { return 0 };
        let before = entry.len();
        let list: Vec<SessionHandle> = entry.iter().filter(|h| h.session_id != session_id).cloned().collect();
        if list.len() < before {
            self.sessions.fetch_sub(1, Ordering::Relaxed);
        }
        let n = list.len();
        if n == 0 {
            shard.remove(user);
            self.users.fetch_sub(1, Ordering::Relaxed);
        } else {
            *entry = list.into();
        }
        n
    }

    /// The sessions of one user (a cheap clone of a shared slice).
    pub fn sessions_of(&self, user: &str) -> Option<Arc<[SessionHandle]>> {
        self.shard(user).read().unwrap_or_else(|e| e.into_inner()).get(user).cloned()
    }

    /// Pushes `frame` to every session of every user in `users`; returns how many sessions got it.
    pub fn deliver(&self, users: &[UserId], frame: &Outbound) -> usize {
        self.deliver_except(users, frame, None)
    }

    /// As [`deliver`](Self::deliver), leaving out the sessions of `skip` (user, device).
    pub fn deliver_except(&self, users: &[UserId], frame: &Outbound, skip: Option<(&str, &str)>) -> usize {
        let mut fan = FanOut::default();
        for user in users {
            let Some(sessions) = self.sessions_of(user) else { continue };
            match skip {
                Some((u, device)) if u == user.as_str() => {
                    let others: Vec<SessionHandle> =
                        sessions.iter().filter(|s| &*s.device_id != device).cloned().collect();
                    fan.add(&others, frame);
                }
                _ => fan.add(&sessions, frame),
            }
        }
        fan.finish(frame)
    }

    /// Pushes `frame` to every session online; returns how many got it. Each shard is read-locked only to
    /// clone its lists.
    pub fn deliver_all(&self, frame: &Outbound) -> usize {
        let mut fan = FanOut::default();
        for shard in self.shards.iter() {
            let lists: Vec<Arc<[SessionHandle]>> =
                shard.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
            for sessions in &lists {
                fan.add(sessions, frame);
            }
        }
        fan.finish(frame)
    }

    pub fn online_sessions(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
    }

    pub fn online_users(&self) -> usize {
        self.users.load(Ordering::Relaxed)
    }
}

/// One fan-out: sessions with a queue of their own get the frame at once; those on a gateway's shared
/// stream are gathered per lane, so that the lane sends the frame once for all of them.
#[derive(Default)]
struct FanOut {
    delivered: usize,
    lanes: Vec<(Lane, Vec<u64>, Vec<SessionHandle>)>,
}

impl FanOut {
    fn add(&mut self, sessions: &[SessionHandle], frame: &Outbound) {
        for s in sessions {
            match &s.lane {
                Some((lane, target)) if !matches!(frame, Outbound::Close(_)) => {
                    let i = match self.lanes.iter().position(|(l, _, _)| l.same(lane)) {
                        Some(i) => i,
                        None => {
                            self.lanes.push((lane.clone(), Vec::new(), Vec::new()));
                            self.lanes.len() - 1
                        }
                    };
                    self.lanes[i].1.push(*target);
                    self.lanes[i].2.push(s.clone());
                }
                _ => {
                    if s.push_own(frame.clone()) {
                        self.delivered += 1;
                    }
                }
            }
        }
    }

    fn finish(mut self, frame: &Outbound) -> usize {
        let lane_frame = match frame {
            Outbound::Message { conv, seq, frame, .. } => LaneFrame::Message { conv: *conv, seq: *seq, frame },
            Outbound::Event(frame) => LaneFrame::Event(frame),
            Outbound::Close(_) => return self.delivered,
        };
        for (lane, targets, handles) in std::mem::take(&mut self.lanes) {
            let mut pushed = 0;
            let direct = lane.deliver(&targets, lane_frame, |i| {
                if handles[i].push_own(frame.clone()) {
                    pushed += 1;
                }
            });
            if let (Outbound::Message { since, .. }, true) = (frame, direct > 0) {
                metrics::counter!("quip_deliveries_total").increment(direct as u64);
                let latency = since.elapsed().as_secs_f64();
                let histogram = metrics::histogram!("quip_send_deliver_seconds");
                for _ in 0..direct {
                    histogram.record(latency);
                }
            }
            self.delivered += direct + pushed;
        }
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(id: u64, cap: usize) -> (SessionHandle, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(cap);
        (
            SessionHandle {
                session_id: id,
                device_id: "d".into(),
                tx,
                lagging: Arc::default(),
                gateway: false,
                lane: None,
                connected_at_ms: 0,
            },
            rx,
        )
    }

    #[test]
    fn delivers_to_every_session_of_every_user() {
        let hub = Hub::default();
        let (a1, mut ra1) = handle(1, 4);
        let (a2, mut ra2) = handle(2, 4);
        let (b1, mut rb1) = handle(3, 4);
        hub.register("a", a1);
        hub.register("a", a2);
        hub.register("b", b1);
        assert_eq!(hub.online_users(), 2);
        let n = hub.deliver(&["a".into(), "b".into(), "nobody".into()], &Outbound::Event(Bytes::from_static(b"x")));
        assert_eq!(n, 3);
        assert!(ra1.try_recv().is_ok() && ra2.try_recv().is_ok() && rb1.try_recv().is_ok());
        assert_eq!(hub.unregister("a", 1), 1);
        assert_eq!(hub.unregister("a", 2), 0);
        assert_eq!(hub.online_users(), 1);
        assert_eq!(hub.online_sessions(), 1);
    }

    #[test]
    fn a_full_queue_flags_the_session_instead_of_growing() {
        let hub = Hub::default();
        let (h, _rx) = handle(1, 2);
        let lagging = h.lagging.clone();
        hub.register("a", h);
        let frame = Outbound::Event(Bytes::from_static(b"x"));
        assert_eq!(hub.deliver(&["a".into()], &frame), 1);
        assert_eq!(hub.deliver(&["a".into()], &frame), 1);
        assert_eq!(hub.deliver(&["a".into()], &frame), 0);
        assert!(lagging.load(Ordering::Acquire));
    }
}
