//! A gateway connection's shared event stream, as a queue: the events of every session of the connection
//! that asked for it (`Hello.shared_events`), each entry naming the sessions it goes to. The session's
//! task (`session/shared_stream.rs`) writes the queue to one QUIC stream as `GatewayEvents`.
//!
//! Two ways in, one order per session:
//! - **Direct.** A session that is live and in step (nothing of its own queued, no replay running) is
//!   *direct*: the hub puts what it fans out into this queue itself, once for all the direct sessions of
//!   the connection. A message to a group of 1 000 web users behind one bridge is one entry, one frame
//!   and a packet or two, not 1 000 session wake-ups, stream writes and packets. The lane keeps such a
//!   session's `delivered` watermarks meanwhile and checks each message against them, as the session
//!   would (`session/delivery.rs`).
//! - **Through the session.** Otherwise the hub pushes into the session's own bounded queue, as for any
//!   session, and the session's task (replays, gap fills, dedupe) hands its frames over with [`Lane::send`].
//!
//! Concurrency: one `std` mutex per lane holds the queue and the sessions' modes. The hub decides
//! direct-or-not and pushes into a session's own queue *under that lock*, and a session turns direct only
//! under it and only when its own queue is empty, so no frame can overtake an earlier one of the same
//! session. The lock is never held across an `.await` or a write.
//!
//! Slow consumers: the queue is bounded by bytes ([`MAX_QUEUED_BYTES`]). A fan-out that finds it full
//! turns its direct sessions back into ordinary ones, through their own queues (which, full in turn,
//! flag them as lagging: they catch up from the store). The gateway resumes a session whose own web
//! client stops reading; the stream is never held up for one client.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

use quip_store::model::{ConvId, Seq};

/// Most bytes of frames the queue holds before fan-outs go through the sessions' own queues.
pub const MAX_QUEUED_BYTES: usize = 4 << 20;

static DIRECT_DELIVERIES: AtomicU64 = AtomicU64::new(0);

/// How many messages, since start, the hub queued on a shared stream itself (per session).
pub fn direct_deliveries() -> u64 {
    DIRECT_DELIVERIES.load(Ordering::Relaxed)
}

/// What the hub asks the lane to send.
#[derive(Debug, Clone, Copy)]
pub enum LaneFrame<'a> {
    /// A stored message: sent to a direct session only if it is the next one of its conversation.
    Message { conv: ConvId, seq: Seq, frame: &'a Bytes },
    /// Any other event.
    Event(&'a Bytes),
}

/// One entry of the queue: frames, in order, for every target (control stream id).
#[derive(Debug)]
pub struct Entry {
    pub targets: Vec<u64>,
    pub frames: Vec<Bytes>,
    /// Only these targets' own frames (so more of theirs may be appended).
    private: bool,
}

#[derive(Debug, Default)]
struct Member {
    direct: bool,
    /// While direct: the highest seq sent per conversation (the session's own map is stale meanwhile).
    delivered: HashMap<ConvId, Seq>,
    /// Direct since the session last took its watermarks back.
    handed: bool,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Entry>,
    bytes: usize,
    members: HashMap<u64, Member>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    /// Something was queued (for the writer).
    queued: Notify,
    /// The writer took the queue (for senders waiting for room).
    room: Notify,
    /// The stream failed, or the connection is finishing: nothing more is queued.
    closed: AtomicBool,
}

/// The queue, shared by the hub, the connection's sessions and the writer. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Lane {
    inner: Arc<Inner>,
}

/// The lane is closed (its stream failed or its connection is ending).
#[derive(Debug, thiserror::Error)]
#[error("the connection's shared event stream is closed")]
pub struct LaneClosed;

impl Lane {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether two handles are the same lane.
    pub fn same(&self, other: &Lane) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Adds a session (not direct yet).
    pub fn join(&self, target: u64) {
        self.state().members.insert(target, Member::default());
    }

