//! Test harness: a real quipd on 127.0.0.1:0 with a real RocksDB in a temp dir, and a raw protocol
//! client (quinn + quip-protocol, no SDK) for tests that need to send what the SDK never would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use quip_broker::auth::{Authenticator, Claims, dev_claims};
use quip_broker::config::Config;
use quip_broker::{BackgroundServer, PresenceConfig};
use quip_protocol::family::messages::{Direction, GetHistory, Message, MessageAck, SendMessage};
use quip_protocol::family::session::{Hello, Welcome};
use quip_protocol::{ClientBody, ClientFrame, ErrorCode, ErrorReply, FrameDecoder, Limits, ServerBody, ServerFrame};

pub const WAIT: Duration = Duration::from_secs(10);

/// A running quipd.
pub struct TestBroker {
    pub addr: SocketAddr,
    pub fingerprint: String,
    /// The admin HTTP listener and its bearer token.
    pub admin_addr: SocketAddr,
    pub admin_token: String,
    pub data_dir: PathBuf,
    pub config: Config,
    /// Reloads the TLS certificate and key from disk, as SIGHUP does in quipd.
    pub tls_reloader: quip_broker::TlsReloader,
    /// quipd on a thread and runtime of its own: dropping it drains quipd and waits until RocksDB is
    /// closed, whatever becomes of the test's runtime.
    server: Option<BackgroundServer>,
    _dir: Option<tempfile::TempDir>,
}

pub fn config(data_dir: &Path) -> Config {
    Config::local(data_dir)
}

impl TestBroker {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let mut b = Self::start_with(cfg).await;
        b._dir = Some(dir);
        b
    }

    pub async fn start_with(cfg: Config) -> Self {
        Self::start_with_config_and_presence(cfg, PresenceConfig::default()).await
    }

    /// Starts quipd with `cfg` and `presence` settings.
    pub async fn start_with_config_and_presence(cfg: Config, presence: PresenceConfig) -> Self {
        let server = BackgroundServer::start(cfg.clone(), presence).unwrap();
        let started = server.started().clone();
        Self {
            addr: started.addr,
            fingerprint: started.fingerprint,
            admin_addr: started.admin_addr,
            admin_token: started.admin_token,
            data_dir: cfg.data_dir.clone(),
            config: cfg,
            tls_reloader: started.tls_reloader,
            server: Some(server),
            _dir: None,
        }
    }

    /// An HTTP/1.1 request to the admin listener; returns the status code and the body.
    pub async fn admin_call(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.admin_addr).await.unwrap();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }

    /// Graceful stop (as on SIGTERM); waits until quipd has flushed and exited.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            let stopped = tokio::task::spawn_blocking(move || server.stop());
            tokio::time::timeout(Duration::from_secs(20), stopped).await.expect("quipd did not stop").unwrap().unwrap();
        }
    }

    /// Stops and starts again on the same data directory (a new port).
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let dir = self._dir.take();
        let mut cfg = self.config.clone();
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        let mut b = Self::start_with(cfg).await;
        b._dir = dir;
        b
    }

    /// Stops quipd, hands its store to `edit` (e.g. to put rows that no request writes yet, through
    /// `Store::raw_db`), then starts it again on the same data directory (a new port).
    pub async fn restart_editing_store(mut self, edit: impl FnOnce(&quip_broker::store::Store)) -> Self {
        self.stop().await;
        {
            let store = quip_broker::store::Store::open(&self.data_dir.join("store"), &self.config.store).unwrap();
            edit(&store);
            store.flush().unwrap();
        }
        self.restart().await
    }

    fn authenticator(&self) -> Authenticator {
        let secret = quip_broker::tls::dev_secret(&self.data_dir).unwrap();
        Authenticator::new(&self.config.auth, Some(&secret)).unwrap()
    }

    pub fn token(&self, user: &str) -> String {
        let now = quip_broker::now_ms() / 1000;
        self.authenticator().mint(&dev_claims(user, Some(&user.to_uppercase()), now, 3600, &self.config.auth)).unwrap()
    }

    pub fn token_with(&self, claims: &Claims) -> String {
        self.authenticator().mint(claims).unwrap()
    }

    pub fn secret(&self) -> Vec<u8> {
        quip_broker::tls::dev_secret(&self.data_dir).unwrap()
    }

    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.data_dir.join("dev-cert.pem")).unwrap()
    }
}

