//! The single writer. One OS thread owns every counter (conversation ids, message ids, per-conversation
//! sequence numbers, the store-wide position) and turns queued commands into RocksDB write batches.
//!
//! Why one writer: sequence numbers are then gap-free and total without locks, get-or-create of a
//! direct conversation cannot race, and concurrent sends are grouped into one atomic batch (one WAL
//! write and, with `durability = "fsync"`, one fsync for the whole group). Replies go out and events are
//! published only after the batch is durable, so nothing is acknowledged or delivered that a crash
//! could lose.
//!
//! Receipts go through here too (`writer/receipts.rs`): a watermark's read-modify-write then needs no
//! lock and cannot race with another device of the same user, and a message's implied read by its
//! sender lands in the same batch as the message.
//!
//! Edits, deletions and reactions (`writer/lifecycle.rs`) go through here as well, so that they never
//! race with each other nor with the append of a reply that quotes the message.

mod groups;
mod lifecycle;
mod receipts;
mod settings;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rocksdb::{WriteBatch, WriteOptions};
use tokio::sync::{mpsc, oneshot};

use super::keys::{self, msg_key, u64_key};
pub use groups::{MemberChange, MemberOp};
pub use lifecycle::{Delete, Edit, ReactTo};
pub use settings::{SettingChange, SettingOp};

use super::{Store, StoreError, encode};
use crate::config::{Durability, StoreConfig};
use crate::model::{
    Ack, AttachmentRec, CallRec, Context, ConvHead, ConvId, ConvKind, ConvMeta, MemberRec, Profile, ReactionRec,
    ReceiptKind, Role, Sender, Seq, StoredMessage, UserId, UserSettings, Watermarks,
};

/// A message to append.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub conv: ConvId,
    pub sender: Sender,
    pub client_msg_id: String,
    pub kind: u8,
    pub text: String,
    pub attachments: Vec<AttachmentRec>,
    pub reply_to: u64,
    pub metadata: Vec<(String, String)>,
    /// System messages only (written by the server): what changed.
    pub system: u8,
    /// Call messages only (written by the server): the call's record.
    pub call: Option<CallRec>,
    /// When the send arrived (for the send→deliver latency; not stored).
    pub received: Option<std::time::Instant>,
}

/// A receipt: device `device` of `user` got (or read) `conv` up to `up_to`. Beyond the conversation's
/// last message it is clamped to it; at or below the current watermark it changes nothing.
#[derive(Debug, Clone)]
pub struct Mark {
    pub conv: ConvId,
    pub user: UserId,
    pub device: String,
    pub kind: ReceiptKind,
    pub up_to: Seq,
    pub now_ms: u64,
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the writer can be asked to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteCmd {
    /// Append a message; the reply is its ack and whether it is a retry of an earlier send.
    Send { msg: NewMessage, now_ms: u64, reply: Reply<(Ack, bool)> },
    /// Get or create the direct conversation of two users (and a context); the reply says if it was created.
    OpenDirect { a: UserId, b: UserId, context: Option<Context>, now_ms: u64, reply: Reply<(ConvId, bool)> },
    /// Create a group owned by `creator` with `members`.
    CreateGroup { meta: ConvMeta, members: Vec<UserId>, reply: Reply<ConvId> },
    /// Create or replace a profile.
    PutProfile { profile: Profile, reply: Reply<()> },
    /// Move a member's delivered or read watermark (NotFound for non-members).
    Receipt { mark: Mark, reply: Reply<()> },
    /// Replace a message's text (its sender only, within the edit window).
    Edit { edit: Edit, reply: Reply<()> },
    /// Delete a message for everyone (a tombstone) or hide it for its requester.
    Delete { delete: Delete, reply: Reply<()> },
    /// Add or remove a reaction.
    React { react: ReactTo, reply: Reply<()> },
    /// Change a group: members, roles, title (admins), or leave it.
    Members { change: MemberChange, reply: Reply<()> },
    /// Change a user's own view of a conversation, or whom they block.
    Setting { change: SettingChange, reply: Reply<()> },
    /// Finish what was queued before this, then stop.
    Shutdown,
}

/// What became durable, for fan-out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Committed {
    Message {
        msg: Arc<StoredMessage>,
        members: Arc<[UserId]>,
        /// When the send arrived, if it came from a client.
        received: Option<std::time::Instant>,
    },
    ConvCreated {
        conv: ConvId,
        members: Arc<[UserId]>,
    },
    /// `user`'s merged `kind` watermark in `conv` moved up to `up_to` at `at_ms`.
    Receipt {
        conv: ConvId,
        user: UserId,
        kind: ReceiptKind,
        /// The watermark before this move: the receipt newly covers `from + 1 ..= up_to`.
        from: Seq,
        up_to: Seq,
        at_ms: u64,
        members: Arc<[UserId]>,
    },
    /// A message's text was replaced.
    Edited {
        msg: Arc<StoredMessage>,
        members: Arc<[UserId]>,
    },
    /// A message was deleted for everyone (`for_everyone`; `audience` is every member) or hidden for
    /// `by` alone (`audience` is `by`).
    Deleted {
        conv: ConvId,
        msg_id: u64,
        seq: Seq,
        for_everyone: bool,
        by: UserId,
        at_ms: u64,
        audience: Arc<[UserId]>,
    },
    /// `user` added (or removed) `emoji`; `reactions` is the message's whole set after the change.
    Reacted {
        conv: ConvId,
        msg_id: u64,
        user: UserId,
        emoji: String,
        removed: bool,
        reactions: Vec<ReactionRec>,
        members: Arc<[UserId]>,
    },
    /// A conversation changed (`change`), by `actor`, about `users`; `audience` is told.
    ConvChanged {
        conv: ConvId,
        change: ConvChange,
        actor: UserId,
        users: Vec<UserId>,
        at_ms: u64,
        audience: Arc<[UserId]>,
    },
}