    /// Removes a session.
    pub fn leave(&self, target: u64) {
        self.state().members.remove(&target);
    }

    /// Makes `target` direct with these watermarks, unless its own queue has something (`queue_empty`
    /// is asked under the lane's lock, so the hub cannot push meanwhile). True when it is direct now.
    pub fn go_direct(&self, target: u64, delivered: &HashMap<ConvId, Seq>, queue_empty: impl FnOnce() -> bool) -> bool {
        let mut state = self.state();
        if !queue_empty() {
            return false;
        }
        let Some(member) = state.members.get_mut(&target) else { return false };
        if member.direct {
            // The lane's watermarks are the fresh ones: the session's are stale until it takes them back.
            return true;
        }
        if self.inner.closed.load(Ordering::Acquire) {
            return false;
        }
        member.direct = true;
        member.handed = true;
        member.delivered.clone_from(delivered);
        true
    }

    /// Ends `target`'s direct mode (if on) and gives back its watermarks when the lane kept them since
    /// the last call: the session's own map is then stale.
    pub fn take_back(&self, target: u64) -> Option<HashMap<ConvId, Seq>> {
        let mut state = self.state();
        let member = state.members.get_mut(&target)?;
        member.direct = false;
        if !std::mem::take(&mut member.handed) {
            return None;
        }
        Some(std::mem::take(&mut member.delivered))
    }

    /// Fans `frame` out to `targets`: the direct ones get it through one queue entry; for the others (not
    /// direct, or a message out of step, or a full queue) `fallback(i)` is called with their index in
    /// `targets`, under the lane's lock, to push it into their own queue. Returns how many direct
    /// sessions it was queued for.
    pub fn deliver(&self, targets: &[u64], frame: LaneFrame<'_>, mut fallback: impl FnMut(usize)) -> usize {
        let mut state = self.state();
        let bytes = match frame {
            LaneFrame::Message { frame, .. } | LaneFrame::Event(frame) => frame,
        };
        let room = !self.inner.closed.load(Ordering::Acquire)
            && (state.bytes == 0 || state.bytes + bytes.len() <= MAX_QUEUED_BYTES);
        let mut accepted = Vec::new();
        for (i, &t) in targets.iter().enumerate() {
            let Some(member) = state.members.get_mut(&t).filter(|m| m.direct) else {
                fallback(i);
                continue;
            };
            if !room {
                member.direct = false;
                fallback(i);
                continue;
            }
            if let LaneFrame::Message { conv, seq, .. } = frame {
                match member.delivered.get(&conv).copied() {
                    Some(d) if seq <= d => continue,
                    Some(d) if seq > d + 1 => {
                        // Out of step (it missed one): its own task fills the gap from the store.
                        member.direct = false;
                        fallback(i);
                        continue;
                    }
                    _ => {
                        member.delivered.insert(conv, seq);
                    }
                }
            }
            accepted.push(t);
        }
        let sent = accepted.len();
        if !accepted.is_empty() {
            if matches!(frame, LaneFrame::Message { .. }) {
                DIRECT_DELIVERIES.fetch_add(sent as u64, Ordering::Relaxed);
            }
            metrics::counter!("quip_shared_stream_entries_total", "from" => "hub").increment(1);
            state.bytes += bytes.len();
            state.entries.push_back(Entry { targets: accepted, frames: vec![bytes.clone()], private: false });
            drop(state);
            self.inner.queued.notify_one();
        }
        sent
    }

