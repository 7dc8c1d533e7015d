//! The one seam between the client and the network: a [`Transport`] opens a [`Session`] (a connection with
//! its control stream open and its event stream about to arrive). Everything above it — Hello/Welcome,
//! requests, events, reconnect — is the same whatever the transport, so tests can plug in their own.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use quinn::crypto::rustls::QuicClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::event_source::EventSource;
use crate::{ClientConfig, Error};

/// A boxed reading half.
pub type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
/// A boxed writing half.
pub type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;
/// Closes a connection with an application code and reason.
pub(crate) type CloseFn = Box<dyn FnOnce(u32, &str) + Send>;

/// Opens sessions to the broker.
///
/// Implementations only move bytes: they connect, open the control stream and hand over the event stream
/// the broker opens after `Welcome`. The client speaks the protocol on top.
pub trait Transport: Send + Sync + 'static {
    /// Connects to `config.server` and opens the control stream. Called again for every reconnect.
    fn connect(&self, config: &ClientConfig) -> impl Future<Output = Result<Session, Error>> + Send;
}

/// How a connection ended, as far as the transport knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The application close code when the peer closed on purpose (quipd: 0 normal, 1 protocol error,
    /// 2 authentication failed, 3 shutdown, 4 token expired).
    pub code: Option<u64>,
    /// The close reason (quipd puts the error code's name there when it refuses a Hello).
    pub reason: String,
}

impl fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "closed by the broker with code {code}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// An open connection: the control stream (both halves), the event stream to come, and how to learn
/// about and cause the end of the connection.
pub struct Session {
    pub(crate) control_send: BoxWrite,
    pub(crate) control_recv: BoxRead,
    pub(crate) events: BoxFuture<'static, Result<EventSource, Error>>,
    pub(crate) closed: BoxFuture<'static, CloseInfo>,
    pub(crate) close: CloseFn,
    /// The connection carries other sessions too: `Hello.multiplexed` is set.
    pub(crate) multiplexed: bool,
    /// The transport reads the connection's shared event stream: `Hello.shared_events` is set.
    pub(crate) shared_events: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// A session from its control stream halves and a future resolving to the event stream (which the
    /// broker opens after it sent `Welcome`).
    pub fn new<W, R, E, F>(control_send: W, control_recv: R, events: F) -> Self
    where
        W: AsyncWrite + Send + Unpin + 'static,
        R: AsyncRead + Send + Unpin + 'static,
        E: AsyncRead + Send + Unpin + 'static,
        F: Future<Output = Result<E, Error>> + Send + 'static,
    {
        Self::with_source(
            control_send,
            control_recv,
            async move { events.await.map(|e| EventSource::stream(Box::new(e))) },
        )
    }

    /// A session whose event frames come from `events` (a gateway's share of its shared stream).
    pub(crate) fn with_source<W, R, F>(control_send: W, control_recv: R, events: F) -> Self
    where
        W: AsyncWrite + Send + Unpin + 'static,
        R: AsyncRead + Send + Unpin + 'static,
        F: Future<Output = Result<EventSource, Error>> + Send + 'static,
    {
        Self {
            control_send: Box::new(control_send),
            control_recv: Box::new(control_recv),
            events: Box::pin(events),
            closed: Box::pin(std::future::pending()),
            close: Box::new(|_, _| {}),
            multiplexed: false,
            shared_events: false,
        }
    }

    /// Marks the session as one of many on its connection (the broker is told in `Hello.multiplexed`;
    /// ending the session then leaves the connection open).
    pub fn multiplexed(mut self) -> Self {
        self.multiplexed = true;
        self
    }

    /// With [`multiplexed`](Self::multiplexed): the transport reads the connection's shared event stream
    /// (`Hello.shared_events`) and resolves the session's event stream to its share of it.
    pub fn shared_events(mut self) -> Self {
        self.shared_events = true;
        self
    }

    /// A future that resolves when the connection is gone, saying why (default: never).
    pub fn with_closed(mut self, closed: impl Future<Output = CloseInfo> + Send + 'static) -> Self {
        self.closed = Box::pin(closed);
        self
    }

    /// How to close the connection with an application code and reason (default: do nothing; dropping the
    /// streams is then the close).
    pub fn with_close(mut self, close: impl FnOnce(u32, &str) + Send + 'static) -> Self {
        self.close = Box::new(close);
        self
    }
}

/// QUIC (quinn) with TLS 1.3 from rustls and ring, ALPN `quip/1`. A fresh client endpoint (UDP socket,
/// bound to `0.0.0.0:0` or `[::]:0` after the server's family) per connection, so a reconnect after a
/// network change starts from a working socket.
#[derive(Debug, Clone, Default)]
pub struct QuicTransport {
    _private: (),
}

