//! Message requests: SendMessage, GetHistory, GetMessage (edits, deletions and reactions: `lifecycle.rs`).

use std::sync::Arc;

use quip_protocol::family::messages::{
    Attachment, AttachmentKind, Direction, GetHistory, GetMessage, HistoryPage, MessageAck, MessageInfo, MessageKind,
    SendMessage,
};
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid, store_error};
use crate::wire::convert;
use quip_store::model::Sender;
use quip_store::{self as store, NewMessage};

fn validate(ctx: &Ctx, m: &SendMessage) -> Result<(), ErrorReply> {
    let limits = &ctx.broker.cfg.limits;
    if m.conversation_id == 0 {
        return Err(invalid("conversation_id is required"));
    }
    if m.text.len() > limits.max_text_bytes {
        return Err(ErrorReply::new(
            ErrorCode::PayloadTooLarge,
            format!("text is {} bytes; the limit is {}", m.text.len(), limits.max_text_bytes),
        ));
    }
    if matches!(m.kind, MessageKind::System | MessageKind::Call) {
        return Err(ErrorReply::new(ErrorCode::Forbidden, "system and call messages are written by the server"));
    }
    if m.text.trim().is_empty() && m.attachments.is_empty() {
        return Err(invalid("a message needs text or an attachment"));
    }
    check_attachments(limits, &m.attachments)
}

/// Checks attachments against the configured count, size and kinds.
fn check_attachments(limits: &crate::config::LimitsConfig, attachments: &[Attachment]) -> Result<(), ErrorReply> {
    if attachments.len() > limits.max_attachments {
        return Err(ErrorReply::new(
            ErrorCode::TooManyAttachments,
            format!("{} attachments; the limit is {}", attachments.len(), limits.max_attachments),
        ));
    }
    for a in attachments {
        let kind = attachment_kind_name(a.kind);
        if !limits.attachment_kinds.iter().any(|k| k == kind) {
            return Err(ErrorReply::new(
                ErrorCode::AttachmentNotAllowed,
                format!("{kind} attachments are not allowed"),
            ));
        }
        if a.size > limits.max_attachment_bytes {
            return Err(ErrorReply::new(
                ErrorCode::AttachmentNotAllowed,
                format!("an attachment of {} bytes is over the limit of {}", a.size, limits.max_attachment_bytes),
            ));
        }
        if !(a.url.starts_with("https://") || a.url.starts_with("http://") || a.url.starts_with('/')) {
            return Err(invalid("an attachment url must be http(s) or a path on the app's server"));
        }
    }
    Ok(())
}

/// The configuration name of an attachment kind (`limits.attachment_kinds`).
fn attachment_kind_name(k: AttachmentKind) -> &'static str {
    match k {
        AttachmentKind::Image => "image",
        AttachmentKind::Video => "video",
        AttachmentKind::Audio => "audio",
        AttachmentKind::Pdf => "pdf",
        AttachmentKind::Doc => "doc",
        _ => "file",
    }
}

/// Queues the send now (keeping the client's order) and answers when it is durable.
pub async fn send(ctx: Arc<Ctx>, request_id: u64, m: SendMessage) {
    if let Err(e) = validate(&ctx, &m) {
        ctx.reply(request_id, Err(e)).await;
        return;
    }
    let Ok(permit) = ctx.inflight.clone().acquire_owned().await else { return };
    let started = std::time::Instant::now();
    let msg = NewMessage {
        conv: m.conversation_id,
        // The writer stores the sender's current profile with the message (its cache, no read here).
        sender: Sender { id: ctx.who.user.clone(), ..Sender::default() },
        client_msg_id: m.client_msg_id,
        kind: convert::message_kind_to_rec(m.kind),
        text: m.text,
        attachments: m.attachments.iter().map(convert::attachment_to_rec).collect(),
        reply_to: m.reply_to,
        metadata: convert::pairs(&m.metadata),
        received: Some(started),
        leaves_read_state: m.leave_read_state,
        ..NewMessage::default()
    };
    let client_msg_id = msg.client_msg_id.clone();
    let pending = match ctx.broker.writer.enqueue_send(msg, crate::now_ms()).await {
        Ok(rx) => rx,
        Err(e) => {
            ctx.reply(request_id, Err(store_error(&e))).await;
            return;
        }
    };
    tokio::spawn(async move {
        let result = pending.await.unwrap_or(Err(store::StoreError::Closed));
        drop(permit);
        let reply = result
            .map(|(ack, duplicate)| {
                metrics::histogram!("quip_send_ack_seconds").record(started.elapsed().as_secs_f64());
                if !duplicate {
                    metrics::counter!("quip_messages_stored_total").increment(1);
                }
                MessageAck {
                    conversation_id: ack.conv,
                    message_id: ack.msg_id,
                    seq: ack.seq,
                    created_at_ms: ack.created_at_ms,
                    client_msg_id,
                    duplicate,
                }
                .into()
            })
            .map_err(|e| store_error(&e));
        ctx.reply(request_id, reply).await;
    });
}

