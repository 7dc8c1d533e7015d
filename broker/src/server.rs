//! The QUIC listener: `Server::bind` opens the store, starts the writer and binds the endpoint;
//! `Server::run(shutdown)` accepts connections until `shutdown` resolves, then drains.
//!
//! Shutdown, in order: readiness goes false (the admin listener keeps answering `/readyz` with 503);
//! stop accepting; tell every session (they finish in-flight sends, send Goodbye(ServerShutdown) and
//! close); wait for them up to the drain deadline; stop the presence timers and wait for presence jobs;
//! stop the admin listener; stop the writer after the commands already queued; flush RocksDB; wait for
//! the connections to close.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use quinn::crypto::rustls::QuicServerConfig;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::fanout::{HubPublisher, ReceiptAudience};
use crate::hub::Hub;
use crate::presence::{Presence, PresenceConfig};
use crate::tls::TlsMaterial;
use crate::{Broker, session};
use quip_store::{Store, Writer};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("cannot start the server's thread or runtime: {0}")]
    Thread(std::io::Error),
    #[error("the server's thread panicked")]
    Panicked,
    #[error("cannot read the bound address: {0}")]
    LocalAddr(std::io::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("store: {0}")]
    Store(#[from] quip_store::StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("QUIC configuration: {0}")]
    Quic(String),
}

/// Asks for `bytes` of receive and send buffer on the QUIC socket and logs what the kernel granted
/// (Linux caps it at `net.core.rmem_max` / `wmem_max` and reports twice the usable size).
fn size_udp_buffers(socket: &std::net::UdpSocket, bytes: usize) {
    let sock = socket2::SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(bytes) {
        tracing::warn!(error = %e, bytes, "cannot size the UDP receive buffer");
    }
    if let Err(e) = sock.set_send_buffer_size(bytes) {
        tracing::warn!(error = %e, bytes, "cannot size the UDP send buffer");
    }
    // Linux reports twice what it grants (the other half is its bookkeeping).
    let halve = |n: usize| if cfg!(target_os = "linux") { n / 2 } else { n };
    let recv = halve(sock.recv_buffer_size().unwrap_or(0));
    let send = halve(sock.send_buffer_size().unwrap_or(0));
    if recv < bytes {
        tracing::warn!(asked = bytes, granted = recv, "UDP receive buffer smaller than asked: raise net.core.rmem_max");
    } else {
        tracing::info!(recv, send, "UDP socket buffers");
    }
}

/// The QUIC server configuration for a certificate and key.
fn quic_config(tls: &TlsMaterial, transport: Arc<quinn::TransportConfig>) -> Result<quinn::ServerConfig, ServerError> {
    let quic = QuicServerConfig::try_from(tls.server_config()?).map_err(|e| ServerError::Quic(e.to_string()))?;
    let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    server_config.transport_config(transport);
    Ok(server_config)
}

/// Reloads the certificate and key from disk. New connections get the new ones; connections already
/// open keep theirs (QUIC does not renegotiate), so nobody is dropped.
#[derive(Clone)]
pub struct TlsReloader {
    tls: crate::config::TlsConfig,
    data_dir: std::path::PathBuf,
    transport: Arc<quinn::TransportConfig>,
    broker: std::sync::Weak<Broker>,
}

impl std::fmt::Debug for TlsReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsReloader").field("cert", &self.tls.cert).finish_non_exhaustive()
    }
}

impl TlsReloader {
    /// Loads the files again and serves them to new connections; returns the new fingerprint. A bad file
    /// leaves the current certificate in place. Does nothing once the server is shutting down.
    pub fn reload(&self) -> Result<String, ServerError> {
        // Held weakly: a reloader never keeps a stopped server's socket bound.
        let broker = self.broker.upgrade().filter(|b| !b.draining.load(std::sync::atomic::Ordering::Acquire));
        let Some(broker) = broker else {
            return Err(ServerError::Quic("shutting down: the certificate is not reloaded".into()));
        };
        let tls = TlsMaterial::load(&self.tls, &self.data_dir)?;
        broker.endpoint.set_server_config(Some(quic_config(&tls, self.transport.clone())?));
        let fingerprint = tls.fingerprint();
        tracing::info!(%fingerprint, "TLS certificate reloaded");
        Ok(fingerprint)
    }
}