/// What kind of change a `Committed::ConvChanged` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvChange {
    Updated,
    MembersAdded,
    MemberRemoved,
    RoleChanged,
    MemberLeft,
    /// The audience's own view changed (archive, mute, hide).
    SettingsChanged,
    /// The audience blocked or unblocked the other member of this direct conversation.
    BlockChanged,
}

/// Receives what each batch committed, on the writer thread, in commit order. Must not block.
pub trait Publish: Send + 'static {
    fn publish(&self, events: Vec<Committed>);
}

/// A handle to the writer thread; clone freely. When every handle is dropped the thread finishes the
/// commands already queued and exits.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<WriteCmd>,
}

impl Writer {
    /// Starts the writer thread.
    pub fn start(
        store: Store,
        cfg: &StoreConfig,
        publisher: impl Publish,
    ) -> Result<(Writer, std::thread::JoinHandle<()>), StoreError> {
        let (tx, rx) = mpsc::channel(cfg.queue);
        let mut state = State::load(store, cfg)?;
        let handle = std::thread::Builder::new()
            .name("quip-writer".into())
            .spawn(move || state.run(rx, publisher))
            .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok((Writer { tx }, handle))
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> WriteCmd) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues a send without waiting for it: the order of `enqueue_send` calls is the order in which
    /// the writer appends them. Await the returned receiver for the ack.
    pub async fn enqueue_send(
        &self,
        msg: NewMessage,
        now_ms: u64,
    ) -> Result<oneshot::Receiver<Result<(Ack, bool), StoreError>>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(WriteCmd::Send { msg, now_ms, reply }).await.map_err(|_| StoreError::Closed)?;
        Ok(rx)
    }

    pub async fn send(&self, msg: NewMessage, now_ms: u64) -> Result<(Ack, bool), StoreError> {
        self.call(|reply| WriteCmd::Send { msg, now_ms, reply }).await
    }

    pub async fn open_direct(
        &self,
        a: UserId,
        b: UserId,
        context: Option<Context>,
        now_ms: u64,
    ) -> Result<(ConvId, bool), StoreError> {
        self.call(|reply| WriteCmd::OpenDirect { a, b, context, now_ms, reply }).await
    }

    pub async fn create_group(&self, meta: ConvMeta, members: Vec<UserId>) -> Result<ConvId, StoreError> {
        self.call(|reply| WriteCmd::CreateGroup { meta, members, reply }).await
    }

    /// Asks the writer thread to stop after the commands queued before this one.
    pub async fn shutdown(&self) {
        // An error means the writer has already stopped.
        let _ = self.tx.send(WriteCmd::Shutdown).await;
    }

    pub async fn put_profile(&self, profile: Profile) -> Result<(), StoreError> {
        self.call(|reply| WriteCmd::PutProfile { profile, reply }).await
    }

    /// Moves a watermark; returns once the move (if any) is durable.
    pub async fn mark(&self, mark: Mark) -> Result<(), StoreError> {
        self.call(|reply| WriteCmd::Receipt { mark, reply }).await
    }
}

