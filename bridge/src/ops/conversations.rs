//! Conversations: listing, opening and creating them, group membership and settings, and a Socket.IO
//! connection joining a conversation's room. Extensions for legacy dialects (docs/DIALECTS.md): offset
//! paging of `conversation:list`, `conversationIds` in `conversation:join`, `conversation:toggleBlock`.

use quip_protocol::family::conversations::{
    AddMembers, ArchiveConversation, BlockUser, Conversation, ConversationContext, ConversationInfo, ConversationPage,
    CreateGroup, GetConversation, HideConversation, LeaveConversation, ListConversations, MemberRole, MuteConversation,
    OpenDirect, RemoveMember, SetMemberRole, UnblockUser, UpdateConversation,
};
use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::Client;
use serde_json::{Value, json};

use super::op::{Input, Operation, Outcome, done, request, unexpected, unknown};
use super::page::{offset_and_limit, page_limit};
use crate::error::ApiError;
use crate::json::{self, Args};

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{cursor?, limit?, includeArchived?}` → `{conversations, nextCursor}`; with `offset`: the page after
    // the `offset` most recent ones, with `offset`, `limit` and `total`.
    Operation::extended("conversation:list", list_request, |i| Box::pin(list(i))),
    // `{peerUserId, context?: {kind, id, title?}}` → `{conversation, created}` (get or create).
    Operation::request("conversation:openDirect", open_direct, created),
    // `{title, memberIds, avatarUrl?, description?}` → `{conversation, created}`.
    Operation::request("conversation:createGroup", create_group, created),
    // `{conversationId}` → the conversation.
    Operation::request(
        "conversation:get",
        |a| Ok(GetConversation { conversation_id: a.id("conversationId")? }.into()),
        conversation,
    ),
    // `{conversationId, title?, avatarUrl?, description?}` → the conversation.
    Operation::request("conversation:update", update, conversation),
    // `{conversationId, userIds}` → the conversation.
    Operation::request(
        "conversation:addMembers",
        |a| Ok(AddMembers { conversation_id: a.id("conversationId")?, user_ids: a.str_list("userIds")? }.into()),
        conversation,
    ),
    // `{conversationId, userId}` → the conversation.
    Operation::request(
        "conversation:removeMember",
        |a| Ok(RemoveMember { conversation_id: a.id("conversationId")?, user_id: a.str("userId")? }.into()),
        conversation,
    ),
    // `{conversationId, userId, role: member | admin | owner}` → the conversation.
    Operation::request("conversation:setRole", set_role, conversation),
    // Leave a group: `{conversationId}` → `{}`.
    Operation::request(
        "conversation:exit",
        |a| Ok(LeaveConversation { conversation_id: a.id("conversationId")? }.into()),
        done,
    ),
    // Hide for the caller until the next message: `{conversationId}` → `{}`.
    Operation::request(
        "conversation:hide",
        |a| Ok(HideConversation { conversation_id: a.id("conversationId")? }.into()),
        done,
    ),
    // `{conversationId, archived?}` → `{}`.
    Operation::request(
        "conversation:archive",
        |a| {
            let archived = a.bool_or("archived", true)?;
            Ok(ArchiveConversation { conversation_id: a.id("conversationId")?, archived }.into())
        },
        done,
    ),
    // `{conversationId, mutedUntil?}` → `{}` (0 unmutes).
    Operation::request(
        "conversation:mute",
        |a| {
            let muted_until_ms = a.opt_u64("mutedUntil")?.unwrap_or(0);
            Ok(MuteConversation { conversation_id: a.id("conversationId")?, muted_until_ms }.into())
        },
        done,
    ),
    // Join a conversation's room (membership checked with quipd): `{conversationId}` → the conversation,
    // or `{conversationIds}` → `{conversations}`.
    Operation::handler("conversation:join", |i| Box::pin(join(i))).on_sockets(),
    // Leave the room only (see `conversation:exit`): `{conversationId}` → `{}`.
    Operation::handler("conversation:leave", |i| Box::pin(leave(i))).on_sockets(),
    // Block the other member of a direct conversation, or unblock them: `{conversationId}` → `{blocked}`.
    Operation::handler("conversation:toggleBlock", |i| Box::pin(toggle_block(i))),
];

fn list_request(a: &Args) -> Result<ClientBody, ApiError> {
    Ok(ListConversations {
        cursor: a.opt_str("cursor")?.filter(|c| !c.is_empty()),
        limit: page_limit(a)?,
        include_archived: a.bool_or("includeArchived", false)?,
    }
    .into())
}

fn open_direct(a: &Args) -> Result<ClientBody, ApiError> {
    Ok(OpenDirect { peer_user_id: a.str("peerUserId")?, context: context(a)? }.into())
}

fn create_group(a: &Args) -> Result<ClientBody, ApiError> {
    Ok(CreateGroup {
        title: a.str("title")?,
        member_ids: a.str_list("memberIds")?,
        avatar_url: a.opt_str("avatarUrl")?.unwrap_or_default(),
        description: a.opt_str("description")?.unwrap_or_default(),
    }
    .into())
}

fn update(a: &Args) -> Result<ClientBody, ApiError> {
    Ok(UpdateConversation {
        conversation_id: a.id("conversationId")?,
        title: a.opt_str("title")?,
        avatar_url: a.opt_str("avatarUrl")?,
        description: a.opt_str("description")?,
    }
    .into())
}

fn set_role(a: &Args) -> Result<ClientBody, ApiError> {
    let role = match a.str("role")?.as_str() {
        "member" => MemberRole::Member,
        "admin" => MemberRole::Admin,
        "owner" => MemberRole::Owner,
        other => return Err(unknown("role", other, "member, admin, owner")),
    };
    Ok(SetMemberRole { conversation_id: a.id("conversationId")?, user_id: a.str("userId")?, role }.into())
}

fn context(a: &Args) -> Result<Option<ConversationContext>, ApiError> {
    let Some(c) = a.object("context")? else { return Ok(None) };
    Ok(Some(ConversationContext {
        kind: c.str("kind")?,
        id: c.str("id")?,
        title: c.opt_str("title")?.unwrap_or_default(),
    }))
}

/// The conversation of a `ConversationInfo` reply.
fn conversation(reply: ServerBody) -> Value {
    match reply {
        ServerBody::ConversationInfo(ConversationInfo { conversation, .. }) => json::conversation(&conversation),
        other => done(other),
    }
}

/// `{conversation, created}` of a `ConversationInfo` reply.
fn created(reply: ServerBody) -> Value {
    match reply {
        ServerBody::ConversationInfo(ConversationInfo { conversation, created }) => {
            json!({ "conversation": json::conversation(&conversation), "created": created })
        }
        other => done(other),
    }
}

fn page(reply: ServerBody) -> Value {
    match reply {
        ServerBody::ConversationPage(ConversationPage { conversations, next_cursor }) => json!({
            "conversations": conversations.iter().map(json::conversation).collect::<Vec<_>>(),
            "nextCursor": next_cursor,
        }),
        other => done(other),
    }
}

/// One conversation, as quipd gives it to the caller.
pub(crate) async fn get(client: &Client, conversation_id: u64) -> Result<Conversation, ApiError> {
    match client.request(ClientBody::from(GetConversation { conversation_id })).await? {
        ServerBody::ConversationInfo(ConversationInfo { conversation, .. }) => Ok(conversation),
        other => Err(unexpected(&other)),
    }
}

async fn list(input: &Input<'_>) -> Outcome {
    if input.args.get("offset").is_some() {
        return list_by_offset(input.client, &input.args).await;
    }
    request(input, list_request, page).await
}

/// `conversation:list {offset, limit}`: the conversations after the `offset` most recent ones.
async fn list_by_offset(client: &Client, a: &Args) -> Outcome {
    let (offset, limit) = offset_and_limit(a)?;
    let include_archived = a.bool_or("includeArchived", false)?;
    let mut collected: Vec<Conversation> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut more = true;
    while more && collected.len() < offset + limit + 1 {
        let want = (offset + limit + 1 - collected.len()).min(super::page::MAX_PAGE as usize) as u32;
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

/// Joins one conversation (`conversationId`) or several (`conversationIds`), each checked with quipd.
async fn join(input: &Input<'_>) -> Outcome {
    let a = &input.args;
    let many = a.get("conversationIds").is_some();
    let ids = if many { a.u64_list("conversationIds")? } else { vec![a.id("conversationId")?] };
    let mut conversations = Vec::new();
    for id in ids {
        conversations.push(json::conversation(&get(input.client, id).await?));
        if let Some(connection) = input.connection {
            connection.join(id);
        }
    }
    if many {
        Ok(json!({ "conversations": conversations }))
    } else {
        Ok(conversations.pop().unwrap_or_else(|| json!({})))
    }
}

async fn leave(input: &Input<'_>) -> Outcome {
    let conversation_id = input.args.id("conversationId")?;
    if let Some(connection) = input.connection {
        connection.leave(conversation_id);
    }
    Ok(json!({}))
}

/// `conversation:toggleBlock {conversationId}` → `{blocked}`: blocks the other member of a direct
/// conversation, or unblocks them when the caller already blocked them.
async fn toggle_block(input: &Input<'_>) -> Outcome {
    let client = input.client;
    let conv = get(client, input.args.id("conversationId")?).await?;
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