/// Control streams a connection may open before its first Hello says it is a gateway. quinn keeps an
/// entry per stream a peer may open, in two maps, for every connection: allowing a gateway's 4096 to
/// every phone cost ~380 KiB of memory per idle connection (measured: BENCHMARKS.md), so the limit is
/// raised for gateways only.
const NATIVE_BIDI_STREAMS: u32 = 2;

/// How long the end of `run` waits for the last tasks holding the store (blocking reads in flight)
/// before closing it.
const STORE_CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A bound, not yet running, quipd.
pub struct Server {
    broker: Arc<Broker>,
    endpoint: quinn::Endpoint,
    admin: tokio::net::TcpListener,
    admin_token: String,
    writer_thread: std::thread::JoinHandle<()>,
    notify_thread: std::thread::JoinHandle<()>,
    fingerprint: String,
    transport: Arc<quinn::TransportConfig>,
    /// Connections held and handshakes in flight (`limits.max_connections`, `limits.max_handshakes`).
    admission: quip_service::Admission,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.endpoint.local_addr().ok()).finish_non_exhaustive()
    }
}

impl Server {
    /// Validates `cfg`, opens the store under `cfg.data_dir`, starts the writer and binds `cfg.listen`.
    pub fn bind(cfg: Config) -> Result<Self, ServerError> {
        Self::bind_with(cfg, PresenceConfig::default())
    }

    /// As [`Server::bind`], with presence settings other than the defaults (tests shorten the grace
    /// period after a user's last device disconnects).
    pub fn bind_with(cfg: Config, presence: PresenceConfig) -> Result<Self, ServerError> {
        cfg.validate()?;
        let admission = quip_service::Admission::new(cfg.admission()).map_err(|e| {
            crate::config::ConfigError::Invalid { setting: "limits.max_connections", reason: e.to_string() }
        })?;
        crate::telemetry::install();
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| ServerError::DataDir(cfg.data_dir.display().to_string(), e))?;
        let tls = TlsMaterial::load(&cfg.tls, &cfg.data_dir)?;
        let secret = if cfg.auth.hs256_secret.is_empty() {
            crate::tls::dev_secret(&cfg.data_dir)?
        } else {
            cfg.auth.hs256_secret.as_bytes().to_vec()
        };
        let auth = Arc::new(Authenticator::new(&cfg.auth, Some(&secret))?);
        let store = Store::open(&cfg.data_dir.join("store"), &cfg.store)?;
        let hub = Arc::new(Hub::default());
        let webhook = crate::webhook::Webhook::start(&cfg.webhook);
        let stats = Arc::new(crate::stats::Stats::default());
        let publisher = HubPublisher {
            hub: hub.clone(),
            store: store.clone(),
            webhook,
            stats: stats.clone(),
            receipts: ReceiptAudience::new(cfg.limits.receipt_broadcast_max_members),
        };
        let (writer, writer_thread) = Writer::start(store.clone(), &cfg.store, publisher)?;

        let mut transport = quinn::TransportConfig::default();
        let idle = Duration::from_millis(u64::from(cfg.limits.heartbeat_ms) * 3);
        transport.max_idle_timeout(Some(idle.try_into().map_err(|e| ServerError::Quic(format!("{e}")))?));
        // A native client uses one control stream; a gateway one per user session it carries (raised
        // once its first Hello says so). The connection-wide receive window bounds what all of a
        // connection's streams may buffer.
        transport.max_concurrent_bidi_streams(NATIVE_BIDI_STREAMS.into());
        transport.max_concurrent_uni_streams(4u32.into());
        transport.receive_window((16u32 * 1024 * 1024).into());
        transport.stream_receive_window((cfg.limits.max_frame_size * 2).into());
        // Clients acknowledge events once per ten packets or 25 ms (QUIC ACK frequency extension), not
        // once per two: in a fan-out that halves the datagrams quipd receives per delivery.
        let mut ack_frequency = quinn::AckFrequencyConfig::default();
        ack_frequency.ack_eliciting_threshold(9u32.into());
        transport.ack_frequency_config(Some(ack_frequency));
        let transport = Arc::new(transport);
        let server_config = quic_config(&tls, transport.clone())?;
        let socket = std::net::UdpSocket::bind(cfg.listen).map_err(|e| ServerError::Bind(cfg.listen, e))?;
        size_udp_buffers(&socket, cfg.limits.udp_buffer_bytes);
        let endpoint = quinn::Endpoint::new(
            endpoint_config(&cfg.data_dir, cfg.limits.min_stateless_reset_interval_us)?,
            Some(server_config),
            socket,
            Arc::new(quinn::TokioRuntime),
        )
        .map_err(|e| ServerError::Bind(cfg.listen, e))?;

