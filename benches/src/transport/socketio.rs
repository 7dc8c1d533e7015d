//! A minimal Socket.IO v4 client over Engine.IO v4's WebSocket transport, enough to drive the bridge and
//! the Node peer the way browsers do:
//!
//! - connect `ws://host/socket.io/?EIO=4&transport=websocket`; the server's first frame is the Engine.IO
//!   open packet `0{"sid":..,"pingInterval":..}`;
//! - send `40{auth}` (Socket.IO CONNECT on namespace `/` with the handshake's auth); the answer is
//!   `40{"sid":..}` or `44{"message":..}` (CONNECT_ERROR);
//! - events are `42["event",payload]`; an event that wants an ack is `42<id>[..]` and the ack comes back
//!   as `43<id>[..]`;
//! - the server pings with `2`; we answer `3`. `1` closes.
//!
//! Binary attachments, other namespaces and long-polling are not needed here and not implemented.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as Ws;

use super::topology::{Sink, Topology};
use crate::stats::Recorder;

type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A connected socket; clones share it.
#[derive(Clone)]
pub struct SioClient {
    out: mpsc::Sender<Ws>,
    acks: Acks,
    next_ack: Arc<AtomicU64>,
}

impl std::fmt::Debug for SioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SioClient").finish_non_exhaustive()
    }
}

/// Frames queued for the socket's writer.
const OUT_QUEUE: usize = 4096;
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

impl SioClient {
    /// Connects to `http://addr/socket.io/` with `auth`; every event is handed to `on_event(name, payload)`.
    pub async fn connect(
        addr: std::net::SocketAddr,
        auth: Value,
        on_event: impl Fn(&str, &Value) + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        Self::connect_paused(addr, auth, on_event, tokio::sync::watch::channel(false).1).await
    }

    /// [`connect`](Self::connect), with a switch: while `paused` holds `true` the socket is not read (a
    /// browser that stopped reading: what the server sends piles up in TCP's buffers, then its own).
    pub async fn connect_paused(
        addr: std::net::SocketAddr,
        auth: Value,
        on_event: impl Fn(&str, &Value) + Send + Sync + 'static,
        mut paused: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::client_async(url, tcp).await.context("WebSocket handshake")?;
        let (mut write, mut read) = ws.split();

        let open = next_text(&mut read).await?;
        if !open.starts_with('0') {
            bail!("expected the Engine.IO open packet, got {open:?}");
        }
        write.send(Ws::text(format!("40{auth}"))).await?;
        loop {
            let frame = next_text(&mut read).await?;
            if frame == "2" {
                write.send(Ws::text("3")).await?;
            } else if frame.starts_with("40") {
                break;
            } else if let Some(err) = frame.strip_prefix("44") {
                bail!("connect_error: {err}");
            }
        }

        let (out, mut out_rx) = mpsc::channel::<Ws>(OUT_QUEUE);
        tokio::spawn(async move {
            while let Some(frame) = out_rx.recv().await {
                if write.feed(frame).await.is_err() {
                    return;
                }
                while let Ok(frame) = out_rx.try_recv() {
                    if write.feed(frame).await.is_err() {
                        return;
                    }
                }
                if write.flush().await.is_err() {
                    return;
                }
            }
            let _ = write.close().await;
        });
        let acks: Acks = Arc::default();
        let (reader_acks, pong) = (acks.clone(), out.clone());
        tokio::spawn(async move {
            loop {
                if paused.wait_for(|p| !*p).await.is_err() {
                    // The switch is gone: read on.
                    paused = tokio::sync::watch::channel(false).1;
                }
                let Some(Ok(frame)) = read.next().await else { break };
                let Ws::Text(text) = frame else { continue };
                dispatch(text.as_str(), &reader_acks, &pong, &on_event).await;
            }
            // The socket is gone: wake whoever waits for an ack.
            if let Ok(mut acks) = reader_acks.lock() {
                acks.clear();
            }
        });
        Ok(Self { out, acks, next_ack: Arc::new(AtomicU64::new(1)) })
    }

    /// Emits `event` with `payload` and waits for the server's ack (its first argument).
    pub async fn emit_ack(&self, event: &str, payload: Value) -> anyhow::Result<Value> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut acks) = self.acks.lock() {
            acks.insert(id, tx);
        }
        let frame = format!("42{id}{}", json!([event, payload]));
        self.out.send(Ws::text(frame)).await.context("socket closed")?;
        let ack = tokio::time::timeout(ACK_TIMEOUT, rx).await.context("no ack in time")?.context("socket closed")?;
        Ok(ack)
    }

    /// Emits `event` and checks the bridge-style ack `{success: true, data}`; returns `data`.
    pub async fn request(&self, event: &str, payload: Value) -> anyhow::Result<Value> {
        let mut ack = self.emit_ack(event, payload).await?;
        if ack["success"] != Value::Bool(true) {
            bail!("{event} failed: {}", ack["error"]);
        }
        Ok(ack["data"].take())
    }

    /// Closes the socket (Engine.IO close packet).
    pub async fn close(&self) {
        let _ = self.out.send(Ws::text("1")).await;
        let _ = self.out.send(Ws::Close(None)).await;
    }
}

