//! The canonical operations: one name per thing the broker offers (the Socket.IO event names of
//! docs/BRIDGE.md), each turning JSON [`Args`] into a quip request and its reply into JSON. Socket.IO
//! handlers and REST routes both go through [`run`], so the two APIs cannot drift apart.

use quip_protocol::family::calls::{CallAccept, CallEnd, CallIce, CallInvite, CallReject};
use quip_protocol::family::conversations::{
    AddMembers, ArchiveConversation, BlockUser, ConversationContext, ConversationInfo, ConversationPage, CreateGroup,
    GetConversation, HideConversation, LeaveConversation, ListBlocked, ListConversations, MemberRole, MuteConversation,
    OpenDirect, RemoveMember, SetMemberRole, UnblockUser, UpdateConversation,
};
use quip_protocol::family::messages::{
    Attachment, AttachmentKind, CallType, DeleteMessage, DeleteScope, Direction, EditMessage, GetHistory, GetMessage,
    Message, MessageKind, React, SendMessage,
};
use quip_protocol::family::notifications::{ListNotifications, MarkAllNotificationsRead, MarkNotificationsRead};
use quip_protocol::family::presence::{
    GetOnlineMembers, GetPresence, PresenceStatus, SetPresence, Typing, WatchPresence,
};
use quip_protocol::family::receipts::{GetUnreadCounts, MarkDelivered, MarkRead};
use quip_protocol::family::session::{GetUsers, UpdateProfile};
use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::Client;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::{self, Args};
use page::page_limit;

pub mod legacy;
mod page;

pub use page::{DEFAULT_PAGE, MAX_PAGE};

/// Every canonical operation name, in documentation order.
pub const OPERATIONS: &[&str] = &[
    "conversation:list",
    "conversation:openDirect",
    "conversation:createGroup",
    "conversation:get",
    "conversation:update",
    "conversation:addMembers",
    "conversation:removeMember",
    "conversation:setRole",
    "conversation:exit",
    "conversation:hide",
    "conversation:archive",
    "conversation:mute",
    "user:get",
    "user:block",
    "user:unblock",
    "user:blocked",
    "profile:update",
    "message:send",
    "message:edit",
    "message:delete",
    "message:react",
    "message:get",
    "message:history",
    "message:delivered",
    "message:read",
    "message:receipts",
    "unread:get",
    "typing:start",
    "typing:stop",
    "presence:set",
    "presence:get",
    "presence:watch",
    "presence:online",
    "notification:list",
    "notification:read",
    "notification:readAll",
    "call:invite",
    "call:accept",
    "call:reject",
    "call:end",
    "call:ice",
    "sync",
    "token:refresh",
    "ping",
];

/// Runs canonical operation `op` for the user of `client`.
pub async fn run(client: &Client, op: &str, args: &Args) -> Result<Value, ApiError> {
    match op {
        "message:send" => send(client, args).await,
        // Extensions for legacy dialects (docs/DIALECTS.md): offset paging, block toggling, nothing.
        "message:history" if args.get("offset").is_some() => legacy::history_by_offset(client, args).await,
        "conversation:list" if args.get("offset").is_some() => legacy::list_by_offset(client, args).await,
        "conversation:toggleBlock" => legacy::toggle_block(client, args).await,
        "noop" => Ok(json!({})),
        "sync" => {
            let done = client.sync().await?;
            Ok(json!({ "globalCursor": done.global_cursor, "replayed": done.replayed }))
        }
        "token:refresh" => {
            let refreshed = client.refresh_token(args.str("token")?).await?;
            Ok(json!({ "expiresAt": refreshed.expires_at_ms }))
        }
        "ping" => {
            let pong = client.ping().await?;
            Ok(json!({ "serverTime": pong.server_time_ms }))
        }
        _ => {
            let request = build(op, args)?;
            let reply = client.request(request).await?;
            Ok(reply_json(op, reply))
        }
    }
}

