//! The per-user notification feed (the seeds' order and new-chat notifications): stored in RocksDB,
//! pushed live to every device of the user, listed newest first, marked read one by one or all at once.
//!
//! Concurrency: one thread owns every feed mutation (ids, the per-user unread counters), fed by a
//! bounded channel, so counters never race between a user's devices and the admin API. It writes
//! column families nobody else writes, so it does not need the message writer's ordering. Reads go
//! straight to RocksDB.

use std::sync::Arc;

use quip_protocol::family::notifications::{Notification, NotificationEvent, NotificationsReadEvent};
use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::hub::{Hub, Outbound};
use crate::wire::convert::key_values;
use crate::wire::frame;
use quip_store::{Store, StoreError};

/// A stored notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRec {
    pub id: u64,
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub data: Vec<(String, String)>,
    pub created_at_ms: u64,
    #[serde(default)]
    pub read_at_ms: u64,
}

impl NotificationRec {
    pub fn to_wire(&self) -> Notification {
        Notification {
            id: self.id,
            kind: self.kind.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            link: self.link.clone(),
            data: key_values(&self.data),
            created_at_ms: self.created_at_ms,
            read_at_ms: self.read_at_ms,
        }
    }
}

/// A page of a user's feed.
#[derive(Debug, Clone, Default)]
pub struct FeedPage {
    pub items: Vec<NotificationRec>,
    pub next_before_id: u64,
    pub unread: u32,
}

fn user_prefix(user: &str) -> Vec<u8> {
    let bytes = &user.as_bytes()[..user.len().min(255)];
    let mut k = Vec::with_capacity(bytes.len() + 9);
    k.push(bytes.len() as u8);
    k.extend_from_slice(bytes);
    k
}

