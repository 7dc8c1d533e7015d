//! The client side of a gateway connection's shared event stream (`Hello.shared_events`): the broker
//! sends every session's events on one stream as `GatewayEvents` (an event for many sessions once, with
//! their list), and [`dispatch`] hands each session its frames, in order, through a bounded queue that the
//! session reads as if it were an event stream of its own ([`SharedRead`]).
//!
//! Slow consumers: the dispatcher never waits for a session (one web client that stops reading must not
//! stall everybody's events). A session whose queue is full when its next frames come is cut off: its
//! reader sees the stream fail, and the client reconnects and resumes from its cursors, so what was cut
//! is replayed from the broker's store and nothing is lost or duplicated.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use quip_protocol::{Limits, ServerBody};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::sync::lock;
use crate::wire::FrameReader;

/// Most `GatewayEvents` a session may have waiting before it is cut off and resumes.
pub(crate) const SESSION_QUEUE: usize = 1024;

static CUT: AtomicU64 = AtomicU64::new(0);

/// How many sessions, since start, fell behind their events and were cut off to resume.
pub(crate) fn cut_off() -> u64 {
    CUT.load(Ordering::Relaxed)
}

/// Where the dispatcher sends one session's frames.
#[derive(Debug)]
pub(crate) struct Route {
    tx: mpsc::Sender<Bytes>,
    cut: Arc<AtomicBool>,
}

/// The routes of one connection's sessions, by control stream id.
pub(crate) type Routes = Mutex<HashMap<u64, Route>>;

/// A session's end of its queue: the event stream the session reads.
#[derive(Debug)]
pub(crate) struct SharedRead {
    rx: mpsc::Receiver<Bytes>,
    cut: Arc<AtomicBool>,
    current: Bytes,
}

/// A route for a new session, and the reader it reads its events from.
pub(crate) fn route() -> (Route, SharedRead) {
    let (tx, rx) = mpsc::channel(SESSION_QUEUE);
    let cut = Arc::new(AtomicBool::new(false));
    (Route { tx, cut: cut.clone() }, SharedRead { rx, cut, current: Bytes::new() })
}

impl SharedRead {
    /// Waits for the first frames, so that the session knows its events come this way.
    pub(crate) async fn first(mut self) -> Option<Self> {
        self.current = self.rx.recv().await?;
        Some(self)
    }
}

impl AsyncRead for SharedRead {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.current.is_empty() {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(bytes)) => this.current = bytes,
                Poll::Ready(None) if this.cut.load(Ordering::Acquire) => {
                    return Poll::Ready(Err(io::Error::other("the session fell behind its events")));
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.current.len().min(buf.remaining());
        buf.put_slice(&this.current[..n]);
        this.current.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// Reads a connection's shared event stream (after its `EventStreamOpen`) until it ends, handing every
/// session its frames.
pub(crate) async fn dispatch(stream: quinn::RecvStream, routes: std::sync::Weak<Routes>) {
    // A frame here wraps events of up to the broker's largest frame, plus the list of sessions.
    let limits = Limits { max_frame_size: crate::wire::read_limits().max_frame_size + (1 << 20), ..Limits::default() };
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
        let Some(routes) = routes.upgrade() else { break };
        let frames = Bytes::from(events.frames);
        let mut routes = lock(&routes);
        for target in events.targets {
            let Some(route) = routes.get(&target) else { continue };
            match route.tx.try_send(frames.clone()) {
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
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn a_session_reads_its_frames_in_order_and_a_cut_is_an_error() {
        let (route, read) = route();
        route.tx.try_send(Bytes::from_static(b"ab")).unwrap();
        route.tx.try_send(Bytes::from_static(b"cd")).unwrap();
        let mut read = read.first().await.unwrap();
        let mut got = [0u8; 4];
        read.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"abcd");
        route.cut.store(true, Ordering::Release);
        drop(route);
        assert!(read.read(&mut got).await.is_err(), "a cut session's stream fails, so it resumes");

        let (other, read) = super::route();
        other.tx.try_send(Bytes::from_static(b"x")).unwrap();
        drop(other);
        let mut read = read.first().await.unwrap();
        let mut all = Vec::new();
        read.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"x", "a session that ended normally sees the end of its stream");
    }
}
