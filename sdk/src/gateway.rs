//! [`SharedQuicTransport`]: many users' sessions over a few QUIC connections, for gateways (quip-bridge)
//! that act for thousands of web clients. One TLS handshake serves many sessions; each session is still
//! its own control stream with its own `Hello` and token, which the broker verifies per user.
//!
//! Routing: every session asks for the connection's shared event stream (`Hello.shared_events`), on which
//! the broker sends each event once for all the sessions it goes to ([`crate::shared_events`]). A broker
//! that does not offer it opens one event stream per session instead, naming in its first frame
//! (`EventStreamOpen`) the control stream it belongs to. Each pooled connection runs one task that accepts
//! event streams, reads that frame, and hands the rest of the stream to the session waiting for it (or, for
//! the shared stream, to the dispatcher); a session takes whichever way its events come first.
//!
//! Concurrency: the pool and each connection's routing table are `std` mutexes held only to look up or
//! insert, never across an `.await`; sessions that find the pool short while a dial is under way wait for
//! that dial (a shared future) rather than dialing too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use quip_protocol::family::session::SHARED_EVENT_STREAM;
use quip_protocol::{FRAME_PREFIX_LEN, ServerBody, ServerFrame};
use tokio::sync::oneshot;

use crate::event_source::EventSource;
use crate::shared_events::{self, Routes};
use crate::sync::lock;
use crate::transport::{BoxRead, Session, Transport, close_info, dial, transport_error};
use crate::{ClientConfig, Error};

/// How long the broker may take between opening an event stream and naming its session.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest first frame accepted on an event stream (an `EventStreamOpen` is a few dozen bytes).
const MAX_HEADER: usize = 1024;

/// Sizing of a [`SharedQuicTransport`].
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Most connections kept to the broker.
    pub max_connections: usize,
    /// Sessions per connection before another one is opened (while under `max_connections`).
    pub sessions_per_connection: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { max_connections: 4, sessions_per_connection: 1024 }
    }
}

/// A [`Transport`] that multiplexes sessions over a small pool of QUIC connections. Clone it into every
/// [`Client::connect_with`](crate::Client::connect_with) call that should share the pool. All clients of
/// one pool must use the same broker address and trust settings (the first session's are used to dial).
#[derive(Clone, Default)]
pub struct SharedQuicTransport {
    inner: Arc<Pool>,
}

impl std::fmt::Debug for SharedQuicTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedQuicTransport")
            .field("config", &self.inner.config)
            .field("connections", &self.connections())
            .field("sessions", &self.sessions())
            .finish()
    }
}

/// A dial under way, shared by every session waiting for it.
type Dial = Shared<BoxFuture<'static, Result<Arc<Pooled>, Error>>>;

#[derive(Default)]
struct Pool {
    config: PoolConfig,
    conns: Mutex<Vec<Arc<Pooled>>>,
    dialing: Mutex<Option<Dial>>,
}

/// One pooled connection and the sessions waiting for their event streams.
struct Pooled {
    conn: quinn::Connection,
    routes: Mutex<HashMap<u64, oneshot::Sender<BoxRead>>>,
    /// Where the shared event stream's frames go, by session.
    shared: Arc<Routes>,
    sessions: AtomicUsize,
}

impl SharedQuicTransport {
    pub fn new(config: PoolConfig) -> Self {
        Self { inner: Arc::new(Pool { config, conns: Mutex::new(Vec::new()), dialing: Mutex::new(None) }) }
    }

    /// Open connections to the broker right now.
    pub fn connections(&self) -> usize {
        lock(&self.inner.conns).iter().filter(|p| p.conn.close_reason().is_none()).count()
    }

    /// Sessions currently carried.
    pub fn sessions(&self) -> usize {
        lock(&self.inner.conns).iter().map(|p| p.sessions.load(Ordering::Relaxed)).sum()
    }

    /// How many sessions, since start (of any pool in this process), fell behind the events of their
    /// connection's shared stream and were cut off to resume (`crate::shared_events`).
    pub fn sessions_cut_off() -> u64 {
        shared_events::cut_off()
    }

    /// The least loaded live connection, unless another should be opened.
    fn pick(&self) -> Option<Arc<Pooled>> {
        let mut conns = lock(&self.inner.conns);
        conns.retain(|p| p.conn.close_reason().is_none());
        let least = conns.iter().min_by_key(|p| p.sessions.load(Ordering::Relaxed)).cloned();
        match least {
            Some(p)
                if p.sessions.load(Ordering::Relaxed) < self.inner.config.sessions_per_connection
                    || conns.len() >= self.inner.config.max_connections =>
            {
                Some(p)
            }
            _ => None,
        }
    }

    /// A connection for one more session: the least loaded one, or a new one. Sessions that find the
    /// pool short at the same moment (a burst of web clients connecting) wait for the one dial already
    /// under way instead of each dialing a connection of its own.
    async fn connection(&self, config: &ClientConfig) -> Result<Arc<Pooled>, Error> {
        if let Some(p) = self.pick() {
            return Ok(p);
        }
        let dial = {
            let mut dialing = lock(&self.inner.dialing);
            match dialing.as_ref() {
                Some(under_way) => under_way.clone(),
                None => {
                    let pool = self.inner.clone();
                    let config = config.clone();
                    let under_way = async move {
                        let pooled = open(&pool, &config).await;
                        *lock(&pool.dialing) = None;
                        pooled
                    }
                    .boxed()
                    .shared();
                    *dialing = Some(under_way.clone());
                    under_way
                }
            }
        };
        dial.await
    }
}

