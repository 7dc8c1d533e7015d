//! The client side of a gateway connection's shared event stream (`Hello.shared_events`): the broker
//! sends every session's events on one stream as `GatewayEvents` (an event for many sessions once, with
//! their list), and [`dispatch`] decodes each batch **once** and hands every session it names the decoded
//! frames, in order, through a bounded queue the session reads them from ([`SharedEvents`]). A session
//! clones the frames it takes from a batch it shares with others, and moves them out of one that is
//! its alone.
//!
//! Slow consumers: the dispatcher never waits for a session (one web client that stops reading must not
//! stall everybody's events). A session whose queue is full when its next frames come is cut off: its
//! reader sees the stream fail, and the client reconnects and resumes from its cursors, so what was cut
//! is replayed from the broker's store and nothing is lost or duplicated.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use quip_protocol::{DecodeError, FrameDecoder, Limits, ServerBody, ServerFrame};
use tokio::sync::mpsc;

use crate::sync::lock;
use crate::wire::{FrameReader, ReadError, read_limits};

/// Most `GatewayEvents` a session may have waiting before it is cut off and resumes.
pub(crate) const SESSION_QUEUE: usize = 1024;

static CUT: AtomicU64 = AtomicU64::new(0);

/// How many sessions, since start, fell behind their events and were cut off to resume.
pub(crate) fn cut_off() -> u64 {
    CUT.load(Ordering::Relaxed)
}

/// One `GatewayEvents`' frames, decoded, shared by the sessions it names.
type Batch = Arc<Vec<ServerFrame>>;

/// Where the dispatcher sends one session's frames.
#[derive(Debug)]
pub(crate) struct Route {
    tx: mpsc::Sender<Batch>,
    cut: Arc<AtomicBool>,
}

/// The routes of one connection's sessions, by control stream id.
pub(crate) type Routes = Mutex<HashMap<u64, Route>>;

/// A session's end of its queue: the frames the session reads.
#[derive(Debug)]
pub(crate) struct SharedEvents {
    rx: mpsc::Receiver<Batch>,
    cut: Arc<AtomicBool>,
    current: Current,
}

/// The batch being read: moved out when this session holds it alone, else cloned frame by frame.
#[derive(Debug)]
enum Current {
    Owned(std::vec::IntoIter<ServerFrame>),
    Shared(Batch, usize),
}

impl Current {
    fn take(&mut self) -> Option<ServerFrame> {
        match self {
            Current::Owned(frames) => frames.next(),
            Current::Shared(batch, next) => {
                let frame = batch.get(*next).cloned();
                *next += 1;
                frame
            }
        }
    }
}

/// A route for a new session, and the reader it reads its events from.
pub(crate) fn route() -> (Route, SharedEvents) {
    let (tx, rx) = mpsc::channel(SESSION_QUEUE);
    let cut = Arc::new(AtomicBool::new(false));
    (Route { tx, cut: cut.clone() }, SharedEvents { rx, cut, current: Current::Owned(Vec::new().into_iter()) })
}

impl SharedEvents {
    /// Waits for the first frames, so that the session knows its events come this way.
    pub(crate) async fn first(mut self) -> Option<Self> {
        let batch = self.rx.recv().await?;
        self.current = current(batch);
        Some(self)
    }

    /// The next frame; `None` when the connection's sessions ended normally, an error when this one
    /// was cut off (it then resumes). Cancel-safe: a batch is taken from the queue only by a completed
    /// receive, and kept here before the next await.
    pub(crate) async fn next(&mut self) -> Result<Option<ServerFrame>, ReadError> {
        loop {
            if let Some(frame) = self.current.take() {
                return Ok(Some(frame));
            }
            // Let go of the batch read to the end before waiting: an idle session would otherwise keep
            // its last batch's storage (or its share of a batch others read) until the next one.
            self.current = Current::Owned(Vec::new().into_iter());
            match self.rx.recv().await {
                Some(batch) => self.current = current(batch),
                None if self.cut.load(Ordering::Acquire) => {
                    return Err(ReadError::Io(io::Error::other("the session fell behind its events")));
                }
                None => return Ok(None),
            }
        }
    }
}

fn current(batch: Batch) -> Current {
    match Arc::try_unwrap(batch) {
        Ok(frames) => Current::Owned(frames.into_iter()),
        Err(batch) => Current::Shared(batch, 0),
    }
}