fn item_key(user: &str, id: u64) -> Vec<u8> {
    let mut k = user_prefix(user);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

const NEXT_ID: &[u8] = b"next_notification_id";

/// Reads of the feed.
pub fn unread(store: &Store, user: &str) -> Result<u32, StoreError> {
    let db = store.raw_db();
    let cf = db.cf_handle(quip_store::cf::NOTIF_UNREAD).ok_or(StoreError::Corrupt("notif_unread"))?;
    Ok(db
        .get_cf(cf, user_prefix(user))?
        .and_then(|v| v.get(..4).and_then(|b| b.try_into().ok()))
        .map_or(0, u32::from_be_bytes))
}

/// The user's notifications with id < `before_id` (0: from the newest), newest first.
pub fn list(
    store: &Store,
    user: &str,
    before_id: u64,
    limit: usize,
    unread_only: bool,
) -> Result<FeedPage, StoreError> {
    let db = store.raw_db();
    let cf = db.cf_handle(quip_store::cf::NOTIFICATIONS).ok_or(StoreError::Corrupt("notifications"))?;
    let prefix = user_prefix(user);
    let start = item_key(user, if before_id == 0 { u64::MAX } else { before_id - 1 });
    let mut items = Vec::new();
    let mut more = false;
    for entry in db.iterator_cf(cf, IteratorMode::From(&start, Direction::Reverse)) {
        let (k, v) = entry?;
        if !k.starts_with(&prefix) {
            break;
        }
        let rec: NotificationRec = serde_json::from_slice(&v).map_err(|_| StoreError::Corrupt("notifications"))?;
        if unread_only && rec.read_at_ms != 0 {
            continue;
        }
        if items.len() >= limit {
            more = true;
            break;
        }
        items.push(rec);
    }
    let next_before_id = if more { items.last().map_or(0, |r| r.id) } else { 0 };
    Ok(FeedPage { items, next_before_id, unread: unread(store, user)? })
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Cmd {
    Create { user: String, rec: NotificationRec, reply: Reply<(u64, u32)> },
    MarkRead { user: String, ids: Vec<u64>, now_ms: u64, reply: Reply<u32> },
    MarkAll { user: String, now_ms: u64, reply: Reply<u32> },
}

/// Handle to the feed thread; clone freely.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Cmd>,
}

impl Notifier {
    pub fn start(store: Store, hub: Arc<Hub>) -> Result<(Self, std::thread::JoinHandle<()>), StoreError> {
        let (tx, rx) = mpsc::channel(1024);
        let handle = std::thread::Builder::new()
            .name("quip-notify".into())
            .spawn(move || run(store, hub, rx))
            .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok((Self { tx }, handle))
    }

    async fn call<T>(&self, cmd: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(cmd(reply)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stores a notification for `user` and pushes it to every device; returns its id and the unread count.
    pub async fn create(&self, user: String, rec: NotificationRec) -> Result<(u64, u32), StoreError> {
        self.call(|reply| Cmd::Create { user, rec, reply }).await
    }

    pub async fn mark_read(&self, user: String, ids: Vec<u64>, now_ms: u64) -> Result<u32, StoreError> {
        self.call(|reply| Cmd::MarkRead { user, ids, now_ms, reply }).await
    }

    pub async fn mark_all(&self, user: String, now_ms: u64) -> Result<u32, StoreError> {
        self.call(|reply| Cmd::MarkAll { user, now_ms, reply }).await
    }
}

fn run(store: Store, hub: Arc<Hub>, mut rx: mpsc::Receiver<Cmd>) {
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    while let Some(cmd) = rx.blocking_recv() {
        match cmd {
            Cmd::Create { user, rec, reply } => {
                let result = create(&store, &opts, &user, rec);
                if let Ok((rec, unread)) = &result {
                    let event = NotificationEvent { notification: rec.to_wire(), unread_total: *unread };
                    hub.deliver(std::slice::from_ref(&user), &Outbound::Event(frame(0, event)));
                }
                let _ = reply.send(result.map(|(rec, unread)| (rec.id, unread)));
            }
            Cmd::MarkRead { user, ids, now_ms, reply } => {
                let result = mark(&store, &opts, &user, Some(&ids), now_ms);
                publish_read(&hub, &user, &result, false);
                let _ = reply.send(result.map(|(_, unread)| unread));
            }
            Cmd::MarkAll { user, now_ms, reply } => {
                let result = mark(&store, &opts, &user, None, now_ms);
                publish_read(&hub, &user, &result, true);
                let _ = reply.send(result.map(|(_, unread)| unread));
            }
        }
    }
}

fn publish_read(hub: &Hub, user: &str, result: &Result<(Vec<u64>, u32), StoreError>, all: bool) {
    if let Ok((ids, unread)) = result {
        if !ids.is_empty() || all {
            let event =
                NotificationsReadEvent { ids: if all { Vec::new() } else { ids.clone() }, all, unread_total: *unread };
            hub.deliver(&[user.to_owned()], &Outbound::Event(frame(0, event)));
        }
    }
}

fn create(
    store: &Store,
    opts: &WriteOptions,
    user: &str,
    mut rec: NotificationRec,
) -> Result<(NotificationRec, u32), StoreError> {
    let db = store.raw_db();
    let items = db.cf_handle(quip_store::cf::NOTIFICATIONS).ok_or(StoreError::Corrupt("notifications"))?;
    let counters = db.cf_handle(quip_store::cf::NOTIF_UNREAD).ok_or(StoreError::Corrupt("notif_unread"))?;
    let next = db
        .get_cf(counters, NEXT_ID)?
        .and_then(|v| v.get(..8).and_then(|b| b.try_into().ok()))
        .map_or(1, u64::from_be_bytes);
    rec.id = next;
    rec.read_at_ms = 0;
    let unread = unread(store, user)? + 1;
    let mut batch = WriteBatch::default();
    batch.put_cf(items, item_key(user, rec.id), serde_json::to_vec(&rec).unwrap_or_default());
    batch.put_cf(counters, NEXT_ID, (next + 1).to_be_bytes());
    batch.put_cf(counters, user_prefix(user), unread.to_be_bytes());
    db.write_opt(batch, opts)?;
    Ok((rec, unread))
}

/// Marks `ids` (or every unread one) read; returns the ids that changed and the new unread count.
fn mark(
    store: &Store,
    opts: &WriteOptions,
    user: &str,
    ids: Option<&[u64]>,
    now_ms: u64,
) -> Result<(Vec<u64>, u32), StoreError> {
    let db = store.raw_db();
    let items = db.cf_handle(quip_store::cf::NOTIFICATIONS).ok_or(StoreError::Corrupt("notifications"))?;
    let counters = db.cf_handle(quip_store::cf::NOTIF_UNREAD).ok_or(StoreError::Corrupt("notif_unread"))?;
    let targets: Vec<NotificationRec> = match ids {
        Some(ids) => ids
            .iter()
            .filter_map(|id| db.get_cf(items, item_key(user, *id)).transpose())
            .map(|v| {
                v.map_err(StoreError::from)
                    .and_then(|v| serde_json::from_slice(&v).map_err(|_| StoreError::Corrupt("notifications")))
            })
            .collect::<Result<_, _>>()?,
        None => list(store, user, 0, usize::MAX, true)?.items,
    };
    let mut batch = WriteBatch::default();
    let mut changed = Vec::new();
    for mut rec in targets.into_iter().filter(|r| r.read_at_ms == 0) {
        rec.read_at_ms = now_ms;
        batch.put_cf(items, item_key(user, rec.id), serde_json::to_vec(&rec).unwrap_or_default());
        changed.push(rec.id);
    }
    let unread = unread(store, user)?.saturating_sub(changed.len() as u32);
    let unread = if ids.is_none() { 0 } else { unread };
    batch.put_cf(counters, user_prefix(user), unread.to_be_bytes());
    db.write_opt(batch, opts)?;
    Ok((changed, unread))
}
