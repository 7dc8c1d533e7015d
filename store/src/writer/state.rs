//! The writer thread's own state: every counter, and caches of what it reads on each send.

use std::collections::HashMap;
use std::sync::Arc;

use rocksdb::WriteOptions;

use super::cmd::{Committed, Reply};
use crate::config::{Durability, StoreConfig};
use crate::keys;
use crate::model::{
    Ack, ConvHead, ConvId, ConvKind, ConvMeta, MemberRec, ReactionRec, Seq, StoredMessage, UserId, UserSettings,
    Watermarks,
};
use crate::{Store, StoreError};

/// Caches are dropped wholesale past this many conversations (they reload from RocksDB on demand).
pub(super) const CACHE_LIMIT: usize = 100_000;

pub(super) struct State {
    pub(super) store: Store,
    pub(super) write_opts: WriteOptions,
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
}

/// Answers one command once the batch's fate is known.
pub(super) type Responder = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// What one batch has written so far but not yet committed.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) replies: Vec<Responder>,
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

    pub(super) fn clear_caches(&mut self) {
        self.heads.clear();
        self.members.clear();
        self.direct.clear();
        self.receipts.clear();
        self.device_receipts.clear();
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
    pub(super) fn blocks(&self, pending: &Pending, blocker: &str, blocked: &str) -> Result<bool, StoreError> {
        match pending.blocks.get(&(blocker.to_owned(), blocked.to_owned())) {
            Some(b) => Ok(*b),
            None => self.store.has_blocked(blocker, blocked),
        }
    }
}
