//! Receipt requests: MarkDelivered, MarkRead, GetUnreadCounts, GetReceipts.
//!
//! Marks go to the single writer, which does the watermark's read-modify-write (so two devices of one
//! user cannot race) and publishes the ReceiptEvents and UnreadEvents after commit. Message ids of a
//! MarkRead are resolved here first, off the writer thread: where a message lives never changes, and a
//! client only learns an id once its message is committed.

use quip_protocol::family::receipts::{
    GetReceipts, GetUnreadCounts, MarkDelivered, MarkRead, MemberReceipt, MessageReceipts, UnreadCount, UnreadCounts,
};
use quip_protocol::family::session::Done;
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid, store_error};
use quip_store::model::{ReceiptKind, UserId};
use quip_store::{Mark, StoreError};

fn no_conversation() -> ErrorReply {
    ErrorReply::new(ErrorCode::NotFound, "no such conversation")
}

/// A report with request id 0 (the SDK's automatic ones) asks for no reply, so nobody waits for it to
/// be durable: it is written without an fsync of its own (`Mark::durable`).
pub async fn mark_delivered(ctx: &Ctx, request_id: u64, m: MarkDelivered) -> Reply {
    if m.conversation_id == 0 {
        return Err(invalid("conversation_id is required"));
    }
    mark(ctx, m.conversation_id, ReceiptKind::Delivered, m.up_to_seq, request_id != 0).await
}

/// Up to `up_to_seq` and/or up to the highest of `message_ids` that belong to the conversation (ids of
/// other conversations are ignored; when none belongs, the request is refused).
pub async fn mark_read(ctx: &Ctx, m: MarkRead) -> Reply {
    let conv = m.conversation_id;
    if conv == 0 {
        return Err(invalid("conversation_id is required"));
    }
    let mut up_to = m.up_to_seq;
    if !m.message_ids.is_empty() {
        let user = ctx.who.user.clone();
        let mut ids = m.message_ids;
        ids.sort_unstable();
        ids.dedup();
        let highest = ctx
            .blocking(move |s| {
                if s.member(conv, &user)?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let mut highest = None;
                for id in ids {
                    match s.locate(id)? {
                        Some((c, seq)) if c == conv => highest = highest.max(Some(seq)),
                        _ => {}
                    }
                }
                Ok(highest)
            })
            .await
            .map_err(|e| if e.code == ErrorCode::NotFound { no_conversation() } else { e })?;
        let highest = highest.ok_or_else(|| invalid("none of message_ids is a message of this conversation"))?;
        up_to = up_to.max(highest);
    }
    mark(ctx, conv, ReceiptKind::Read, up_to, true).await
}

async fn mark(ctx: &Ctx, conv: u64, kind: ReceiptKind, up_to: u64, durable: bool) -> Reply {
    let mark = Mark {
        conv,
        user: ctx.who.user.clone(),
        device: ctx.who.device_id.to_string(),
        kind,
        up_to,
        now_ms: crate::now_ms(),
        durable,
    };
    ctx.broker.writer.mark(mark).await.map_err(|e| match e {
        StoreError::NotFound => no_conversation(),
        e => store_error(&e),
    })?;
    Ok(Done.into())
}

/// The caller's unread counts; the total is over all their conversations, whichever were asked for.
pub async fn unread_counts(ctx: &Ctx, g: GetUnreadCounts) -> Reply {
    let user = ctx.who.user.clone();
    let counts = ctx
        .blocking(move |s| s.unread_counts(&user, &g.conversation_ids))
        .await
        .map_err(|e| if e.code == ErrorCode::NotFound { no_conversation() } else { e })?;
    Ok(UnreadCounts {
        total: counts.total,
        conversations: counts
            .conversations
            .into_iter()
            .map(|(conversation_id, unread)| UnreadCount { conversation_id, unread })
            .collect(),
    }
    .into())
}

/// Who of the members other than the sender got and read a message, and when. Members only: anyone
/// else gets NotFound, as if the message did not exist.
pub async fn receipts(ctx: &Ctx, g: GetReceipts) -> Reply {
    let id = g.message_id;
    let user = ctx.who.user.clone();
    let found = ctx
        .blocking(move |s| {
            let Some((conv, seq)) = s.locate(id)? else { return Ok(None) };
            if s.member(conv, &user)?.is_none() {
                return Ok(None);
            }
            let Some(message) = s.message(conv, seq)? else { return Ok(None) };
            let recipients: Vec<UserId> =
                s.members(conv)?.into_iter().map(|(u, _)| u).filter(|u| *u != message.sender.id).collect();
            Ok(Some((conv, seq, s.message_receipts(conv, seq, &recipients)?)))
        })
        .await?;
    let (conv, seq, rows) = found.ok_or_else(|| ErrorReply::new(ErrorCode::NotFound, "no such message"))?;
    let count = |f: fn(&quip_store::MemberReceipt) -> bool| {
        u32::try_from(rows.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
    };
    let (delivered, read) = (count(|r| r.delivered_at_ms.is_some()), count(|r| r.read_at_ms.is_some()));
    Ok(MessageReceipts {
        conversation_id: conv,
        message_id: id,
        seq,
        recipients: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        delivered,
        read,
        members: rows
            .into_iter()
            .map(|r| MemberReceipt {
                user_id: r.user,
                delivered_at_ms: r.delivered_at_ms.unwrap_or(0),
                read_at_ms: r.read_at_ms.unwrap_or(0),
            })
            .collect(),
    }
    .into())
}