impl QuicTransport {
    pub fn new() -> Self {
        Self::default()
    }
}

/// QUIC keep-alives keep NAT bindings open and the broker's idle timer (3 heartbeats) fed even while the
/// app is not reading events.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// A silent broker is declared gone after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn transport_error(context: &str, e: impl fmt::Display) -> Error {
    Error::Transport(format!("{context}: {e}"))
}

impl Transport for QuicTransport {
    async fn connect(&self, config: &ClientConfig) -> Result<Session, Error> {
        let (endpoint, conn) = dial(config, 4).await?;
        let (send, recv) = conn.open_bi().await.map_err(|e| transport_error("control stream", e))?;

        let events_conn = conn.clone();
        let events = async move { events_conn.accept_uni().await.map_err(|e| transport_error("event stream", e)) };
        let closed_conn = conn.clone();
        let closed = async move {
            let info = close_info(closed_conn.closed().await);
            // The endpoint lives as long as its connection is watched.
            drop(endpoint);
            info
        };
        Ok(Session::new(send, recv, events)
            .with_closed(closed)
            .with_close(move |code, reason| conn.close(code.into(), reason.as_bytes())))
    }
}

/// Opens a QUIC connection to `config.server` from a fresh client endpoint, accepting up to `uni_streams`
/// event streams at once (one per session the connection will carry).
pub(crate) async fn dial(
    config: &ClientConfig,
    uni_streams: u32,
) -> Result<(quinn::Endpoint, quinn::Connection), Error> {
    let crypto = crate::tls::client_config(&config.trust)?;
    let quic = QuicClientConfig::try_from(crypto).map_err(|e| Error::Config(format!("QUIC TLS: {e}")))?;
    let mut client = quinn::ClientConfig::new(Arc::new(quic));
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(KEEP_ALIVE));
    transport.max_idle_timeout(Some(IDLE_TIMEOUT.try_into().map_err(|e| Error::Config(format!("{e}")))?));
    transport.max_concurrent_uni_streams(uni_streams.into());
    transport.ack_frequency_config(Some(ack_frequency()));
    client.transport_config(Arc::new(transport));

    let bind: SocketAddr = if config.server.is_ipv6() {
        SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
    } else {
        SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
    };
    let mut endpoint = client_endpoint(bind).map_err(|e| transport_error("bind", e))?;
    endpoint.set_default_client_config(client);
    let conn = endpoint
        .connect(config.server, &config.server_name)
        .map_err(|e| transport_error("connect", e))?
        .await
        .map_err(|e| transport_error("handshake", e))?;
    tracing::debug!(server = %config.server, "QUIC connection established");
    Ok((endpoint, conn))
}

/// What the client asks of the server's acknowledgements (QUIC ACK frequency extension): one ACK per
/// ten packets or 25 ms, not one per two packets. A client sends small requests one by one; their ACKs
/// mostly ride on the replies, and the rest no longer cost a datagram each way per request.
pub(crate) fn ack_frequency() -> quinn::AckFrequencyConfig {
    let mut cfg = quinn::AckFrequencyConfig::default();
    cfg.ack_eliciting_threshold(9u32.into());
    cfg
}

/// Receive buffer asked for a client's UDP socket: a burst of events (a busy group, a resume replay)
/// must not overflow the kernel's default (~208 KiB) and wait for QUIC's loss timers. Linux caps it at
/// `net.core.rmem_max`.
pub const UDP_RECEIVE_BUFFER: usize = 2 * 1024 * 1024;

/// A client QUIC endpoint on `bind`, its socket's receive buffer sized to [`UDP_RECEIVE_BUFFER`] (best
/// effort: a smaller buffer still works).
pub fn client_endpoint(bind: SocketAddr) -> std::io::Result<quinn::Endpoint> {
    let socket = std::net::UdpSocket::bind(bind)?;
    if let Err(e) = socket2::SockRef::from(&socket).set_recv_buffer_size(UDP_RECEIVE_BUFFER) {
        tracing::debug!(error = %e, "cannot size the UDP receive buffer");
    }
    quinn::Endpoint::new(quinn::EndpointConfig::default(), None, socket, Arc::new(quinn::TokioRuntime))
}

pub(crate) fn close_info(e: quinn::ConnectionError) -> CloseInfo {
    match e {
        quinn::ConnectionError::ApplicationClosed(close) => CloseInfo {
            code: Some(close.error_code.into_inner()),
            reason: String::from_utf8_lossy(&close.reason).into_owned(),
        },
        other => CloseInfo { code: None, reason: other.to_string() },
    }
}