    /// Queues `frames` (in order) from `target`'s own task, waiting while the queue is full.
    pub async fn send(&self, target: u64, frames: Vec<Bytes>) -> Result<(), LaneClosed> {
        let len: usize = frames.iter().map(Bytes::len).sum();
        let mut frames = Some(frames);
        loop {
            let room = self.inner.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                if self.inner.closed.load(Ordering::Acquire) {
                    return Err(LaneClosed);
                }
                let mut state = self.state();
                if state.bytes == 0 || state.bytes + len <= MAX_QUEUED_BYTES {
                    let frames = frames.take().unwrap_or_default();
                    metrics::counter!("quip_shared_stream_entries_total", "from" => "session").increment(1);
                    state.bytes += len;
                    match state.entries.back_mut() {
                        Some(last) if last.private && last.targets == [target] => last.frames.extend(frames),
                        _ => state.entries.push_back(Entry { targets: vec![target], frames, private: true }),
                    }
                    drop(state);
                    self.inner.queued.notify_one();
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Waits for entries and takes them all (the writer's side). Empty once the lane is closed and
    /// drained.
    pub async fn take(&self) -> Vec<Entry> {
        loop {
            let taken: Vec<Entry> = {
                let mut state = self.state();
                state.bytes = 0;
                state.entries.drain(..).collect()
            };
            if !taken.is_empty() {
                self.inner.room.notify_waiters();
                return taken;
            }
            if self.inner.closed.load(Ordering::Acquire) {
                return Vec::new();
            }
            self.inner.queued.notified().await;
        }
    }

    /// Nothing more is queued; the writer sends what is there and stops. Sessions still direct are
    /// sent what is left through their own queues from now on.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        for member in self.state().members.values_mut() {
            member.direct = false;
        }
        self.inner.queued.notify_one();
        self.inner.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(frame: &Bytes, seq: Seq) -> LaneFrame<'_> {
        LaneFrame::Message { conv: 1, seq, frame }
    }

    #[tokio::test]
    async fn a_fan_out_to_direct_sessions_is_one_entry_and_the_rest_fall_back() {
        let lane = Lane::new();
        for t in [0, 4, 8] {
            lane.join(t);
        }
        let at: HashMap<ConvId, Seq> = [(1, 10)].into();
        assert!(lane.go_direct(0, &at, || true));
        assert!(lane.go_direct(4, &at, || true));
        assert!(!lane.go_direct(8, &at, || false), "a session with something queued stays as it is");
        let f = Bytes::from_static(b"m11");
        let mut fell = Vec::new();
        assert_eq!(lane.deliver(&[0, 4, 8], msg(&f, 11), |i| fell.push(i)), 2);
        assert_eq!(fell, vec![2]);
        // A duplicate is dropped, a gap sends the session back to its own queue.
        let mut fell = Vec::new();
        assert_eq!(lane.deliver(&[0, 4], msg(&f, 11), |i| fell.push(i)), 0);
        assert_eq!(lane.deliver(&[0, 4], msg(&f, 13), |i| fell.push(i)), 0);
        assert_eq!(fell, vec![0, 1]);
        let entries = lane.take().await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].targets, vec![0, 4]);
        assert_eq!(lane.take_back(0), Some([(1, 11)].into()), "the session takes the watermarks back");
        assert_eq!(lane.take_back(0), None);
    }

    #[tokio::test]
    async fn a_sessions_own_frames_are_appended_and_a_full_queue_falls_back() {
        let lane = Lane::new();
        lane.join(0);
        lane.join(4);
        lane.send(0, vec![Bytes::from_static(b"a")]).await.unwrap();
        lane.send(0, vec![Bytes::from_static(b"b")]).await.unwrap();
        let entries = lane.take().await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].frames.len(), 2);

        assert!(lane.go_direct(4, &HashMap::new(), || true));
        let big = Bytes::from(vec![0u8; MAX_QUEUED_BYTES]);
        lane.send(0, vec![big]).await.unwrap();
        let e = Bytes::from_static(b"e");
        let mut fell = Vec::new();
        lane.deliver(&[4], LaneFrame::Event(&e), |i| fell.push(i));
        assert_eq!(fell, vec![0], "no room: the event goes through the session's own queue");
        assert_eq!(lane.take_back(4), Some(HashMap::new()));
    }
}
