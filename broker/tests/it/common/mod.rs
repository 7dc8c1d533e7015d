//! Test harness: a real quipd on 127.0.0.1:0 with a real RocksDB in a temp dir, and a raw protocol
//! client (quinn + quip-protocol, no SDK) for tests that need to send what the SDK never would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use quip_protocol::family::messages::{Direction, GetHistory, Message, MessageAck, SendMessage};
use quip_protocol::family::session::{Hello, Welcome};
use quip_protocol::{ClientBody, ClientFrame, ErrorCode, ErrorReply, FrameDecoder, Limits, ServerBody, ServerFrame};

pub use quip_testkit::{Quipd as TestBroker, WAIT, config};

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
        Self::connect_to(broker.addr, &broker.cert_pem()).await
    }

    /// Connects to the quipd at `addr` that serves the certificate `cert_pem`.
    pub async fn connect_to(addr: std::net::SocketAddr, cert_pem: &[u8]) -> Self {
        Self::try_connect_to(addr, cert_pem).await.unwrap()
    }

    /// As [`RawClient::connect_to`], with the connection's error when quipd does not let it in.
    pub async fn try_connect_to(addr: std::net::SocketAddr, cert_pem: &[u8]) -> Result<Self, quinn::ConnectionError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(cert_pem) {
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
        let conn = endpoint.connect(addr, "localhost").unwrap().await?;
        let (send, recv) = conn.open_bi().await?;
        Ok(Self { conn, endpoint, send, control: Reader::new(recv), events: None, next_id: 1 })
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
        let hello =
            Hello { protocol_version: 1, token: token.into(), device_id: device.into(), resume, ..Hello::default() };
        self.hello_with(hello).await
    }

    /// Sends this Hello; on Welcome, accepts the event stream.
    pub async fn hello_with(&mut self, hello: Hello) -> Result<Welcome, ErrorReply> {
        let resuming = hello.resume.is_some();
        self.send_frame(hello).await;
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