/// Caches are dropped wholesale past this many conversations (they reload from RocksDB on demand).
const CACHE_LIMIT: usize = 100_000;

struct State {
    store: Store,
    write_opts: WriteOptions,
    max_batch: usize,
    next_conv_id: u64,
    next_msg_id: u64,
    next_lsn: u64,
    heads: HashMap<ConvId, ConvHead>,
    members: HashMap<ConvId, Arc<[UserId]>>,
    /// Whether each conversation is direct (they are checked for blocks on every send).
    direct: HashMap<ConvId, bool>,
    /// Merged watermarks per (conversation, member), written through like `heads`.
    receipts: HashMap<(ConvId, UserId), Watermarks>,
    /// Watermarks per (conversation, member, device).
    device_receipts: HashMap<(ConvId, UserId, String), Watermarks>,
}

/// Answers one command once the batch's fate is known.
type Responder = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// What one batch has written so far but not yet committed.
#[derive(Default)]
struct Pending {
    replies: Vec<Responder>,
    events: Vec<Committed>,
    idem: HashMap<Vec<u8>, Ack>,
    direct: HashMap<Vec<u8>, ConvId>,
    msg_locations: HashMap<u64, ConvId>,
    /// Messages rewritten in this batch (edits, tombstones), so later commands build on them.
    msgs: HashMap<(ConvId, Seq), StoredMessage>,
    /// Reaction sets rewritten in this batch.
    reactions: HashMap<(ConvId, Seq), Vec<ReactionRec>>,
    /// Conversation settings rewritten in this batch (`None`: deleted).
    metas: HashMap<ConvId, ConvMeta>,
    /// Member records rewritten in this batch (`None`: the user left or was removed).
    member_recs: HashMap<(ConvId, UserId), Option<MemberRec>>,
    /// Users' views rewritten in this batch.
    settings: HashMap<(UserId, ConvId), UserSettings>,
    /// Blocks set (true) or lifted (false) in this batch: (blocker, blocked).
    blocks: HashMap<(UserId, UserId), bool>,
}

impl Pending {
    fn reply<T: Send + 'static>(&mut self, reply: Reply<T>, value: Result<T, StoreError>) {
        self.replies.push(Box::new(move |commit: Result<(), StoreError>| {
            // A dropped receiver means the requester went away; nothing to tell.
            let _ = reply.send(commit.and(value));
        }));
    }
}

impl State {
    fn load(store: Store, cfg: &StoreConfig) -> Result<Self, StoreError> {
        let mut write_opts = WriteOptions::default();
        match cfg.durability {
            Durability::Fsync => write_opts.set_sync(true),
            Durability::Wal => write_opts.set_sync(false),
            Durability::None => write_opts.disable_wal(true),
        }
        Ok(Self {
            next_conv_id: store.meta_u64(keys::NEXT_CONV_ID)?.max(1),
            next_msg_id: store.meta_u64(keys::NEXT_MSG_ID)?.max(1),
            next_lsn: store.meta_u64(keys::NEXT_LSN)?.max(1),
            store,
            write_opts,
            max_batch: cfg.max_batch,
            heads: HashMap::new(),
            members: HashMap::new(),
            direct: HashMap::new(),
            receipts: HashMap::new(),
            device_receipts: HashMap::new(),
        })
    }