/// The quip request for a canonical operation (every one except those [`run`] handles itself).
pub fn build(op: &str, a: &Args) -> Result<ClientBody, ApiError> {
    let conv = || a.id("conversationId");
    let msg = || a.id("messageId");
    let call = || a.id("callId");
    Ok(match op {
        "conversation:list" => ListConversations {
            cursor: a.opt_str("cursor")?.filter(|c| !c.is_empty()),
            limit: page_limit(a)?,
            include_archived: a.bool_or("includeArchived", false)?,
        }
        .into(),
        "conversation:openDirect" => OpenDirect { peer_user_id: a.str("peerUserId")?, context: context(a)? }.into(),
        "conversation:createGroup" => CreateGroup {
            title: a.str("title")?,
            member_ids: a.str_list("memberIds")?,
            avatar_url: a.opt_str("avatarUrl")?.unwrap_or_default(),
            description: a.opt_str("description")?.unwrap_or_default(),
        }
        .into(),
        "conversation:get" => GetConversation { conversation_id: conv()? }.into(),
        "conversation:update" => UpdateConversation {
            conversation_id: conv()?,
            title: a.opt_str("title")?,
            avatar_url: a.opt_str("avatarUrl")?,
            description: a.opt_str("description")?,
        }
        .into(),
        "conversation:addMembers" => AddMembers { conversation_id: conv()?, user_ids: a.str_list("userIds")? }.into(),
        "conversation:removeMember" => RemoveMember { conversation_id: conv()?, user_id: a.str("userId")? }.into(),
        "conversation:setRole" => {
            SetMemberRole { conversation_id: conv()?, user_id: a.str("userId")?, role: role(&a.str("role")?)? }.into()
        }
        "conversation:exit" => LeaveConversation { conversation_id: conv()? }.into(),
        "conversation:hide" => HideConversation { conversation_id: conv()? }.into(),
        "conversation:archive" => {
            ArchiveConversation { conversation_id: conv()?, archived: a.bool_or("archived", true)? }.into()
        }
        "conversation:mute" => {
            MuteConversation { conversation_id: conv()?, muted_until_ms: a.opt_u64("mutedUntil")?.unwrap_or(0) }.into()
        }
        "user:get" => GetUsers { user_ids: a.str_list("userIds")? }.into(),
        "user:block" => BlockUser { user_id: a.str("userId")? }.into(),
        "user:unblock" => UnblockUser { user_id: a.str("userId")? }.into(),
        "user:blocked" => ListBlocked.into(),
        "profile:update" => UpdateProfile {
            display_name: a.opt_str("displayName")?,
            avatar_url: a.opt_str("avatarUrl")?,
            fields: a.key_values("fields")?,
        }
        .into(),
        "message:edit" => EditMessage { message_id: msg()?, text: a.str("text")? }.into(),
        "message:delete" => DeleteMessage { message_id: msg()?, scope: scope(a)? }.into(),
        "message:react" => {
            React { message_id: msg()?, emoji: a.str("emoji")?, remove: a.bool_or("remove", false)? }.into()
        }
        "message:get" => GetMessage { message_id: msg()? }.into(),
        "message:history" => history(a)?.into(),
        "message:delivered" => MarkDelivered { conversation_id: conv()?, up_to_seq: a.u64("upToSeq")? }.into(),
        "message:read" => {
            let message_ids = a.u64_list("messageIds")?;
            let everything = if message_ids.is_empty() { u64::MAX } else { 0 };
            MarkRead { conversation_id: conv()?, up_to_seq: a.opt_u64("upToSeq")?.unwrap_or(everything), message_ids }
                .into()
        }
        "message:receipts" => quip_protocol::family::receipts::GetReceipts { message_id: msg()? }.into(),
        "unread:get" => GetUnreadCounts { conversation_ids: a.u64_list("conversationIds")? }.into(),
        "typing:start" => Typing { conversation_id: conv()?, active: true }.into(),
        "typing:stop" => Typing { conversation_id: conv()?, active: false }.into(),
        "presence:set" => SetPresence { status: status(&a.str("status")?)? }.into(),
        "presence:get" => GetPresence { user_ids: a.str_list("userIds")? }.into(),
        "presence:watch" => {
            WatchPresence { user_ids: a.str_list("userIds")?, unwatch: a.bool_or("unwatch", false)? }.into()
        }
        "presence:online" => GetOnlineMembers { conversation_id: conv()? }.into(),
        "notification:list" => ListNotifications {
            before_id: a.opt_u64("beforeId")?.unwrap_or(0),
            limit: page_limit(a)?,
            unread_only: a.bool_or("unreadOnly", false)?,
        }
        .into(),
        "notification:read" => MarkNotificationsRead { ids: a.u64_list("ids")? }.into(),
        "notification:readAll" => MarkAllNotificationsRead.into(),
        "call:invite" => CallInvite {
            conversation_id: conv()?,
            call_type: call_type(a.opt_str("callType")?.as_deref().unwrap_or("audio"))?,
            sdp_offer: a.str("sdpOffer")?,
        }
        .into(),
        "call:accept" => CallAccept { call_id: call()?, sdp_answer: a.str("sdpAnswer")? }.into(),
        "call:reject" => CallReject { call_id: call()?, reason: a.opt_str("reason")?.unwrap_or_default() }.into(),
        "call:end" => CallEnd { call_id: call()?, reason: a.opt_str("reason")?.unwrap_or_default() }.into(),
        "call:ice" => CallIce {
            call_id: call()?,
            candidate: a.str("candidate")?,
            sdp_mid: a.opt_str("sdpMid")?,
            sdp_mline_index: u16::try_from(a.opt_u64("sdpMLineIndex")?.unwrap_or(0))
                .map_err(|_| ApiError::invalid("`sdpMLineIndex` is out of range"))?,
        }
        .into(),
        other => return Err(ApiError::invalid(format!("unknown operation `{other}`"))),
    })
}