        let limits = quip_protocol::Limits { max_frame_size: cfg.limits.max_frame_size, ..Default::default() };
        let cfg_calls_ring = cfg.calls.ring_timeout_ms;
        let rate = crate::ratelimit::RateLimiter::new(cfg.rate_limits.native.clone());
        let rate_bridge = crate::ratelimit::RateLimiter::new(cfg.rate_limits.bridge.clone());
        let (notifier, notify_thread) = crate::notify::Notifier::start(store.clone(), hub.clone())?;
        let admin_token = if cfg.admin.token.is_empty() {
            crate::tls::dev_admin_token(&cfg.data_dir)?
        } else {
            cfg.admin.token.clone()
        };
        let admin = std::net::TcpListener::bind(cfg.admin.listen)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .and_then(tokio::net::TcpListener::from_std)
            .map_err(|e| ServerError::Bind(cfg.admin.listen, e))?;
        let card_fields = cfg.auth.profile_claims().map(|(field, _)| field.to_owned()).collect();
        let presence = Presence::new(store.clone(), hub.clone(), presence, card_fields);
        let calls =
            Arc::new(crate::calls::Calls::new(Duration::from_millis(cfg_calls_ring), hub.clone(), writer.clone()));
        let broker = Arc::new(Broker {
            cfg: Arc::new(cfg),
            limits,
            store,
            writer,
            hub,
            auth,
            rate,
            rate_bridge,
            stats,
            endpoint: endpoint.clone(),
            presence,
            calls,
            notifier,
            draining: std::sync::atomic::AtomicBool::new(false),
            next_session: AtomicU64::new(1),
        });
        Ok(Self {
            broker,
            endpoint,
            admin,
            admin_token,
            writer_thread,
            notify_thread,
            fingerprint: tls.fingerprint(),
            transport,
            admission,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Where the admin HTTP listener is bound.
    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin.local_addr()
    }

    /// The bearer token of the admin API.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// SHA-256 fingerprint of the certificate served (what clients pin).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// What reloads the TLS certificate and key from disk (on SIGHUP) without dropping connections.
    pub fn tls_reloader(&self) -> TlsReloader {
        TlsReloader {
            tls: self.broker.cfg.tls.clone(),
            data_dir: self.broker.cfg.data_dir.clone(),
            transport: self.transport.clone(),
            broker: Arc::downgrade(&self.broker),
        }
    }

    /// Accepts connections until `shutdown` resolves, then drains and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server { broker, endpoint, writer_thread, notify_thread, admin, admin_token, admission, .. } = self;
        let broker_for_admin = broker.clone();
        // Sessions hold a guard of the drain while they run; shutdown signals it and waits for them
        // under the deadline.
        let drain = quip_service::Drain::new();
        let watch = drain.watch();
        let stats = broker.stats.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                quip_service::metrics::upkeep();
                stats.upkeep();
            }
        });
        // The admin listener outlives the drain, so probes see /readyz answer "draining" (503) meanwhile.
        let (admin_stop_tx, admin_stop) = watch::channel(false);
        let admin_server = tokio::spawn(async move {
            let app = crate::admin::router(broker_for_admin, &admin_token);
            quip_service::http::serve(admin, app, quip_service::http::ADMIN_LIMITS, admin_stop).await;
        });
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                incoming = endpoint.accept() => {
                    let Some(incoming) = incoming else { break };
                    metrics::counter!("quip_connections_total", "transport" => "quic").increment(1);
                    let admitted = admission.try_connection().and_then(|connection| {
                        admission.try_handshake().map(|handshake| session::Admitted { connection, handshake })
                    });
                    match (admitted, watch.guard()) {
                        (Ok(admitted), Some(guard)) => {
                            let serve = session::serve(broker.clone(), incoming, admitted, watch.clone());
                            sessions.spawn(async move {
                                let _guard = guard;
                                serve.await;
                            });
                        }
                        (Err(refused), _) => {
                            metrics::counter!(quip_service::REFUSED_METRIC, "limit" => refused.limit()).increment(1);
                            tracing::debug!(remote = %incoming.remote_address(), %refused, "connection refused");
                            incoming.refuse();
                        }
                        (Ok(_), None) => incoming.refuse(),
                    }
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }

        tracing::info!(sessions = sessions.len(), "shutting down: draining sessions");
        broker.draining.store(true, std::sync::atomic::Ordering::Release);
        endpoint.set_server_config(None);
        let deadline = tokio::time::Instant::now() + broker.drain_timeout() + Duration::from_secs(1);
        if let quip_service::DrainOutcome::TimedOut { remaining } = drain.drain(deadline).await {
            tracing::warn!(remaining, "drain deadline passed; closing the rest");
            sessions.abort_all();
        }
        // Wait for every session task to be dropped (aborted ones too), so that they are counted out of
        // presence before it shuts down.
        while sessions.join_next().await.is_some() {}

        // Last-seen times of the sessions that just ended are written before the store closes.
        broker.presence.shutdown().await;
        let _ = admin_stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(2), admin_server).await;
        let store = broker.store.clone();
        let writer = broker.writer.clone();
        drop(broker);
        writer.shutdown().await;
        // The feed thread ends when the last Notifier (the broker's) is gone.
        let _ = tokio::task::spawn_blocking(move || (writer_thread.join(), notify_thread.join())).await;
        if let Err(e) = store.flush() {
            tracing::error!(error = %e, "flushing the store failed");
        }
        endpoint.close(crate::wire::close_code::SHUTDOWN.into(), b"server shutting down");
        let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
        upkeep.abort();
        // RocksDB is closed here, not whenever the last handle happens to drop: a database still
        // closing while the process exits aborts in RocksDB's static destructors.
        match tokio::task::spawn_blocking(move || store.close(STORE_CLOSE_WAIT)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "closing the store failed"),
            Err(e) => tracing::error!(error = %e, "closing the store failed"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The endpoint's keys outlive the process (derived from a random file in the data directory): the
/// stateless-reset key, and the key that connection ids are made and recognised with. After a restart,
/// a client's next packet for its old connection then has an id quipd recognises as its own, and is
/// answered with a reset the client can verify, so the client reconnects at once instead of waiting
/// out its idle timeout (30 s). Only packets whose connection id passes that check get one. Any spacing
/// between resets (quinn's default is 20 ms; 1 ms here before) is counted per receive batch, which quinn
/// stamps with one instant, and told only a few hundred of 2 000 clients a second; the rest backed off
/// until their idle timeout. The default here is no spacing (`limits.min_stateless_reset_interval_us`).
fn endpoint_config(data_dir: &std::path::Path, reset_interval_us: u64) -> Result<quinn::EndpointConfig, ServerError> {
    let secret = crate::tls::quic_reset_key(data_dir)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
    let tag = ring::hmac::sign(&key, b"quip connection ids");
    let mut cid_key = [0u8; 8];
    cid_key.copy_from_slice(&tag.as_ref()[..8]);
    let cid_key = u64::from_le_bytes(cid_key);
    let mut config = quinn::EndpointConfig::new(Arc::new(key));
    config.cid_generator(move || Box::new(quinn_proto::HashedConnectionIdGenerator::from_key(cid_key)));
    config.min_reset_interval(Duration::from_micros(reset_interval_us));
    Ok(config)
}