/// The frames of one `GatewayEvents`, each decoded on its own; one that does not decode (a variant of
/// a newer protocol revision) is skipped, as on a session's own stream. `None`: the batch's framing is
/// broken, and so is the stream.
fn decode(bytes: &[u8], limits: &Limits) -> Option<Vec<ServerFrame>> {
    let mut decoder = FrameDecoder::new(limits.max_frame_size);
    decoder.extend(bytes);
    let mut frames = Vec::new();
    loop {
        match decoder.next_frame() {
            Ok(Some(frame)) => match ServerFrame::decode(&frame, limits) {
                Ok(frame) => frames.push(frame),
                Err(DecodeError::UnknownVariant { union, tag }) => {
                    tracing::debug!(union, tag, "skipping a frame of a newer protocol revision");
                }
                Err(e) => tracing::warn!(error = %e, "skipping a frame that does not decode"),
            },
            Ok(None) if decoder.buffered() == 0 => return Some(frames),
            Ok(None) => {
                tracing::warn!("a batch on the shared event stream ends in the middle of a frame");
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "a batch on the shared event stream has a bad frame length");
                return None;
            }
        }
    }
}

/// Reads a connection's shared event stream (after its `EventStreamOpen`) until it ends, handing every
/// session its frames.
pub(crate) async fn dispatch(stream: quinn::RecvStream, routes: std::sync::Weak<Routes>) {
    // A frame here wraps events of up to the broker's largest frame, plus the list of sessions.
    let inner = read_limits();
    let limits = Limits { max_frame_size: inner.max_frame_size + (1 << 20), ..Limits::default() };
    let mut reader = FrameReader::new(stream, limits);
    loop {
        let events = match reader.next().await {
            Ok(Some(frame)) => match frame.body {
                ServerBody::GatewayEvents(events) => events,
                other => {
                    tracing::debug!(body = other.name(), "ignoring a frame on the shared event stream");
                    continue;
                }
            },
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "the shared event stream failed");
                break;
            }
        };
        let Some(frames) = decode(&events.frames, &inner) else { break };
        let Some(routes) = routes.upgrade() else { break };
        let mut batch = Some(Arc::new(frames));
        let mut routes = lock(&routes);
        let last = events.targets.len().saturating_sub(1);
        for (i, &target) in events.targets.iter().enumerate() {
            let Some(route) = routes.get(&target) else { continue };
            // The last session named takes the dispatcher's own reference: a batch for one session is
            // then that session's alone, and its frames are moved out rather than cloned.
            let Some(this) = (if i == last { batch.take() } else { batch.clone() }) else { break };
            match route.tx.try_send(this) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::info!(control_stream_id = target, "a session fell behind its events: resuming it");
                    route.cut.store(true, Ordering::Release);
                    routes.remove(&target);
                    CUT.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    routes.remove(&target);
                }
            }
        }
    }
    // Without the stream no session of the connection gets events: end them all (they reconnect).
    if let Some(routes) = routes.upgrade() {
        for (_, route) in lock(&routes).drain() {
            route.cut.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use quip_protocol::family::session::Pong;

    use super::*;

    fn frame(request_id: u64) -> ServerFrame {
        ServerFrame { request_id, body: ServerBody::Pong(Pong { nonce: request_id, server_time_ms: 0 }) }
    }

    fn ids(frames: &[Option<ServerFrame>]) -> Vec<u64> {
        frames.iter().flatten().map(|f| f.request_id).collect()
    }

    #[tokio::test]
    async fn a_session_reads_its_frames_in_order_and_a_cut_is_an_error() {
        let (route, read) = route();
        let shared: Batch = Arc::new(vec![frame(1), frame(2)]);
        route.tx.try_send(shared.clone()).unwrap();
        route.tx.try_send(Arc::new(vec![frame(3)])).unwrap();
        let mut read = read.first().await.unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(read.next().await.unwrap());
        }
        assert_eq!(ids(&got), [1, 2, 3]);
        assert_eq!(shared.len(), 2, "a batch shared with others is cloned from, not taken");
        route.cut.store(true, Ordering::Release);
        drop(route);
        assert!(read.next().await.is_err(), "a cut session's stream fails, so it resumes");

        let (other, read) = super::route();
        other.tx.try_send(Arc::new(vec![frame(7)])).unwrap();
        drop(other);
        let mut read = read.first().await.unwrap();
        assert_eq!(ids(&[read.next().await.unwrap()]), [7]);
        assert!(read.next().await.unwrap().is_none(), "a session that ended normally sees the end");
    }

    #[test]
    fn a_batch_decodes_frame_by_frame_and_bad_framing_is_refused() {
        let limits = read_limits();
        let mut bytes = frame(1).encode().to_vec();
        bytes.extend_from_slice(&frame(2).encode());
        let frames = decode(&bytes, &limits).unwrap();
        assert_eq!(frames, vec![frame(1), frame(2)]);
        assert!(decode(&bytes[..bytes.len() - 1], &limits).is_none(), "a batch cut inside a frame");
        assert_eq!(decode(&[], &limits), Some(Vec::new()));
    }
}
