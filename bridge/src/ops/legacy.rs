//! Operations only legacy dialects need (marked *extension* in `crate::dialect::canonical`): offset paging
//! with totals, block toggling, `noop`, and the lookups behind enriched events (the message at a receipt's
//! seq, a user's display name). Each is built from plain quip requests.

use quip_protocol::family::conversations::{
    BlockUser, Conversation, ConversationInfo, ConversationPage, GetConversation, ListConversations, UnblockUser,
};
use quip_protocol::family::messages::{Direction, GetHistory, Message};
use quip_protocol::family::session::GetUsers;
use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::{Client, ErrorCode};
use serde_json::{Value, json};

use super::page::{DEFAULT_PAGE, MAX_PAGE};
use crate::error::ApiError;
use crate::json::{self, Args};

/// Most items an offset page may reach into (offset + limit), so one request cannot scan without bound.
pub const MAX_OFFSET_REACH: u64 = 10_000;

fn unexpected(reply: &ServerBody) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("unexpected reply {} from quipd", reply.name()))
}

fn offset_and_limit(a: &Args) -> Result<(usize, usize), ApiError> {
    let offset = a.opt_u64("offset")?.unwrap_or(0);
    let limit = u64::from(a.u32_or("limit", DEFAULT_PAGE)?.clamp(1, MAX_PAGE));
    if offset + limit > MAX_OFFSET_REACH {
        let mut e = ApiError::invalid(format!("offset + limit may reach at most {MAX_OFFSET_REACH} items"));
        e.field = Some("offset".to_owned());
        return Err(e);
    }
    Ok((offset as usize, limit as usize))
}

async fn conversation(client: &Client, conversation_id: u64) -> Result<Conversation, ApiError> {
    match client.request(ClientBody::from(GetConversation { conversation_id })).await? {
        ServerBody::ConversationInfo(ConversationInfo { conversation, .. }) => Ok(conversation),
        other => Err(unexpected(&other)),
    }
}

/// `message:history {conversationId, offset, limit}`: the page that skips the `offset` newest messages,
/// newest first, with `total` (the conversation's last seq: every message ever sent in it).
pub async fn history_by_offset(client: &Client, a: &Args) -> Result<Value, ApiError> {
    let conversation_id = a.id("conversationId")?;
    let (offset, limit) = offset_and_limit(a)?;
    let total = conversation(client, conversation_id).await?.last_seq;
    let mut collected: Vec<Message> = Vec::new();
    let mut anchor_seq = 0;
    let mut more = true;
    while more && collected.len() < offset + limit + 1 {
        let want = (offset + limit + 1 - collected.len()).min(MAX_PAGE as usize) as u32;
        let request = GetHistory { conversation_id, anchor_seq, direction: Direction::Backward, limit: want };
        match client.request(ClientBody::from(request)).await? {
            ServerBody::HistoryPage(p) => {
                more = p.has_more && p.next_anchor_seq != 0 && !p.messages.is_empty();
                anchor_seq = p.next_anchor_seq;
                collected.extend(p.messages);
            }
            other => return Err(unexpected(&other)),
        }
    }
    let has_more = more || collected.len() > offset + limit;
    let page: Vec<Value> = collected.iter().skip(offset).take(limit).map(json::message).collect();
    Ok(json!({
        "conversationId": conversation_id,
        "messages": page,
        "nextCursor": Value::Null,
        "hasMore": has_more,
        "offset": offset,
        "limit": limit,
        "total": total,
    }))
}

/// `conversation:list {offset, limit}`: the conversations after the `offset` most recent ones.
pub async fn list_by_offset(client: &Client, a: &Args) -> Result<Value, ApiError> {
    let (offset, limit) = offset_and_limit(a)?;
    let include_archived = a.bool_or("includeArchived", false)?;
    let mut collected: Vec<Conversation> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut more = true;
    while more && collected.len() < offset + limit + 1 {
        let want = (offset + limit + 1 - collected.len()).min(MAX_PAGE as usize) as u32;
        let request = ListConversations { cursor: cursor.clone(), limit: want, include_archived };
        match client.request(ClientBody::from(request)).await? {
            ServerBody::ConversationPage(ConversationPage { conversations, next_cursor }) => {
                more = next_cursor.as_deref().is_some_and(|c| !c.is_empty()) && !conversations.is_empty();
                cursor = next_cursor;
                collected.extend(conversations);
            }
            other => return Err(unexpected(&other)),
        }
    }
    let has_more = more || collected.len() > offset + limit;
    let total = (!has_more).then_some(collected.len());
    let page: Vec<Value> = collected.iter().skip(offset).take(limit).map(json::conversation).collect();
    Ok(json!({
        "conversations": page,
        "nextCursor": Value::Null,
        "hasMore": has_more,
        "offset": offset,
        "limit": limit,
        "total": total,
    }))
}

/// `conversation:toggleBlock {conversationId}` → `{blocked}`: blocks the other member of a direct
/// conversation, or unblocks them when the caller already blocked them.
pub async fn toggle_block(client: &Client, a: &Args) -> Result<Value, ApiError> {
    let conv = conversation(client, a.id("conversationId")?).await?;
    let me = client.welcome().map(|w| w.user.id).unwrap_or_default();
    let other = conv
        .members
        .iter()
        .map(|m| m.user.id.clone())
        .find(|id| *id != me)
        .ok_or_else(|| ApiError::invalid("the conversation has no other member to block"))?;
    let blocked = !conv.blocked_by_me;
    if blocked {
        client.request(ClientBody::from(BlockUser { user_id: other })).await?;
    } else {
        client.request(ClientBody::from(UnblockUser { user_id: other })).await?;
    }
    Ok(json!({ "blocked": blocked }))
}

/// The message at `seq` in a conversation (for receipts that legacy clients want as message ids).
pub async fn message_at(client: &Client, conversation_id: u64, seq: u64) -> Option<Message> {
    if seq == 0 || seq == u64::MAX {
        return None;
    }
    let request = GetHistory { conversation_id, anchor_seq: seq + 1, direction: Direction::Backward, limit: 1 };
    match client.request(ClientBody::from(request)).await.ok()? {
        ServerBody::HistoryPage(p) => p.messages.into_iter().next().filter(|m| m.seq == seq),
        _ => None,
    }
}

/// A user's display name, when quipd has one.
pub async fn display_name(client: &Client, user_id: &str) -> Option<String> {
    match client.request(ClientBody::from(GetUsers { user_ids: vec![user_id.to_owned()] })).await.ok()? {
        ServerBody::Users(u) => u.users.into_iter().next().and_then(|p| p.display_name).filter(|n| !n.is_empty()),
        _ => None,
    }
}