    fn run(&mut self, mut rx: mpsc::Receiver<WriteCmd>, publisher: impl Publish) {
        let mut cmds = Vec::with_capacity(self.max_batch);
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else { break };
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                if matches!(cmd, WriteCmd::Shutdown) {
                    stopping = true;
                    break;
                }
                cmds.push(cmd);
                if cmds.len() < self.max_batch {
                    next = rx.try_recv().ok();
                }
            }
            if cmds.is_empty() {
                continue;
            }
            let events = self.commit(cmds.drain(..));
            if !events.is_empty() {
                publisher.publish(events);
            }
        }
        rx.close();
        tracing::info!("writer: queue closed, exiting");
    }

    /// Applies the commands to one batch, writes it, then answers every command.
    fn commit(&mut self, cmds: impl Iterator<Item = WriteCmd>) -> Vec<Committed> {
        let mut batch = WriteBatch::default();
        let mut pending = Pending::default();
        for cmd in cmds {
            self.apply(&mut batch, &mut pending, cmd);
        }
        if let Err(e) = self.put_counters(&mut batch) {
            return self.fail(pending, e);
        }
        let started = std::time::Instant::now();
        let size = pending.replies.len();
        if let Err(e) = self.store.db.write_opt(batch, &self.write_opts) {
            tracing::error!(error = %e, "writer: batch write failed; nothing in it is acknowledged");
            return self.fail(pending, e.into());
        }
        metrics::histogram!("quip_store_write_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("quip_store_batch_size").record(size as f64);
        self.store.committed_lsn.store(self.next_lsn - 1, Ordering::Release);
        for reply in pending.replies {
            reply(Ok(()));
        }
        if self.heads.len() > CACHE_LIMIT
            || self.members.len() > CACHE_LIMIT
            || self.receipts.len() > CACHE_LIMIT
            || self.device_receipts.len() > CACHE_LIMIT
        {
            self.clear_caches();
        }
        pending.events
    }

    fn fail(&mut self, pending: Pending, e: StoreError) -> Vec<Committed> {
        for reply in pending.replies {
            reply(Err(e.clone()));
        }
        // The caches may hold what the failed batch would have written: reload from RocksDB.
        self.clear_caches();
        if let Ok(fresh) = State::load(self.store.clone(), &StoreConfig::default()) {
            self.next_conv_id = fresh.next_conv_id;
            self.next_msg_id = fresh.next_msg_id;
            self.next_lsn = fresh.next_lsn;
        }
        Vec::new()
    }

    fn clear_caches(&mut self) {
        self.heads.clear();
        self.members.clear();
        self.direct.clear();
        self.receipts.clear();
        self.device_receipts.clear();
    }

    fn put_counters(&self, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let meta = self.store.cf(keys::META)?;
        batch.put_cf(&meta, keys::NEXT_CONV_ID, u64_key(self.next_conv_id));
        batch.put_cf(&meta, keys::NEXT_MSG_ID, u64_key(self.next_msg_id));
        batch.put_cf(&meta, keys::NEXT_LSN, u64_key(self.next_lsn));
        Ok(())
    }

    fn apply(&mut self, batch: &mut WriteBatch, pending: &mut Pending, cmd: WriteCmd) {
        match cmd {
            WriteCmd::Send { msg, now_ms, reply } => {
                let result = self.append(batch, pending, msg, now_ms);
                pending.reply(reply, result);
            }
            WriteCmd::OpenDirect { a, b, context, now_ms, reply } => {
                let result = self.open_direct(batch, pending, a, b, context, now_ms);
                pending.reply(reply, result);
            }
            WriteCmd::CreateGroup { meta, members, reply } => {
                let result = self.create_conv(batch, pending, meta, members);
                pending.reply(reply, result);
            }
            WriteCmd::PutProfile { profile, reply } => {
                let result =
                    self.store.cf(keys::USERS).map(|cf| batch.put_cf(&cf, profile.id.as_bytes(), encode(&profile)));
                pending.reply(reply, result);
            }
            WriteCmd::Receipt { mark, reply } => {
                let result = self.mark(batch, pending, mark);
                pending.reply(reply, result);
            }
            WriteCmd::Edit { edit, reply } => {
                let result = self.edit(batch, pending, edit);
                pending.reply(reply, result);
            }
            WriteCmd::Delete { delete, reply } => {
                let result = self.delete(batch, pending, delete);
                pending.reply(reply, result);
            }
            WriteCmd::React { react, reply } => {
                let result = self.react(batch, pending, react);
                pending.reply(reply, result);
            }
            WriteCmd::Members { change, reply } => {
                let result = self.change_members(batch, pending, change);
                pending.reply(reply, result);
            }
            WriteCmd::Setting { change, reply } => {
                let result = self.change_setting(batch, pending, change);
                pending.reply(reply, result);
            }
            WriteCmd::Shutdown => {}
        }
    }

    fn members_of(&mut self, conv: ConvId) -> Result<Arc<[UserId]>, StoreError> {
        if let Some(m) = self.members.get(&conv) {
            return Ok(m.clone());
        }
        let list: Arc<[UserId]> = self.store.members(conv)?.into_iter().map(|(u, _)| u).collect();
        if !list.is_empty() {
            self.members.insert(conv, list.clone());
        }
        Ok(list)
    }

    fn head_of(&mut self, conv: ConvId) -> Result<ConvHead, StoreError> {
        if let Some(h) = self.heads.get(&conv) {
            return Ok(*h);
        }
        let head = self.store.conv_head(conv)?;
        self.heads.insert(conv, head);
        Ok(head)
    }

    fn append(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        msg: NewMessage,
        now_ms: u64,
    ) -> Result<(Ack, bool), StoreError> {
        let members = self.members_of(msg.conv)?;
        if members.is_empty() {
            return Err(StoreError::NotFound);
        }
        if !members.contains(&msg.sender.id) {
            return Err(StoreError::Forbidden("not a member of this conversation"));
        }
        let idem = keys::idem_key(msg.conv, &msg.sender.id, &msg.client_msg_id);
        if let Some(ack) = pending.idem.get(&idem) {
            return Ok((*ack, true));
        }
        if let Some(ack) = self.store.idempotent_ack(&idem)? {
            return Ok((ack, true));
        }
        if self.is_direct(pending, msg.conv)? {
            if let Some(peer) = members.iter().find(|m| **m != msg.sender.id) {
                if self.blocks(pending, peer, &msg.sender.id)? {
                    return Err(StoreError::Blocked("this user has blocked you"));
                }
                if self.blocks(pending, &msg.sender.id, peer)? {
                    return Err(StoreError::Blocked("you have blocked this user; unblock them to write"));
                }
            }
        }
        let reply_preview = self.reply_preview(pending, msg.conv, msg.reply_to)?;
        let stored = self.write_message(batch, pending, msg, reply_preview, now_ms, members.clone())?;
        let ack = Ack { conv: stored.conv, msg_id: stored.id, seq: stored.seq, created_at_ms: now_ms };
        batch.put_cf(&self.store.cf(keys::IDEM)?, &idem, encode(&ack));
        pending.idem.insert(idem, ack);
        // Sending implies reading: the sender's own messages never count as unread for them.
        if let Err(e) = self.sender_read(batch, pending, stored.conv, &stored.sender.id, stored.seq, now_ms, &members) {
            tracing::error!(error = %e, conv = stored.conv, seq = stored.seq, "writer: the sender's read watermark could not move");
        }
        Ok((ack, false))
    }

    /// Puts a new message (the next seq of its conversation) and its id index into the batch, moves the
    /// conversation's head, and publishes it to `audience`. No checks: callers decide who may write.
    fn write_message(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        msg: NewMessage,
        reply_preview: Option<crate::model::ReplyPreviewRec>,
        now_ms: u64,
        audience: Arc<[UserId]>,
    ) -> Result<Arc<StoredMessage>, StoreError> {
        let head = self.head_of(msg.conv)?;
        let received = msg.received;
        let stored = StoredMessage {
            id: self.next_msg_id,
            conv: msg.conv,
            seq: head.last_seq + 1,
            lsn: self.next_lsn,
            sender: msg.sender,
            kind: msg.kind,
            text: msg.text,
            attachments: msg.attachments,
            reply_to: msg.reply_to,
            client_msg_id: msg.client_msg_id,
            created_at_ms: now_ms,
            edited_at_ms: 0,
            deleted: false,
            metadata: msg.metadata,
            reply_preview,
            system: msg.system,
            call: msg.call,
        };
        let head =
            ConvHead { last_seq: stored.seq, last_activity_ms: now_ms, last_lsn: stored.lsn, last_msg_id: stored.id };
        batch.put_cf(&self.store.cf(keys::MSGS)?, msg_key(stored.conv, stored.seq), encode(&stored));
        batch.put_cf(&self.store.cf(keys::MSG_IDX)?, u64_key(stored.id), msg_key(stored.conv, stored.seq));
        batch.put_cf(&self.store.cf(keys::HEADS)?, u64_key(stored.conv), encode(&head));
        self.next_msg_id += 1;
        self.next_lsn += 1;
        self.heads.insert(stored.conv, head);
        pending.msg_locations.insert(stored.id, stored.conv);
        let stored = Arc::new(stored);
        pending.events.push(Committed::Message { msg: stored.clone(), members: audience, received });
        Ok(stored)
    }

    /// Whether `conv` is a direct conversation (NotFound when it does not exist).
    fn is_direct(&mut self, pending: &Pending, conv: ConvId) -> Result<bool, StoreError> {
        if let Some(d) = self.direct.get(&conv) {
            return Ok(*d);
        }
        let meta = match pending.metas.get(&conv) {
            Some(m) => m.clone(),
            None => self.store.conv_meta(conv)?.ok_or(StoreError::NotFound)?,
        };
        let direct = meta.kind == ConvKind::Direct;
        self.direct.insert(conv, direct);
        Ok(direct)
    }

    /// Whether `blocker` has blocked `blocked`, this batch included.
    fn blocks(&self, pending: &Pending, blocker: &str, blocked: &str) -> Result<bool, StoreError> {
        match pending.blocks.get(&(blocker.to_owned(), blocked.to_owned())) {
            Some(b) => Ok(*b),
            None => self.store.has_blocked(blocker, blocked),
        }
    }

    fn open_direct(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        a: UserId,
        b: UserId,
        context: Option<Context>,
        now_ms: u64,
    ) -> Result<(ConvId, bool), StoreError> {
        if a == b {
            return Err(StoreError::Invalid("a direct conversation needs two different users".into()));
        }
        let key = keys::direct_key(&a, &b, context.as_ref().map(|c| (c.kind.as_str(), c.id.as_str())));
        if let Some(conv) = pending.direct.get(&key) {
            return Ok((*conv, false));
        }
        if let Some(conv) = self.store.direct(&key)? {
            return Ok((conv, false));
        }
        if self.blocks(pending, &a, &b)? || self.blocks(pending, &b, &a)? {
            return Err(StoreError::Blocked("one of you has blocked the other"));
        }
        let meta = ConvMeta {
            id: 0,
            kind: ConvKind::Direct,
            title: None,
            avatar_url: None,
            description: None,
            context,
            created_by: a.clone(),
            created_at_ms: now_ms,
        };
        let conv = self.create_conv(batch, pending, meta, vec![b])?;
        batch.put_cf(&self.store.cf(keys::DIRECT)?, &key, u64_key(conv));
        pending.direct.insert(key, conv);
        Ok((conv, true))
    }

    /// Writes a new conversation: `meta.created_by` becomes its owner (groups) or first member (direct).
    fn create_conv(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        mut meta: ConvMeta,
        others: Vec<UserId>,
    ) -> Result<ConvId, StoreError> {
        let conv = self.next_conv_id;
        meta.id = conv;
        let creator_role = if meta.kind == ConvKind::Group { Role::Owner } else { Role::Member };
        let mut seen = HashSet::new();
        let mut members: Vec<(UserId, Role)> = vec![(meta.created_by.clone(), creator_role)];
        seen.insert(meta.created_by.clone());
        for user in others {
            if seen.insert(user.clone()) {
                members.push((user, Role::Member));
            }
        }
        let head = ConvHead { last_activity_ms: meta.created_at_ms, ..ConvHead::default() };
        batch.put_cf(&self.store.cf(keys::CONVS)?, u64_key(conv), encode(&meta));
        batch.put_cf(&self.store.cf(keys::HEADS)?, u64_key(conv), encode(&head));
        let members_cf = self.store.cf(keys::MEMBERS)?;
        let user_convs_cf = self.store.cf(keys::USER_CONVS)?;
        for (user, role) in &members {
            let rec = MemberRec { role: *role, joined_at_ms: meta.created_at_ms };
            batch.put_cf(&members_cf, keys::member_key(conv, user), encode(&rec));
            batch.put_cf(&user_convs_cf, keys::user_conv_key(user, conv), []);
        }
        self.next_conv_id += 1;
        let list: Arc<[UserId]> = members.into_iter().map(|(u, _)| u).collect();
        self.heads.insert(conv, head);
        self.members.insert(conv, list.clone());
        self.direct.insert(conv, meta.kind == ConvKind::Direct);
        pending.events.push(Committed::ConvCreated { conv, members: list });
        Ok(conv)
    }
}