/// A protocol-level client.
pub struct RawClient {
    pub conn: quinn::Connection,
    pub endpoint: quinn::Endpoint,
    send: quinn::SendStream,
    control: Reader,
    events: Option<Reader>,
    next_id: u64,
}

struct Reader {
    recv: quinn::RecvStream,
    decoder: FrameDecoder,
}

impl Reader {
    fn new(recv: quinn::RecvStream) -> Self {
        Self { recv, decoder: FrameDecoder::new(Limits::default().max_frame_size) }
    }

    async fn next(&mut self) -> Option<ServerFrame> {
        loop {
            if let Some(frame) = self.decoder.next_frame().unwrap() {
                return Some(ServerFrame::decode(&frame, &Limits::default()).unwrap());
            }
            match self.recv.read_chunk(65536, true).await {
                Ok(Some(chunk)) => self.decoder.extend(&chunk.bytes),
                _ => return None,
            }
        }
    }
}

impl RawClient {
    pub async fn connect(broker: &TestBroker) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&broker.cert_pem()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![quip_protocol::ALPN.to_vec()];
        let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
        let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
        let conn = endpoint.connect(broker.addr, "localhost").unwrap().await.unwrap();
        let (send, recv) = conn.open_bi().await.unwrap();
        Self { conn, endpoint, send, control: Reader::new(recv), events: None, next_id: 1 }
    }

    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.send.write_all(bytes).await.unwrap();
    }

    pub async fn send_frame(&mut self, body: impl Into<ClientBody>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let bytes = ClientFrame::new(id, body).encode();
        self.write_raw(&bytes).await;
        id
    }

    /// The next frame on the control stream.
    pub async fn reply(&mut self) -> Option<ServerFrame> {
        tokio::time::timeout(WAIT, self.control.next()).await.expect("no reply in time")
    }

    /// Sends Hello; on Welcome, accepts the event stream.
    pub async fn hello(
        &mut self,
        token: &str,
        device: &str,
        resume: Option<quip_protocol::ResumePoint>,
    ) -> Result<Welcome, ErrorReply> {
        let resuming = resume.is_some();
        self.send_frame(Hello {
            protocol_version: 1,
            token: token.into(),
            device_id: device.into(),
            resume,
            ..Hello::default()
        })
        .await;
        match self.reply().await.map(|f| f.body) {
            Some(ServerBody::Welcome(w)) => {
                let events = tokio::time::timeout(WAIT, self.conn.accept_uni()).await.unwrap().unwrap();
                self.events = Some(Reader::new(events));
                // Every event stream opens by naming its session.
                match self.event().await {
                    ServerBody::EventStreamOpen(open) => assert_eq!(open.session_id, w.session_id),
                    other => panic!("expected EventStreamOpen, got {other:?}"),
                }
                if !resuming {
                    // A fresh session's event stream opens with SyncDone.
                    let first = self.event().await;
                    assert!(matches!(first, ServerBody::SyncDone(_)), "{first:?}");
                }
                Ok(w)
            }
            Some(ServerBody::ErrorReply(e)) => Err(e),
            other => panic!("unexpected answer to Hello: {other:?}"),
        }
    }

    /// Sends a request and waits for its reply (skipping nothing: replies come in order here).
    pub async fn call(&mut self, body: impl Into<ClientBody>) -> ServerBody {
        let id = self.send_frame(body).await;
        let reply = self.reply().await.expect("control stream closed");
        assert_eq!(reply.request_id, id, "reply to another request: {reply:?}");
        reply.body
    }

    /// The next event, or None when the stream ended or nothing came within `wait`.
    pub async fn event_within(&mut self, wait: Duration) -> Option<ServerBody> {
        let events = self.events.as_mut()?;
        tokio::time::timeout(wait, events.next()).await.ok().flatten().map(|f| f.body)
    }

    pub async fn event(&mut self) -> ServerBody {
        self.event_within(WAIT).await.expect("no event in time")
    }

    pub fn raw_bytes(body: impl Into<ClientBody>) -> Bytes {
        ClientFrame::new(1, body).encode()
    }
}