async fn next_text<S>(read: &mut S) -> anyhow::Result<String>
where
    S: futures_util::Stream<Item = Result<Ws, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(ACK_TIMEOUT, read.try_next()).await.context("handshake timed out")??;
        match frame {
            Some(Ws::Text(t)) => return Ok(t.as_str().to_owned()),
            Some(Ws::Close(c)) => bail!("closed by the server: {c:?}"),
            Some(_) => {}
            None => bail!("the server closed the connection"),
        }
    }
}

/// One incoming frame: ping, event or ack.
async fn dispatch(text: &str, acks: &Acks, out: &mpsc::Sender<Ws>, on_event: &(impl Fn(&str, &Value) + Sync)) {
    if text == "2" {
        let _ = out.send(Ws::text("3")).await;
        return;
    }
    let Some(packet) = text.strip_prefix('4') else { return };
    let (kind, rest) = packet.split_at_checked(1).unwrap_or(("", ""));
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (id, body) = rest.split_at(digits);
    let Ok(Value::Array(args)) = serde_json::from_str::<Value>(body) else { return };
    match kind {
        "2" => {
            if let (Some(Value::String(name)), Some(payload)) = (args.first(), args.get(1)) {
                on_event(name, payload);
            }
        }
        "3" => {
            let waiter = id.parse().ok().and_then(|id: u64| acks.lock().ok().and_then(|mut a| a.remove(&id)));
            if let Some(waiter) = waiter {
                let _ = waiter.send(args.into_iter().next().unwrap_or(Value::Null));
            }
        }
        _ => {}
    }
}

/// Sends a text on a conversation and waits for the server's ack (the bridge acks once quipd stored it).
pub async fn send(client: &SioClient, conversation_id: u64, text: String) -> anyhow::Result<()> {
    client.request("message:send", json!({ "conversationId": conversation_id, "text": text })).await?;
    Ok(())
}

/// Which server the sockets talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// quip-bridge: tokens are quipd JWTs, conversations are created through it.
    Bridge,
    /// The Node peer: the token is the user id, a conversation is a room (numbered by channel).
    Node,
}

/// Sockets connected, conversations made (or rooms joined), receivers recording.
#[derive(Debug)]
pub struct SioHarness {
    clients: Vec<SioClient>,
    /// A sender per channel: its user's client and where it sends.
    senders: Vec<(SioClient, u64)>,
}

impl SioHarness {
    /// `token(user)` gives each user's handshake token.
    pub async fn setup(
        addr: std::net::SocketAddr,
        flavor: Flavor,
        topology: &Topology,
        recorder: Arc<Recorder>,
        token: impl Fn(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<Self> {
        let inbound = topology.inbound();
        let mut auths = Vec::with_capacity(topology.users);
        for u in 0..topology.users {
            let user = Topology::user(u);
            auths.push(json!({ "token": token(&user)?, "deviceId": format!("bench-{user}") }));
        }
        let clients: Vec<SioClient> = futures_util::stream::iter(auths.into_iter().enumerate())
            .map(|(u, auth)| {
                let sink = Sink::new(u, inbound[u].clone(), recorder.clone());
                SioClient::connect(addr, auth, move |name, payload| {
                    if name == "message:new" {
                        if let Some(text) = payload["text"].as_str() {
                            sink.deliver(text);
                        }
                    }
                })
            })
            .buffered(super::quip::CONNECT_CONCURRENCY)
            .try_collect()
            .await?;
        let mut senders = Vec::with_capacity(topology.channels.len());
        for (i, channel) in topology.channels.iter().enumerate() {
            let sender = &clients[channel.sender];
            let conv = match flavor {
                Flavor::Node => {
                    for &r in &channel.receivers {
                        clients[r].request("conversation:join", json!({ "conversationId": i })).await?;
                    }
                    i as u64
                }
                Flavor::Bridge => {
                    let data = if let [peer] = channel.receivers.as_slice() {
                        let peer = Topology::user(*peer);
                        sender.request("conversation:openDirect", json!({ "peerUserId": peer })).await?
                    } else {
                        let members: Vec<String> = channel.receivers.iter().map(|&r| Topology::user(r)).collect();
                        let group = json!({ "title": format!("bench group {i}"), "memberIds": members });
                        sender.request("conversation:createGroup", group).await?
                    };
                    data["conversation"]["id"].as_u64().context("no conversation id in the reply")?
                }
            };
            senders.push((sender.clone(), conv));
        }
        Ok(Self { clients, senders })
    }

    pub fn senders(&self) -> &[(SioClient, u64)] {
        &self.senders
    }

    pub async fn close(self) {
        for c in &self.clients {
            c.close().await;
        }
    }
}
