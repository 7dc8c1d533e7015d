//! Appends (a message, its seq, its indexes, the conversation's head) and new conversations.

use std::collections::HashSet;
use std::sync::Arc;

use rocksdb::WriteBatch;

use super::cmd::{Committed, NewMessage};
use super::state::{Pending, State};
use crate::keys::{self, msg_key, u64_key};
use crate::model::{Ack, Context, ConvHead, ConvId, ConvKind, ConvMeta, MemberRec, Role, StoredMessage, UserId};
use crate::{StoreError, encode};

impl State {
    pub(super) fn append(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        mut msg: NewMessage,
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
        msg.sender = self.sender_snapshot(&msg.sender.id)?;
        let leaves_read_state = msg.leaves_read_state;
        let stored = self.write_message(batch, pending, msg, reply_preview, now_ms, members.clone())?;
        let ack = Ack { conv: stored.conv, msg_id: stored.id, seq: stored.seq, created_at_ms: now_ms };
        batch.put_cf(&self.store.cf(keys::IDEM)?, &idem, encode(&ack));
        pending.idem.insert(idem, ack);
        if leaves_read_state {
            // The legacy apps' rule: only an explicit mark reads. The row keeps the message from counting
            // as unread for its own sender.
            let key = keys::sent_key(&stored.sender.id, stored.conv, stored.seq);
            batch.put_cf(&self.store.cf(keys::SENT)?, key, []);
        } else if let Err(e) =
            self.sender_read(batch, pending, stored.conv, &stored.sender.id, stored.seq, now_ms, &members)
        {
            // Sending implies reading: the sender's own messages never count as unread for them.
            tracing::error!(error = %e, conv = stored.conv, seq = stored.seq, "writer: the sender's read watermark could not move");
        }
        Ok((ack, false))
    }

    /// Puts a new message (the next seq of its conversation) and its id index into the batch, moves the
    /// conversation's head, and publishes it to `audience`. No checks: callers decide who may write.
    pub(super) fn write_message(
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

    pub(super) fn open_direct(
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
    pub(super) fn create_conv(
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
        for (user, _) in &members {
            self.note_user_conv(user, conv, true);
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
