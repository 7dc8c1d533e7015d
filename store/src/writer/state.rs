//! The writer thread's own state: every counter, and caches of what it reads on each send.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rocksdb::WriteOptions;

use super::cmd::{Committed, Reply};
use crate::config::{Durability, StoreConfig};
use crate::keys;
use crate::model::{
    Ack, ConvHead, ConvId, ConvKind, ConvMeta, MemberRec, ReactionRec, Sender, Seq, StoredMessage, UserId,
    UserSettings, Watermarks,
};
use crate::{Store, StoreError};

/// Caches are dropped wholesale past this many conversations (they reload from RocksDB on demand).
pub(super) const CACHE_LIMIT: usize = 100_000;

pub(super) struct State {
    pub(super) store: Store,
    pub(super) write_opts: WriteOptions,
    /// `write_opts` without the fsync, for batches in which nobody waits for durability (`Mark::durable`).
    pub(super) write_opts_unsynced: WriteOptions,
    pub(super) max_batch: usize,
    pub(super) next_conv_id: u64,
    pub(super) next_msg_id: u64,
    pub(super) next_lsn: u64,
    pub(super) heads: HashMap<ConvId, ConvHead>,
    pub(super) members: HashMap<ConvId, Arc<[UserId]>>,
    /// Whether each conversation is direct (they are checked for blocks on every send).
    pub(super) direct: HashMap<ConvId, bool>,
    /// Merged watermarks per (conversation, member), written through like `heads`.
    pub(super) receipts: HashMap<(ConvId, UserId), Watermarks>,
    /// Watermarks per (conversation, member, device).
    pub(super) device_receipts: HashMap<(ConvId, UserId, String), Watermarks>,
    /// Senders' current profiles (`None`: no profile), for the snapshot stored with each message. Every
    /// profile write goes through this writer, so the cache is written through and never stale.
    pub(super) profiles: HashMap<UserId, Option<Sender>>,
    /// Whom each user has blocked (direct sends check both ways), written through like the others.
    pub(super) blocked_by: HashMap<UserId, HashSet<UserId>>,
    /// Each user's conversations in id order (for unread totals), written through like the others.
    pub(super) user_convs: HashMap<UserId, Vec<ConvId>>,
    /// Metric handles, resolved once.
    pub(super) write_seconds: metrics::Histogram,
    pub(super) batch_size: metrics::Histogram,
}

/// Answers one command once the batch's fate is known.
pub(super) type Responder = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// What one batch has written so far but not yet committed.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) replies: Vec<Responder>,
    /// Something in the batch is acknowledged as durable (everything but `Mark { durable: false }`).
    pub(super) needs_sync: bool,
    pub(super) events: Vec<Committed>,
    pub(super) idem: HashMap<Vec<u8>, Ack>,
    pub(super) direct: HashMap<Vec<u8>, ConvId>,
    pub(super) msg_locations: HashMap<u64, ConvId>,
    /// Messages rewritten in this batch (edits, tombstones), so later commands build on them.
    pub(super) msgs: HashMap<(ConvId, Seq), StoredMessage>,
    /// Reaction sets rewritten in this batch.
    pub(super) reactions: HashMap<(ConvId, Seq), Vec<ReactionRec>>,
    /// Conversation settings rewritten in this batch (`None`: deleted).
    pub(super) metas: HashMap<ConvId, ConvMeta>,
    /// Member records rewritten in this batch (`None`: the user left or was removed).
    pub(super) member_recs: HashMap<(ConvId, UserId), Option<MemberRec>>,
    /// Users' views rewritten in this batch.
    pub(super) settings: HashMap<(UserId, ConvId), UserSettings>,
    /// Blocks set (true) or lifted (false) in this batch: (blocker, blocked).
    pub(super) blocks: HashMap<(UserId, UserId), bool>,
    /// Readers whose read watermark moved in this batch, each (user, conversation) once.
    pub(super) read_moved: Vec<(UserId, ConvId)>,
}

impl Pending {
    pub(super) fn reply<T: Send + 'static>(&mut self, reply: Reply<T>, value: Result<T, StoreError>) {
        self.replies.push(Box::new(move |commit: Result<(), StoreError>| {
            // A dropped receiver means the requester went away; nothing to tell.
            let _ = reply.send(commit.and(value));
        }));
    }
}