/// A reply as the JSON `data` of an ack or a REST response.
fn reply_json(op: &str, reply: ServerBody) -> Value {
    match reply {
        ServerBody::Done(_) => json!({}),
        ServerBody::ConversationInfo(ConversationInfo { conversation, created }) => {
            let mut v = json::conversation(&conversation);
            if op == "conversation:openDirect" || op == "conversation:createGroup" {
                v = json!({ "conversation": v, "created": created });
            }
            v
        }
        ServerBody::ConversationPage(ConversationPage { conversations, next_cursor }) => json!({
            "conversations": conversations.iter().map(json::conversation).collect::<Vec<_>>(),
            "nextCursor": next_cursor,
        }),
        ServerBody::Users(u) => json!(u.users.iter().map(json::user_profile).collect::<Vec<_>>()),
        ServerBody::BlockedUsers(b) => json!(b.users.iter().map(json::user_ref).collect::<Vec<_>>()),
        ServerBody::MessageInfo(info) => json::message(&info.message),
        ServerBody::HistoryPage(p) => json!({
            "conversationId": p.conversation_id,
            "messages": p.messages.iter().map(json::message).collect::<Vec<_>>(),
            "nextCursor": if p.has_more { Some(p.next_anchor_seq) } else { None },
            "hasMore": p.has_more,
        }),
        ServerBody::UnreadCounts(u) => json!({
            "total": u.total,
            "conversations": u.conversations.iter()
                .map(|c| json!({ "conversationId": c.conversation_id, "unread": c.unread }))
                .collect::<Vec<_>>(),
        }),
        ServerBody::MessageReceipts(r) => json!({
            "conversationId": r.conversation_id,
            "messageId": r.message_id,
            "seq": r.seq,
            "recipients": r.recipients,
            "delivered": r.delivered,
            "read": r.read,
            "members": r.members.iter()
                .map(|m| json!({ "userId": m.user_id, "deliveredAt": m.delivered_at_ms, "readAt": m.read_at_ms }))
                .collect::<Vec<_>>(),
        }),
        ServerBody::PresenceList(p) => json!(p.presences.iter().map(json::presence).collect::<Vec<_>>()),
        ServerBody::NotificationPage(p) => json!({
            "notifications": p.notifications.iter().map(json::notification).collect::<Vec<_>>(),
            "nextCursor": if p.next_before_id == 0 { None } else { Some(p.next_before_id) },
            "unreadTotal": p.unread_total,
        }),
        ServerBody::CallInfo(c) => json::call(&c.call),
        other => json!({ "reply": other.name() }),
    }
}

