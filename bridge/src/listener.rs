//! The bridge's client listeners behind admission and the drain: a TCP connection past
//! `limits.max_connections`, or past `limits.max_connections_per_address` from one client address, is
//! closed at once (counted in `quip_admission_refused_total{limit}`); a connection with no byte either way
//! for `limits.idle_timeout_ms` is closed (`quip_bridge_idle_closed_total`); and
//! every admitted connection holds a guard of the drain until it closes, so shutdown waits for the open
//! connections under `shutdown.drain_timeout_ms` and no longer.
//!
//! Concurrency: the admission limit is an atomic counter (`quip_service::Admission`); the permit and the
//! drain guard live inside the connection's stream, so they are released exactly when hyper drops it.
//! hyper runs each connection on a task of its own, which aborting the listener's task does not end:
//! once the deadline passes the server flips `close`, and every stream still open fails its next read or
//! write (a pending read is woken for it), so hyper closes the connection.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use quip_service::{Admission, ConnectionPermit, DrainGuard, Watch};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// Connections held per client address, within a limit (0: none).
#[derive(Debug, Clone, Default)]
pub struct PerAddress {
    limit: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    pub fn new(limit: usize) -> Self {
        Self { limit, held: Arc::default() }
    }

    /// A slot for one more connection from `ip`, unless it already holds the limit.
    fn try_take(&self, ip: IpAddr) -> Option<AddressSlot> {
        if self.limit == 0 {
            return Some(AddressSlot { owner: None, ip });
        }
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = held.entry(ip).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(AddressSlot { owner: Some(self.clone()), ip })
    }
}

/// One connection's place in its address's count; given back when dropped.
struct AddressSlot {
    owner: Option<PerAddress>,
    ip: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let Some(owner) = &self.owner else { return };
        let mut held = owner.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// A TCP listener that admits connections within the limit while the bridge is not draining.
#[derive(Debug)]
pub struct AdmittedListener {
    inner: TcpListener,
    admission: Admission,
    per_address: PerAddress,
    idle: Duration,
    drain: Watch,
    close: watch::Receiver<bool>,
}

impl AdmittedListener {
    /// `close` turning true closes every connection still open (the drain deadline passed); a
    /// connection silent both ways for `idle` is closed.
    pub fn new(
        inner: TcpListener,
        admission: Admission,
        per_address: PerAddress,
        idle: Duration,
        drain: Watch,
        close: watch::Receiver<bool>,
    ) -> Self {
        Self { inner, admission, per_address, idle, drain, close }
    }
}

/// Resolves once the server closes the connections left after the drain deadline.
type Closing = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An admitted connection: the TCP stream, its admission slot, its drain guard, and the signal that
/// closes it once the drain deadline passed.
pub struct AdmittedStream {
    stream: TcpStream,
    closing: Closing,
    idle: Duration,
    /// The last byte read or written.
    last: Instant,
    /// Fires at `last + idle` (or earlier: it is moved on when it fires and there was traffic since).
    idle_timer: Pin<Box<Sleep>>,
    _address: AddressSlot,
    _permit: ConnectionPermit,
    _guard: DrainGuard,
}

impl std::fmt::Debug for AdmittedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmittedStream").field("peer", &self.stream.peer_addr().ok()).finish_non_exhaustive()
    }
}

impl AdmittedStream {
    /// An error once the connection is to be closed (registering the task to be woken for it otherwise).
    fn closed(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        self.closing
            .as_mut()
            .poll(cx)
            .is_ready()
            .then(|| io::Error::new(io::ErrorKind::ConnectionAborted, "closed: the drain deadline passed"))
    }

    /// An error once the connection was silent both ways for the idle timeout (registering the task to
    /// be woken at the deadline otherwise).
    fn idle_over(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        while self.idle_timer.as_mut().poll(cx).is_ready() {
            let deadline = self.last + self.idle;
            if Instant::now() >= deadline {
                metrics::counter!("quip_bridge_idle_closed_total").increment(1);
                return Some(io::Error::new(io::ErrorKind::TimedOut, "closed: idle for too long"));
            }
            self.idle_timer.as_mut().reset(deadline);
        }
        None
    }
}

impl axum::serve::Listener for AdmittedListener {
    type Io = AdmittedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: say so, give the system a moment, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(guard) = self.drain.guard() else {
                // Draining: the listener is about to stop; a connection that raced in is closed.
                continue;
            };
            let Some(address) = self.per_address.try_take(addr.ip()) else {
                metrics::counter!(quip_service::REFUSED_METRIC, "limit" => "connections_per_address").increment(1);
                tracing::debug!(%addr, "connection refused: too many from this address");
                continue;
            };
            match self.admission.try_connection() {
                Ok(permit) => {
                    // Socket.IO frames are small and latency-bound: no Nagle delay behind a delayed ACK.
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%addr, error = %e, "TCP_NODELAY not set");
                    }
                    let mut close = self.close.clone();
                    let closing: Closing = Box::pin(async move {
                        // A dropped sender (the server gone) closes too.
                        let _ = close.wait_for(|close| *close).await;
                    });
                    let idle_timer = Box::pin(tokio::time::sleep(self.idle));
                    let stream = AdmittedStream {
                        stream,
                        closing,
                        idle: self.idle,
                        last: Instant::now(),
                        idle_timer,
                        _address: address,
                        _permit: permit,
                        _guard: guard,
                    };
                    return (stream, addr);
                }
                Err(refused) => {
                    metrics::counter!(quip_service::REFUSED_METRIC, "limit" => refused.limit()).increment(1);
                    tracing::debug!(%addr, %refused, "connection refused");
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for AdmittedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.closed(cx).or_else(|| self.idle_over(cx)) {
            return Poll::Ready(Err(e));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.last = Instant::now();
        }
        read
    }
}

impl AsyncWrite for AdmittedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(e) = self.closed(cx) {
            return Poll::Ready(Err(e));
        }
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.last = Instant::now();
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.closed(cx) {
            return Poll::Ready(Err(e));
        }
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.last = Instant::now();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