impl State {
    pub(super) fn load(store: Store, cfg: &StoreConfig) -> Result<Self, StoreError> {
        let mut write_opts = WriteOptions::default();
        let mut write_opts_unsynced = WriteOptions::default();
        match cfg.durability {
            Durability::Fsync => write_opts.set_sync(true),
            Durability::Wal => write_opts.set_sync(false),
            Durability::None => {
                write_opts.disable_wal(true);
                write_opts_unsynced.disable_wal(true);
            }
        }
        Ok(Self {
            next_conv_id: store.meta_u64(keys::NEXT_CONV_ID)?.max(1),
            next_msg_id: store.meta_u64(keys::NEXT_MSG_ID)?.max(1),
            next_lsn: store.meta_u64(keys::NEXT_LSN)?.max(1),
            store,
            write_opts,
            write_opts_unsynced,
            max_batch: cfg.max_batch,
            heads: HashMap::new(),
            members: HashMap::new(),
            direct: HashMap::new(),
            receipts: HashMap::new(),
            device_receipts: HashMap::new(),
            profiles: HashMap::new(),
            blocked_by: HashMap::new(),
            user_convs: HashMap::new(),
            write_seconds: metrics::histogram!("quip_store_write_seconds"),
            batch_size: metrics::histogram!("quip_store_batch_size"),
        })
    }

    pub(super) fn clear_caches(&mut self) {
        self.heads.clear();
        self.members.clear();
        self.direct.clear();
        self.receipts.clear();
        self.device_receipts.clear();
        self.profiles.clear();
        self.blocked_by.clear();
        self.user_convs.clear();
    }

    /// What a new message of `user` stores as its sender: their profile as it is now (only the id when
    /// they have none).
    pub(super) fn sender_snapshot(&mut self, user: &str) -> Result<Sender, StoreError> {
        if let Some(cached) = self.profiles.get(user) {
            return Ok(cached.clone().unwrap_or_else(|| Sender { id: user.to_owned(), ..Sender::default() }));
        }
        let found = self.store.profile(user)?.map(|p| p.sender());
        self.profiles.insert(user.to_owned(), found.clone());
        Ok(found.unwrap_or_else(|| Sender { id: user.to_owned(), ..Sender::default() }))
    }

    pub(super) fn members_of(&mut self, conv: ConvId) -> Result<Arc<[UserId]>, StoreError> {
        if let Some(m) = self.members.get(&conv) {
            return Ok(m.clone());
        }
        let list: Arc<[UserId]> = self.store.members(conv)?.into_iter().map(|(u, _)| u).collect();
        if !list.is_empty() {
            self.members.insert(conv, list.clone());
        }
        Ok(list)
    }

    pub(super) fn head_of(&mut self, conv: ConvId) -> Result<ConvHead, StoreError> {
        if let Some(h) = self.heads.get(&conv) {
            return Ok(*h);
        }
        let head = self.store.conv_head(conv)?;
        self.heads.insert(conv, head);
        Ok(head)
    }

    /// Whether `conv` is a direct conversation (NotFound when it does not exist).
    pub(super) fn is_direct(&mut self, pending: &Pending, conv: ConvId) -> Result<bool, StoreError> {
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
    pub(super) fn blocks(&mut self, pending: &Pending, blocker: &str, blocked: &str) -> Result<bool, StoreError> {
        if !pending.blocks.is_empty()
            && let Some(b) = pending.blocks.get(&(blocker.to_owned(), blocked.to_owned()))
        {
            return Ok(*b);
        }
        if let Some(set) = self.blocked_by.get(blocker) {
            return Ok(set.contains(blocked));
        }
        let set: HashSet<UserId> = self.store.blocked_by(blocker)?.into_iter().map(|(u, _)| u).collect();
        let found = set.contains(blocked);
        self.blocked_by.insert(blocker.to_owned(), set);
        Ok(found)
    }

    /// Keeps the block cache in step with a block set or lifted in the current batch.
    pub(super) fn note_block(&mut self, blocker: &str, blocked: &str, block: bool) {
        if let Some(set) = self.blocked_by.get_mut(blocker) {
            if block {
                set.insert(blocked.to_owned());
            } else {
                set.remove(blocked);
            }
        }
    }
}