/// quipd with presence settings other than the defaults (e.g. a short grace period).
impl TestBroker {
    /// Starts quipd in a fresh temp dir with `presence` settings.
    pub async fn start_with_presence(presence: quip_broker::PresenceConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let mut b = Self::start_with_config_and_presence(cfg, presence).await;
        b._dir = Some(dir);
        b
    }

    /// Stops and starts again on the same data directory (a new port) with `presence` settings.
    pub async fn restart_with_presence(mut self, presence: quip_broker::PresenceConfig) -> Self {
        self.stop().await;
        let dir = self._dir.take();
        let mut cfg = self.config.clone();
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        let mut b = Self::start_with_config_and_presence(cfg, presence).await;
        b._dir = dir;
        b
    }
}

/// A raw client logged in as `user` on `device` (fresh session: SyncDone already read).
pub async fn login(broker: &TestBroker, user: &str, device: &str) -> RawClient {
    let mut c = RawClient::connect(broker).await;
    c.hello(&broker.token(user), device, None).await.unwrap();
    c
}

/// Opens (gets or creates) the direct conversation with `peer`.
pub async fn direct(c: &mut RawClient, peer: &str) -> u64 {
    match c.call(quip_protocol::family::conversations::OpenDirect { peer_user_id: peer.into(), context: None }).await {
        ServerBody::ConversationInfo(info) => info.conversation.id,
        other => panic!("{other:?}"),
    }
}

/// Creates a group named "team" with the caller and `members`.
pub async fn group(c: &mut RawClient, members: &[&str]) -> u64 {
    let create = quip_protocol::family::conversations::CreateGroup {
        title: "team".into(),
        member_ids: members.iter().map(|m| (*m).to_owned()).collect(),
        ..Default::default()
    };
    match c.call(create).await {
        ServerBody::ConversationInfo(info) => info.conversation.id,
        other => panic!("{other:?}"),
    }
}

pub async fn send_msg(c: &mut RawClient, m: SendMessage) -> MessageAck {
    match c.call(m).await {
        ServerBody::MessageAck(ack) => ack,
        other => panic!("{other:?}"),
    }
}

pub async fn send(c: &mut RawClient, conv: u64, text: &str) -> MessageAck {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = format!("m-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    send_msg(c, SendMessage { conversation_id: conv, client_msg_id: id, text: text.into(), ..SendMessage::default() })
        .await
}

pub fn done(body: ServerBody) {
    assert!(matches!(body, ServerBody::Done(_)), "{body:?}");
}

pub fn code(body: &ServerBody) -> ErrorCode {
    match body {
        ServerBody::ErrorReply(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The next event `pick` accepts, skipping others (message events, receipts, unread counts...).
pub async fn until<T>(c: &mut RawClient, pick: impl Fn(ServerBody) -> Option<T>) -> T {
    loop {
        if let Some(t) = pick(c.event().await) {
            return t;
        }
    }
}

/// Whether an event `pick` accepts arrives within `wait`.
pub async fn sees(c: &mut RawClient, wait: Duration, pick: impl Fn(&ServerBody) -> bool) -> bool {
    while let Some(e) = c.event_within(wait).await {
        if pick(&e) {
            return true;
        }
    }
    false
}

pub async fn history(c: &mut RawClient, conv: u64) -> Vec<Message> {
    match c.call(GetHistory { conversation_id: conv, anchor_seq: 0, direction: Direction::Forward, limit: 50 }).await {
        ServerBody::HistoryPage(page) => page.messages,
        other => panic!("{other:?}"),
    }
}