/// The sender snapshot stored with a message: the caller's current profile.
pub(super) async fn sender(ctx: &Ctx) -> Sender {
    let user = ctx.who.user.clone();
    match ctx.blocking(move |s| s.profile(&user)).await {
        Ok(Some(p)) => p.sender(),
        _ => Sender { id: ctx.who.user.clone(), ..Sender::default() },
    }
}

pub async fn history(ctx: &Ctx, h: GetHistory) -> Reply {
    ctx.require_member(h.conversation_id).await?;
    let limit = h.limit.clamp(1, ctx.broker.cfg.limits.max_page) as usize;
    let dir = match h.direction {
        Direction::Forward => store::Direction::Forward,
        _ => store::Direction::Backward,
    };
    let conv = h.conversation_id;
    let viewer = ctx.who.user.clone();
    let mut page = ctx.blocking(move |s| s.history(&viewer, conv, h.anchor_seq, dir, limit)).await?;
    // A reply must fit in one frame: cut the page where it would grow past half the frame limit.
    let budget = ctx.broker.cfg.limits.max_frame_size as usize / 2;
    let mut used = 0;
    if let Some(cut) = page.messages.iter().position(|m| {
        used += estimated_size(m);
        used > budget
    }) {
        page.messages.truncate(cut.max(1));
        page.has_more = true;
    }
    let next_anchor_seq = if page.has_more { page.messages.last().map_or(0, |m| m.seq) } else { 0 };
    let has_more = page.has_more;
    let stored = page.messages;
    let messages = ctx.blocking(move |s| super::lifecycle::wire_messages(s, &stored)).await?;
    Ok(HistoryPage { conversation_id: conv, messages, next_anchor_seq, has_more }.into())
}

pub async fn get(ctx: &Ctx, g: GetMessage) -> Reply {
    let id = g.message_id;
    let found = ctx
        .blocking(move |s| match s.locate(id)? {
            Some((conv, seq)) => s.message(conv, seq),
            None => Ok(None),
        })
        .await?;
    let not_found = || ErrorReply::new(ErrorCode::NotFound, "no such message");
    let m = found.ok_or_else(not_found)?;
    // Non-members get NotFound, not Forbidden: they may not learn that the message exists.
    ctx.require_member(m.conv).await.map_err(|_| not_found())?;
    let user = ctx.who.user.clone();
    let mut wire = ctx
        .blocking(move |s| {
            if s.is_hidden(&user, m.conv, m.seq)? {
                return Ok(Vec::new());
            }
            super::lifecycle::wire_messages(s, std::slice::from_ref(&m))
        })
        .await?;
    // A message the caller deleted for themselves is gone for them.
    let message = wire.pop().ok_or_else(not_found)?;
    Ok(MessageInfo { message }.into())
}

/// An upper bound of a message's encoded size, for keeping replies within one frame.
fn estimated_size(m: &quip_store::model::StoredMessage) -> usize {
    let attachments: usize =
        m.attachments.iter().map(|a| 64 + a.url.len() + a.mime.len() + a.name.len() + a.thumbnail_url.len()).sum();
    let metadata: usize = m.metadata.iter().map(|(k, v)| 16 + k.len() + v.len()).sum();
    256 + m.text.len() + m.client_msg_id.len() + m.sender.id.len() + attachments + metadata
}