/// Dials one more connection and adds it to the pool.
async fn open(pool: &Pool, config: &ClientConfig) -> Result<Arc<Pooled>, Error> {
    let streams = u32::try_from(pool.config.sessions_per_connection.max(1)).unwrap_or(u32::MAX);
    let (endpoint, conn) = dial(config, streams.saturating_add(16)).await?;
    let pooled = Arc::new(Pooled {
        conn,
        routes: Mutex::new(HashMap::new()),
        shared: Arc::default(),
        sessions: AtomicUsize::new(0),
    });
    tokio::spawn(route_event_streams(endpoint, Arc::downgrade(&pooled), pooled.conn.clone()));
    lock(&pool.conns).push(pooled.clone());
    Ok(pooled)
}

impl Transport for SharedQuicTransport {
    async fn connect(&self, config: &ClientConfig) -> Result<Session, Error> {
        let pooled = self.connection(config).await?;
        let (send, recv) = pooled.conn.open_bi().await.map_err(|e| transport_error("control stream", e))?;
        let stream_id = u64::from(send.id());
        let (tx, rx) = oneshot::channel();
        lock(&pooled.routes).insert(stream_id, tx);
        let (route, shared) = shared_events::route();
        lock(&pooled.shared).insert(stream_id, route);
        pooled.sessions.fetch_add(1, Ordering::Relaxed);
        let guard = SessionGuard { pooled: pooled.clone(), stream_id };

        // The session's events come on the shared stream, or (from a broker without it) on a stream of
        // their own: whichever shows first.
        let events = async move {
            tokio::select! {
                own = rx => own
                    .map(EventSource::stream)
                    .map_err(|_| Error::Transport("the shared connection closed".into())),
                first = shared.first() => match first {
                    Some(shared) => Ok(EventSource::Shared(shared)),
                    None => Err(Error::Transport("the shared event stream ended".into())),
                },
            }
        };
        let conn = pooled.conn.clone();
        let closed = async move { close_info(conn.closed().await) };
        // Ending one session must not end the others: the streams end it (the broker sees the control
        // stream finish); the guard counts the session out of its connection.
        Ok(Session::with_source(send, recv, events)
            .with_closed(closed)
            .with_close(move |_, _| drop(guard))
            .multiplexed()
            .shared_events())
    }
}

/// Counts a session out of its connection (and forgets its route) when the session is gone.
struct SessionGuard {
    pooled: Arc<Pooled>,
    stream_id: u64,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.pooled.routes).remove(&self.stream_id);
        lock(&self.pooled.shared).remove(&self.stream_id);
        self.pooled.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts the broker's event streams on one connection and hands each to its session. Ends with the
/// connection (the endpoint lives as long as this task).
async fn route_event_streams(endpoint: quinn::Endpoint, pooled: std::sync::Weak<Pooled>, conn: quinn::Connection) {
    while let Ok(mut stream) = conn.accept_uni().await {
        let Some(pooled) = pooled.upgrade() else { break };
        tokio::spawn(async move {
            match tokio::time::timeout(HEADER_TIMEOUT, read_header(&mut stream)).await {
                Ok(Ok(SHARED_EVENT_STREAM)) => {
                    shared_events::dispatch(stream, Arc::downgrade(&pooled.shared)).await;
                }
                Ok(Ok(control_stream_id)) => {
                    let waiting = lock(&pooled.routes).remove(&control_stream_id);
                    match waiting {
                        Some(tx) => {
                            let _ = tx.send(Box::new(stream));
                        }
                        None => tracing::debug!(control_stream_id, "an event stream for no waiting session"),
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "an event stream without a valid header"),
                Err(_) => tracing::warn!("an event stream without a header in time"),
            }
        });
    }
    drop(endpoint);
}

/// Reads the first frame of an event stream, exactly (the rest of the stream is the session's), and
/// returns the control stream it names.
async fn read_header(stream: &mut quinn::RecvStream) -> Result<u64, Error> {
    let mut prefix = [0u8; FRAME_PREFIX_LEN];
    stream.read_exact(&mut prefix).await.map_err(|e| transport_error("event stream", e))?;
    let len = u32::from_le_bytes(prefix) as usize;
    if len > MAX_HEADER {
        return Err(Error::Protocol(format!("event stream header of {len} bytes")));
    }
    let mut frame = vec![0u8; FRAME_PREFIX_LEN + len];
    frame[..FRAME_PREFIX_LEN].copy_from_slice(&prefix);
    stream.read_exact(&mut frame[FRAME_PREFIX_LEN..]).await.map_err(|e| transport_error("event stream", e))?;
    match ServerFrame::decode(&frame, &crate::wire::read_limits()) {
        Ok(ServerFrame { body: ServerBody::EventStreamOpen(open), .. }) => Ok(open.control_stream_id),
        Ok(other) => Err(Error::Protocol(format!("event stream opened with {}", other.body.name()))),
        Err(e) => Err(Error::Protocol(format!("event stream header: {e}"))),
    }
}
