//! Quip over QUIC through the real SDK (`quip_sdk::Client`), one QUIC connection and one session per
//! user, as a phone or laptop has. To hold tens of thousands of connections without a UDP socket (file
//! descriptor) each, [`Endpoints`] is an SDK [`Transport`] that dials from a few shared quinn endpoints
//! with the SDK's own transport settings; everything above the transport (Hello, requests, events) is
//! the SDK's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use quinn::crypto::rustls::QuicClientConfig;
use quip_sdk::{
    Client, ClientConfig, Event, EventStream, ReconnectPolicy, ResumePoint, SendMessage, Session, Transport, Trust,
};

use super::topology::{Sink, Topology};
use crate::servers::Quipd;
use crate::stats::Recorder;

/// The SDK's QUIC settings (sdk/src/transport.rs): keep-alive, idle timeout, event streams accepted.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const UNI_STREAMS: u32 = 4;
/// Connections opened at once while setting up.
pub const CONNECT_CONCURRENCY: usize = 64;

/// A few client endpoints (UDP sockets) shared by every connection, round robin.
#[derive(Clone)]
pub struct Endpoints {
    inner: Arc<EndpointsInner>,
}

struct EndpointsInner {
    endpoints: Vec<quinn::Endpoint>,
    next: AtomicUsize,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints").field("count", &self.inner.endpoints.len()).finish()
    }
}

impl Endpoints {
    /// `count` endpoints trusting `cert_pem` (quipd's certificate, or its CA) for the name `localhost`.
    pub fn new(count: usize, cert_pem: &[u8]) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(cert_pem) {
            roots.add(cert.context("parsing the certificate PEM")?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![quip_protocol::ALPN.to_vec()];
        let mut client = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls)?));
        let mut transport = quinn::TransportConfig::default();
        transport.keep_alive_interval(Some(KEEP_ALIVE));
        transport.max_idle_timeout(Some(IDLE_TIMEOUT.try_into()?));
        transport.max_concurrent_uni_streams(UNI_STREAMS.into());
        client.transport_config(Arc::new(transport));
        let endpoints = (0..count.max(1))
            .map(|_| {
                let mut ep = quip_sdk::client_endpoint(SocketAddr::from(([127, 0, 0, 1], 0)))?;
                ep.set_default_client_config(client.clone());
                Ok(ep)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { inner: Arc::new(EndpointsInner { endpoints, next: AtomicUsize::new(0) }) })
    }
}

fn transport_error(context: &str, e: impl std::fmt::Display) -> quip_sdk::Error {
    quip_sdk::Error::Transport(format!("{context}: {e}"))
}

impl Transport for Endpoints {
    async fn connect(&self, config: &ClientConfig) -> Result<Session, quip_sdk::Error> {
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.endpoints.len();
        let conn = self.inner.endpoints[i]
            .connect(config.server, &config.server_name)
            .map_err(|e| transport_error("connect", e))?
            .await
            .map_err(|e| transport_error("handshake", e))?;
        let (send, recv) = conn.open_bi().await.map_err(|e| transport_error("control stream", e))?;
        let events_conn = conn.clone();
        let events = async move { events_conn.accept_uni().await.map_err(|e| transport_error("event stream", e)) };
        let closed_conn = conn.clone();
        let closed = async move {
            let e = closed_conn.closed().await;
            quip_sdk::CloseInfo { code: None, reason: e.to_string() }
        };
        Ok(Session::new(send, recv, events)
            .with_closed(closed)
            .with_close(move |code, reason| conn.close(code.into(), reason.as_bytes())))
    }
}

/// Connects `user` (device `device`) to quipd: no reconnect (a drop is a failure to report), no delivery
/// reports unless asked (see the `--receipts` flag), `event_buffer` events buffered.
pub async fn connect(
    quipd: &Quipd,
    endpoints: &Endpoints,
    user: &str,
    device: &str,
    opts: ConnectOpts,
) -> anyhow::Result<(Client, EventStream)> {
    let mut config = ClientConfig::new(quipd.addr, Trust::CaPem(quipd.cert_pem.clone()), quipd.token(user)?, device);
    config.reconnect = ReconnectPolicy::disabled();
    config.report_delivered = opts.receipts;
    config.event_buffer = opts.event_buffer;
    config.request_timeout = Duration::from_secs(30);
    config.resume = opts.resume;
    Ok(Client::connect_with(endpoints.clone(), config).await?)
}

/// Per-connection options.
#[derive(Debug, Clone, Default)]
pub struct ConnectOpts {
    pub receipts: bool,
    pub event_buffer: usize,
    pub resume: Option<ResumePoint>,
}

/// Sends a text and waits for its ack (the message is then durable).
pub async fn send(client: &Client, conversation_id: u64, text: String) -> anyhow::Result<()> {
    client.send(SendMessage { conversation_id, text, ..SendMessage::default() }).await?;
    Ok(())
}

/// Users connected, conversations made, receivers recording.
#[derive(Debug)]
pub struct QuipHarness {
    clients: Vec<Client>,
    /// A sender per channel: its user's client and where it sends.
    senders: Vec<(Client, u64)>,
    _endpoints: Endpoints,
}

impl QuipHarness {
    pub async fn setup(
        quipd: &Quipd,
        topology: &Topology,
        recorder: Arc<Recorder>,
        endpoints: usize,
        receipts: bool,
    ) -> anyhow::Result<Self> {
        let eps = Endpoints::new(endpoints, &quipd.cert_pem)?;
        let opts = ConnectOpts { receipts, event_buffer: 4096, resume: None };
        let connected: Vec<(Client, EventStream)> = futures_util::stream::iter(0..topology.users)
            .map(|u| {
                let (eps, opts) = (eps.clone(), opts.clone());
                async move { connect(quipd, &eps, &Topology::user(u), "bench", opts).await }
            })
            .buffered(CONNECT_CONCURRENCY)
            .try_collect()
            .await?;
        let inbound = topology.inbound();
        let mut clients = Vec::with_capacity(connected.len());
        for (u, (client, events)) in connected.into_iter().enumerate() {
            let sink = Sink::new(u, inbound[u].clone(), recorder.clone());
            tokio::spawn(receive(events, sink));
            clients.push(client);
        }
        let mut senders = Vec::with_capacity(topology.channels.len());
        for (i, channel) in topology.channels.iter().enumerate() {
            let client = &clients[channel.sender];
            let conv = if let [peer] = channel.receivers.as_slice() {
                client.open_direct(Topology::user(*peer), None).await?
            } else {
                let members = channel.receivers.iter().map(|&r| Topology::user(r));
                client.create_group(format!("bench group {i}"), members).await?
            };
            senders.push((client.clone(), conv.conversation.id));
        }
        Ok(Self { clients, senders, _endpoints: eps })
    }

    pub fn senders(&self) -> &[(Client, u64)] {
        &self.senders
    }

    pub async fn close(self) {
        futures_util::stream::iter(self.clients)
            .for_each_concurrent(CONNECT_CONCURRENCY, |c| async move { c.close().await })
            .await;
    }
}

/// Reads a user's event stream until it ends, recording message deliveries.
async fn receive(mut events: EventStream, sink: Sink) {
    while let Some(event) = events.next_event().await {
        match event {
            Event::Message { message, .. } => sink.deliver(&message.text),
            Event::Disconnected { will_reconnect: false, reason } => {
                tracing::debug!(user = sink.user, ?reason, "session ended");
            }
            _ => {}
        }
    }
}
