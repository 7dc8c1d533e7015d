//! What happens to a message after it was sent: EditMessage, DeleteMessage, React. The writer decides
//! (sender, window, roles, membership: `store/writer/lifecycle.rs`); this validates the request and
//! answers Done once the change is durable. Also builds wire messages with their reactions and an
//! up-to-date reply preview, for GetHistory and GetMessage.

use quip_protocol::family::messages::{DeleteMessage, DeleteScope, EditMessage, Message, React};
use quip_protocol::family::session::Done;
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid, store_error};
use crate::wire::convert;
use quip_store::model::StoredMessage;
use quip_store::{Delete, Edit, ReactTo, Store, StoreError};

/// The longest emoji (or short reaction code) accepted, in bytes.
const MAX_EMOJI_BYTES: usize = 64;

/// Replace a message's text: validated like a send's.
pub async fn edit(ctx: &Ctx, e: EditMessage) -> Reply {
    let max = ctx.broker.cfg.limits.max_text_bytes;
    if e.message_id == 0 {
        return Err(invalid("message_id is required"));
    }
    if e.text.len() > max {
        return Err(ErrorReply::new(
            ErrorCode::PayloadTooLarge,
            format!("text is {} bytes; the limit is {max}", e.text.len()),
        ));
    }
    if e.text.trim().is_empty() {
        return Err(invalid("an edit needs text"));
    }
    let edit = Edit { msg_id: e.message_id, user: ctx.who.user.clone(), text: e.text, now_ms: crate::now_ms() };
    ctx.broker.writer.edit(edit).await.map_err(|e| store_error(&e))?;
    Ok(Done.into())
}

/// Delete a message for everyone (sender, or a group's admin or owner) or for the caller only.
pub async fn delete(ctx: &Ctx, d: DeleteMessage) -> Reply {
    if d.message_id == 0 {
        return Err(invalid("message_id is required"));
    }
    let delete = Delete {
        msg_id: d.message_id,
        user: ctx.who.user.clone(),
        for_everyone: d.scope == DeleteScope::ForEveryone,
        now_ms: crate::now_ms(),
    };
    ctx.broker.writer.delete(delete).await.map_err(|e| store_error(&e))?;
    Ok(Done.into())
}

/// Add or remove a reaction (any member).
pub async fn react(ctx: &Ctx, r: React) -> Reply {
    if r.message_id == 0 {
        return Err(invalid("message_id is required"));
    }
    if r.emoji.trim().is_empty() || r.emoji.len() > MAX_EMOJI_BYTES {
        return Err(invalid(format!("emoji must be 1..={MAX_EMOJI_BYTES} bytes")));
    }
    let react = ReactTo { msg_id: r.message_id, user: ctx.who.user.clone(), emoji: r.emoji, remove: r.remove };
    ctx.broker.writer.react(react).await.map_err(|e| store_error(&e))?;
    Ok(Done.into())
}

/// Stored messages as clients see them in history and GetMessage: with their reactions, and with the
/// reply preview marked deleted when the replied message has since been deleted for everyone.
/// Blocking (point reads): call from `Ctx::blocking`.
pub fn wire_messages(store: &Store, msgs: &[StoredMessage]) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::with_capacity(msgs.len());
    for m in msgs {
        let mut wire = convert::message(m);
        if !m.deleted {
            wire.reactions = convert::reactions(&store.reactions(m.conv, m.seq)?);
        }
        if let Some(preview) = wire.reply_to.as_mut().filter(|p| !p.deleted) {
            if store.message(m.conv, preview.seq)?.is_some_and(|r| r.deleted) {
                preview.text.clear();
                preview.deleted = true;
            }
        }
        out.push(wire);
    }
    Ok(out)
}
