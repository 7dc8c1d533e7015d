//! One socket's events are handled one at a time, in the order they arrived: a `call:end` followed at
//! once by `call:initiate` is ended before the new call rings, and two sends are stored in the order the
//! client emitted them.
//!
//! socketioxide runs an async handler as a task of its own per event, and tokio polls tasks in no
//! particular order, so the socket's handler here is synchronous ([`Ordered`]: the engine calls it as it
//! parses each packet, in arrival order) and only queues the event. One task per socket ([`serve`]) takes
//! the queue in order and runs each event to its answer before it takes the next, so acks go out in that
//! order too. The queue is bounded by events ([`MAX_QUEUED`]) and by their bytes ([`MAX_QUEUED_BYTES`];
//! one event of any size the listener admits is taken when nothing else waits): an event past either
//! bound is refused at once with `RateLimited`, and nothing queued before it is affected.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use quip_sdk::ErrorCode;
use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::{FromMessageParts, MessageHandler, Value as PacketValue};
use socketioxide::socket::Socket;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::inbound;
use crate::error::ApiError;
use quip_dialect::{Ctx, Dialect};

/// Most events one socket may have waiting: a client may emit a burst of this many without waiting for
/// an answer (each is handled to its answer in turn, a send to its durable ack).
pub(crate) const MAX_QUEUED: usize = 1024;
/// Most bytes (as received) of the events one socket may have waiting.
pub(crate) const MAX_QUEUED_BYTES: usize = 2 << 20;

/// An event waiting for its turn.
pub(crate) struct Queued {
    event: String,
    payload: Value,
    ack: AckSender,
    wanted: bool,
    size: usize,
}

/// The sending side of a socket's queue, kept in the socket's extensions until it disconnects (then
/// the task drains what is queued and ends).
#[derive(Clone)]
pub(crate) struct Inbox {
    /// Boxed: a tokio channel allocates its first 32 slots when it is made, and the queue of an idle
    /// socket would otherwise hold ~3 KB of empty ones.
    tx: mpsc::Sender<Box<Queued>>,
    bytes: Arc<AtomicUsize>,
}

/// The receiving side, for [`serve`].
pub(crate) struct Outbox {
    rx: mpsc::Receiver<Box<Queued>>,
    bytes: Arc<AtomicUsize>,
}

/// A socket's queue.
pub(crate) fn queue() -> (Inbox, Outbox) {
    let (tx, rx) = mpsc::channel(MAX_QUEUED);
    let bytes = Arc::new(AtomicUsize::new(0));
    (Inbox { tx, bytes: bytes.clone() }, Outbox { rx, bytes })
}

impl Inbox {
    /// Queues `q`, or gives it back when the queue is full (by count or by bytes) or closed.
    fn offer(&self, q: Box<Queued>) -> Result<(), Box<Queued>> {
        let size = q.size;
        let before = self.bytes.fetch_add(size, Ordering::AcqRel);
        if before > 0 && before.saturating_add(size) > MAX_QUEUED_BYTES {
            self.bytes.fetch_sub(size, Ordering::AcqRel);
            return Err(q);
        }
        self.tx.try_send(q).map_err(|e| {
            self.bytes.fetch_sub(size, Ordering::AcqRel);
            match e {
                mpsc::error::TrySendError::Full(q) | mpsc::error::TrySendError::Closed(q) => q,
            }
        })
    }
}

/// Marks [`Ordered`]'s handler kind for socketioxide (no extractors: it takes the packet as it is).
pub(crate) struct Raw;

/// The handler of every event of a socket: queues it for [`serve`].
pub(crate) struct Ordered {
    dialect: Arc<Dialect>,
}

impl Ordered {
    pub(crate) fn new(dialect: Arc<Dialect>) -> Self {
        Self { dialect }
    }
}

fn infallible<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

impl MessageHandler<LocalAdapter, Raw> for Ordered {
    fn call(&self, s: Arc<Socket<LocalAdapter>>, mut v: PacketValue, ack_id: Option<i64>) {
        let size = v.len();
        let socket = infallible(SocketRef::from_message_parts(&s, &mut v, &ack_id));
        let event = match Event::from_message_parts(&s, &mut v, &ack_id) {
            Ok(Event(event)) => event,
            Err(e) => {
                tracing::debug!(socket = %s.id, error = %e, "an event without a readable name");
                return;
            }
        };
        let TryData(payload) = infallible(TryData::<Value>::from_message_parts(&s, &mut v, &ack_id));
        let ack = infallible(AckSender::from_message_parts(&s, &mut v, &ack_id));
        let q =
            Box::new(Queued { event, payload: payload.unwrap_or(Value::Null), ack, wanted: ack_id.is_some(), size });
        let refused = match socket.extensions.get::<Inbox>() {
            Some(inbox) => match inbox.offer(q) {
                Ok(()) => return,
                Err(q) => {
                    crate::telemetry::socket_queue_full();
                    (q, queue_full())
                }
            },
            None => (q, ApiError::new(ErrorCode::Unavailable, "the socket has no upstream session")),
        };
        let ((q, error), dialect) = (refused, self.dialect.clone());
        tokio::spawn(async move {
            inbound::answer(&socket, &dialect, &q.event, &Ctx::now(), None, Err(error), q.ack, q.wanted).await;
        });
    }
}

fn queue_full() -> ApiError {
    let why = format!(
        "this socket has {MAX_QUEUED} events or {} MiB waiting to be handled; wait for their answers",
        MAX_QUEUED_BYTES >> 20
    );
    ApiError::new(ErrorCode::RateLimited, why)
}

/// Handles the socket's events one after the other until its [`Inbox`] is dropped (at disconnect) and
/// what was queued before is done.
pub(crate) async fn serve(s: SocketRef, outbox: Outbox, dialect: Arc<Dialect>) {
    let Outbox { mut rx, bytes } = outbox;
    while let Some(q) = rx.recv().await {
        let q = *q;
        let span = tracing::info_span!("socket", id = %s.id, event = %q.event.escape_debug());
        let size = q.size;
        // Boxed: the task lives as long as the socket, and the largest operation's future is large.
        Box::pin(inbound::handle(s.clone(), q.event, q.payload, q.ack, q.wanted, dialect.clone()))
            .instrument(span)
            .await;
        bytes.fetch_sub(size, Ordering::AcqRel);
    }
}