/// `message:send`: the ack becomes the stored message (what every member receives as `message:new`).
async fn send(client: &Client, a: &Args) -> Result<Value, ApiError> {
    let mut attachments = Vec::new();
    for att in a.objects("attachments")? {
        attachments.push(Attachment {
            kind: attachment_kind(att.opt_str("kind")?.as_deref().unwrap_or("file"))?,
            // A stored upload is kept by its stable path; readers get it signed afresh.
            url: crate::media::sign::stable(&att.str("url")?),
            mime: att.opt_str("mime")?.unwrap_or_default(),
            name: att.opt_str("name")?.unwrap_or_default(),
            size: att.opt_u64("size")?.unwrap_or(0),
            width: att.u32_or("width", 0)?,
            height: att.u32_or("height", 0)?,
            duration_ms: att.u32_or("durationMs", 0)?,
            thumbnail_url: crate::media::sign::stable(&att.opt_str("thumbnailUrl")?.unwrap_or_default()),
        });
    }
    let text = a.opt_str("text")?.unwrap_or_default();
    if text.is_empty() && attachments.is_empty() {
        return Err(ApiError::invalid("a message needs `text` or `attachments`"));
    }
    let kind = match a.opt_str("kind")? {
        Some(k) => message_kind(&k)?,
        None if text.is_empty() => attachments.first().map_or(MessageKind::Text, |att| kind_for(att.kind)),
        None => MessageKind::Text,
    };
    let request = SendMessage {
        conversation_id: a.id("conversationId")?,
        client_msg_id: a.opt_str("clientMsgId")?.unwrap_or_default(),
        kind,
        text,
        attachments,
        reply_to: a.opt_u64("replyTo")?.unwrap_or(0),
        metadata: a.key_values("metadata")?,
    };
    let mut request = request;
    if request.client_msg_id.is_empty() {
        request.client_msg_id = client.new_client_msg_id();
    }
    let ack = client.send(request.clone()).await?;
    let sender = client.welcome().map(|w| w.user.to_ref()).unwrap_or_default();
    let stored = Message {
        id: ack.message_id,
        conversation_id: ack.conversation_id,
        seq: ack.seq,
        sender,
        kind: request.kind,
        text: request.text,
        attachments: request.attachments,
        client_msg_id: request.client_msg_id,
        created_at_ms: ack.created_at_ms,
        metadata: request.metadata,
        ..Message::default()
    };
    let mut v = json::message(&stored);
    if request.reply_to != 0 {
        v["replyTo"] = json!({ "messageId": request.reply_to });
    }
    v["duplicate"] = json!(ack.duplicate);
    Ok(v)
}

/// `message:history`: `before` a seq (older, the default: the newest page) or `after` one (newer).
fn history(a: &Args) -> Result<GetHistory, ApiError> {
    let (anchor_seq, direction) = match (a.opt_u64("before")?, a.opt_u64("after")?) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give `before` or `after`, not both")),
        (Some(before), None) => (before, Direction::Backward),
        (None, Some(after)) => (after, Direction::Forward),
        (None, None) => {
            let direction = match a.opt_str("direction")?.as_deref().unwrap_or("backward") {
                "backward" => Direction::Backward,
                "forward" => Direction::Forward,
                other => return Err(unknown("direction", other, "backward, forward")),
            };
            (a.opt_u64("cursor")?.unwrap_or(0), direction)
        }
    };
    Ok(GetHistory { conversation_id: a.id("conversationId")?, anchor_seq, direction, limit: page_limit(a)? })
}

fn context(a: &Args) -> Result<Option<ConversationContext>, ApiError> {
    let Some(c) = a.object("context")? else { return Ok(None) };
    Ok(Some(ConversationContext {
        kind: c.str("kind")?,
        id: c.str("id")?,
        title: c.opt_str("title")?.unwrap_or_default(),
    }))
}

fn unknown(field: &str, value: &str, allowed: &str) -> ApiError {
    let mut e = ApiError::invalid(format!("`{field}` must be one of {allowed}, not {value:?}"));
    e.field = Some(field.to_owned());
    e
}

