//! The bridge's client listeners behind admission and the drain: a TCP connection past
//! `limits.max_connections` is closed at once (counted in `quip_admission_refused_total{limit}`), and
//! every admitted connection holds a guard of the drain until it closes, so shutdown waits for the open
//! connections under `shutdown.drain_timeout_ms` and no longer.
//!
//! Concurrency: the admission limit is an atomic counter (`quip_service::Admission`); the permit and the
//! drain guard live inside the connection's stream, so they are released exactly when hyper drops it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use quip_service::{Admission, ConnectionPermit, DrainGuard, Watch};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener that admits connections within the limit while the bridge is not draining.
#[derive(Debug)]
pub struct AdmittedListener {
    inner: TcpListener,
    admission: Admission,
    drain: Watch,
}

impl AdmittedListener {
    pub fn new(inner: TcpListener, admission: Admission, drain: Watch) -> Self {
        Self { inner, admission, drain }
    }
}

/// An admitted connection: the TCP stream, its admission slot and its drain guard.
#[derive(Debug)]
pub struct AdmittedStream {
    stream: TcpStream,
    _permit: ConnectionPermit,
    _guard: DrainGuard,
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
            match self.admission.try_connection() {
                Ok(permit) => {
                    // Socket.IO frames are small and latency-bound: no Nagle delay behind a delayed ACK.
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%addr, error = %e, "TCP_NODELAY not set");
                    }
                    return (AdmittedStream { stream, _permit: permit, _guard: guard }, addr);
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
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AdmittedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
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
