//! The load: SDK clients, each with a few send lanes (one acknowledged send at a time per lane, retried
//! with the same `client_msg_id` until acked), and one task per client that records every message its
//! event stream delivers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quip_sdk::{Client, ClientConfig, Error, ErrorCode, Event, EventStream, ReconnectPolicy, SendMessage, Trust};

use super::rng::Rng;

/// A send that is not acked after this long fails the run (a liveness bound, not a measurement).
const SEND_GIVE_UP: Duration = Duration::from_secs(120);

/// One acknowledgement a lane got.
#[derive(Debug, Clone)]
pub struct AckRecord {
    pub user: String,
    pub lane: usize,
    pub client_msg_id: String,
    pub conv: u64,
    pub seq: u64,
    pub message_id: u64,
    pub duplicate: bool,
    /// How many times the lane had to call `send` for it (1: first try).
    pub attempts: u32,
}

/// Every ack, in the order each lane got them.
#[derive(Debug, Default)]
pub struct Ledger {
    acks: Mutex<Vec<AckRecord>>,
    count: AtomicU64,
}

impl Ledger {
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    pub fn all(&self) -> Vec<AckRecord> {
        self.acks.lock().unwrap().clone()
    }

    fn push(&self, ack: AckRecord) {
        self.acks.lock().unwrap().push(ack);
        self.count.fetch_add(1, Ordering::Release);
    }
}

/// What one client's event stream delivered.
#[derive(Debug, Default)]
pub struct Received {
    /// Per conversation: (seq, message id) in arrival order.
    pub messages: Mutex<HashMap<u64, Vec<(u64, u64)>>>,
    pub connected: AtomicU64,
    pub resumed: AtomicU64,
    /// Set if the stream ended for good (the client gave up).
    pub finished: Mutex<Option<String>>,
}

impl Received {
    /// The last seq received in `conv` (0: none).
    pub fn last_seq(&self, conv: u64) -> u64 {
        self.messages.lock().unwrap().get(&conv).and_then(|v| v.last()).map_or(0, |m| m.0)
    }
}

/// One user with one device.
#[derive(Debug)]
pub struct Member {
    pub user: String,
    pub client: Client,
    pub received: Arc<Received>,
    /// The conversations this user is in.
    pub convs: Vec<u64>,
}

pub fn client_config(addr: SocketAddr, fingerprint: &str, token: String, device: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(addr, Trust::Fingerprint(fingerprint.to_owned()), token, device);
    cfg.request_timeout = Duration::from_secs(30);
    cfg.reconnect = ReconnectPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        max_attempts: None,
    };
    cfg
}

/// Records every event of `events` into `received` until the stream ends.
pub fn collect(mut events: EventStream, received: Arc<Received>) {
    tokio::spawn(async move {
        while let Some(event) = events.next_event().await {
            match event {
                Event::Message { message, .. } => {
                    let mut all = received.messages.lock().unwrap();
                    all.entry(message.conversation_id).or_default().push((message.seq, message.id));
                }
                Event::Connected { resumed } => {
                    received.connected.fetch_add(1, Ordering::Relaxed);
                    if resumed {
                        received.resumed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Event::Disconnected { reason, will_reconnect: false } => {
                    *received.finished.lock().unwrap() = Some(format!("{reason:?}"));
                }
                _ => {}
            }
        }
    });
}

/// Whether a failed send may be retried: the broker was away or did not answer in time.
fn retryable(e: &Error) -> bool {
    matches!(e, Error::Timeout | Error::Disconnected | Error::Transport(_))
        || matches!(e, Error::Server { code: ErrorCode::Unavailable, .. })
}

/// Sends `msg` until it is acked, always with the same `client_msg_id`.
async fn send_until_acked(client: &Client, msg: SendMessage) -> Result<(quip_sdk::MessageAck, u32), String> {
    let give_up = tokio::time::Instant::now() + SEND_GIVE_UP;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match client.send(msg.clone()).await {
            Ok(ack) => return Ok((ack, attempts)),
            Err(e) if retryable(&e) && tokio::time::Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("send {} failed after {attempts} attempts: {e}", msg.client_msg_id)),
        }
    }
}

/// One lane: sends to a random conversation of its member, one message at a time, until `stop`; the
/// message in flight when `stop` is set is still retried until acked. Returns how many it sent.
pub fn lane(
    member: &Member,
    lane: usize,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
    ledger: Arc<Ledger>,
) -> tokio::task::JoinHandle<Result<u64, String>> {
    let client = member.client.clone();
    let user = member.user.clone();
    let convs = member.convs.clone();
    tokio::spawn(async move {
        let mut n = 0u64;
        while !stop.load(Ordering::Acquire) {
            n += 1;
            let conv = convs[rng.pick(convs.len())];
            let client_msg_id = format!("crash:{user}:{lane}:{n}");
            let msg = SendMessage {
                conversation_id: conv,
                client_msg_id: client_msg_id.clone(),
                text: format!("{client_msg_id} {}", "x".repeat(rng.range(0, 200) as usize)),
                ..SendMessage::default()
            };
            let (ack, attempts) = send_until_acked(&client, msg).await?;
            if ack.conversation_id != conv || ack.client_msg_id != client_msg_id {
                return Err(format!("ack {ack:?} answers another send than {client_msg_id} in {conv}"));
            }
            ledger.push(AckRecord {
                user: user.clone(),
                lane,
                client_msg_id,
                conv,
                seq: ack.seq,
                message_id: ack.message_id,
                duplicate: ack.duplicate,
                attempts,
            });
        }
        Ok(n)
    })
}