fn scope(a: &Args) -> Result<DeleteScope, ApiError> {
    match a.opt_str("scope")?.as_deref().unwrap_or("me") {
        "me" | "forMe" => Ok(DeleteScope::ForMe),
        "everyone" | "forEveryone" => Ok(DeleteScope::ForEveryone),
        other => Err(unknown("scope", other, "me, everyone")),
    }
}

fn role(s: &str) -> Result<MemberRole, ApiError> {
    match s {
        "member" => Ok(MemberRole::Member),
        "admin" => Ok(MemberRole::Admin),
        "owner" => Ok(MemberRole::Owner),
        other => Err(unknown("role", other, "member, admin, owner")),
    }
}

fn status(s: &str) -> Result<PresenceStatus, ApiError> {
    match s {
        "online" => Ok(PresenceStatus::Online),
        "away" => Ok(PresenceStatus::Away),
        "busy" => Ok(PresenceStatus::Busy),
        "invisible" => Ok(PresenceStatus::Invisible),
        other => Err(unknown("status", other, "online, away, busy, invisible")),
    }
}

fn call_type(s: &str) -> Result<CallType, ApiError> {
    match s {
        "audio" => Ok(CallType::Audio),
        "video" => Ok(CallType::Video),
        other => Err(unknown("callType", other, "audio, video")),
    }
}

fn message_kind(s: &str) -> Result<MessageKind, ApiError> {
    match s {
        "text" => Ok(MessageKind::Text),
        "image" => Ok(MessageKind::Image),
        "video" => Ok(MessageKind::Video),
        "audio" => Ok(MessageKind::Audio),
        "file" => Ok(MessageKind::File),
        other => Err(unknown("kind", other, "text, image, video, audio, file")),
    }
}

fn attachment_kind(s: &str) -> Result<AttachmentKind, ApiError> {
    match s {
        "file" => Ok(AttachmentKind::File),
        "image" => Ok(AttachmentKind::Image),
        "video" => Ok(AttachmentKind::Video),
        "audio" => Ok(AttachmentKind::Audio),
        "pdf" => Ok(AttachmentKind::Pdf),
        "doc" => Ok(AttachmentKind::Doc),
        other => Err(unknown("attachments[].kind", other, "file, image, video, audio, pdf, doc")),
    }
}

fn kind_for(kind: AttachmentKind) -> MessageKind {
    match kind {
        AttachmentKind::Image => MessageKind::Image,
        AttachmentKind::Video => MessageKind::Video,
        AttachmentKind::Audio => MessageKind::Audio,
        _ => MessageKind::File,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_builds_or_is_handled_by_run() {
        let args = Args::from_value(json!({
            "conversationId": 1, "messageId": 2, "callId": 3, "peerUserId": "bob", "title": "t",
            "userId": "bob", "role": "admin", "text": "hi", "emoji": "👍", "upToSeq": 4, "status": "away",
            "sdpOffer": "o", "sdpAnswer": "a", "candidate": "c", "token": "t",
        }))
        .unwrap();
        for op in OPERATIONS {
            if matches!(*op, "message:send" | "sync" | "token:refresh" | "ping") {
                continue;
            }
            assert!(build(op, &args).is_ok(), "{op}");
        }
        assert!(build("nope", &args).is_err());
    }

    #[test]
    fn history_directions_and_bad_enums() {
        let h = history(&Args::from_value(json!({"conversationId": 1, "after": 5, "limit": 1000})).unwrap()).unwrap();
        assert_eq!((h.anchor_seq, h.direction, h.limit), (5, Direction::Forward, MAX_PAGE));
        let h = history(&Args::from_value(json!({"conversationId": 1})).unwrap()).unwrap();
        assert_eq!((h.anchor_seq, h.direction, h.limit), (0, Direction::Backward, DEFAULT_PAGE));
        let bad = Args::from_value(json!({"messageId": 1, "scope": "all"})).unwrap();
        assert_eq!(build("message:delete", &bad).unwrap_err().field.as_deref(), Some("scope"));
    }
}
