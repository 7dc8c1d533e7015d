//! Server → client: quipd's events (the SDK's [`Event`]s) as the canonical Socket.IO events of
//! docs/BRIDGE.md — the one place they are rendered as JSON — and the list of their names, which the
//! dialects' outbound rules are checked against.

use quip_protocol::ServerBody;
use quip_protocol::family::calls::CallEventKind;
use quip_protocol::family::messages::Message;
use quip_protocol::family::presence::TypingEvent;
use quip_sdk::{Client, DisconnectReason, Event};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::{self, name_of};

/// Every canonical server event, in documentation order: what [`render`] gives, `session:ended` and
/// `error` (a request without an ack callback failed).
pub const EVENTS: &[&str] = &[
    "session",
    "message:new",
    "message:edited",
    "message:deleted",
    "message:reaction",
    "message:receipt",
    "unread:updated",
    "conversation:updated",
    "typing:start",
    "typing:stop",
    "presence:update",
    "notification:new",
    "notification:read",
    "call:incoming",
    "call:accepted",
    "call:answeredElsewhere",
    "call:rejected",
    "call:ended",
    "call:missed",
    "call:ice",
    "profile:updated",
    "announcement",
    "sync:done",
    "session:reconnecting",
    "session:ended",
    "error",
];

/// Whether `name` is a canonical server event.
pub fn is_event(name: &str) -> bool {
    EVENTS.contains(&name)
}

/// `session:ended {reason}`: the session ended for good (the socket is then disconnected).
pub fn session_ended(reason: &DisconnectReason) -> Value {
    json!({ "reason": reason_text(reason) })
}

/// The canonical server events for one SDK event (see docs/BRIDGE.md).
pub fn render(client: &Client, event: Event) -> Vec<(&'static str, Value)> {
    let one = |name, payload| vec![(name, payload)];
    match event {
        Event::Connected { resumed } => {
            let welcome = client.welcome().unwrap_or_default();
            one(
                "session",
                json!({
                    "user": json::user_profile(&welcome.user),
                    "globalCursor": welcome.global_cursor,
                    "resumed": resumed,
                    "sessionId": welcome.session_id,
                    "tokenExpiresAt": welcome.token_expires_at_ms,
                }),
            )
        }
        Event::Message { message, replay } => one("message:new", message_event(&message, replay)),
        Event::Conversation(e) => one(
            "conversation:updated",
            json!({
                "change": name_of(e.change),
                "conversation": json::conversation(&e.conversation),
                "actorId": e.actor_id,
                "userIds": e.user_ids,
                "at": e.at_ms,
            }),
        ),
        Event::Receipt(e) => one(
            "message:receipt",
            json!({
                "conversationId": e.conversation_id,
                "userId": e.user_id,
                "kind": name_of(e.kind),
                "upToSeq": e.up_to_seq,
                "fromSeq": e.from_seq,
                "at": e.at_ms,
            }),
        ),
        Event::Unread(e) => {
            one("unread:updated", json!({ "conversationId": e.conversation_id, "unread": e.unread, "total": e.total }))
        }
        Event::SyncDone(d) => one("sync:done", json!({ "globalCursor": d.global_cursor, "replayed": d.replayed })),
        Event::Disconnected { reason, .. } => one("session:reconnecting", json!({ "reason": reason_text(&reason) })),
        Event::Other(body) => other(body).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `message:new`: the message with a `replay` flag (true for what was missed while away).
pub fn message_event(message: &Message, replay: bool) -> Value {
    let mut v = json::message(message);
    v["replay"] = json!(replay);
    v
}

fn typing(e: &TypingEvent) -> (&'static str, Value) {
    let name = if e.active { "typing:start" } else { "typing:stop" };
    let v = json!({
        "conversationId": e.conversation_id,
        "userId": e.user_id,
        "displayName": e.display_name,
        "expiresInMs": e.expires_in_ms,
    });
    (name, v)
}

fn other(body: ServerBody) -> Option<(&'static str, Value)> {
    Some(match body {
        ServerBody::MessageEditedEvent(e) => (
            "message:edited",
            json!({
                "conversationId": e.conversation_id,
                "messageId": e.message_id,
                "seq": e.seq,
                "text": e.text,
                "editedAt": e.edited_at_ms,
            }),
        ),
        ServerBody::MessageDeletedEvent(e) => (
            "message:deleted",
            json!({
                "conversationId": e.conversation_id,
                "messageId": e.message_id,
                "seq": e.seq,
                "scope": if name_of(e.scope) == "forEveryone" { "everyone" } else { "me" },
                "deletedBy": e.deleted_by,
                "at": e.at_ms,
            }),
        ),
        ServerBody::ReactionEvent(e) => (
            "message:reaction",
            json!({
                "conversationId": e.conversation_id,
                "messageId": e.message_id,
                "userId": e.user_id,
                "emoji": e.emoji,
                "removed": e.removed,
                "reactions": json::reactions(&e.reactions),
            }),
        ),
        ServerBody::TypingEvent(e) => typing(&e),
        ServerBody::PresenceEvent(e) => ("presence:update", json::presence(&e.presence)),
        ServerBody::NotificationEvent(e) => (
            "notification:new",
            json!({ "notification": json::notification(&e.notification), "unreadTotal": e.unread_total }),
        ),
        ServerBody::NotificationsReadEvent(e) => {
            ("notification:read", json!({ "ids": e.ids, "all": e.all, "unreadTotal": e.unread_total }))
        }
        ServerBody::CallEvent(e) => {
            let name = match e.kind {
                CallEventKind::Incoming => "call:incoming",
                CallEventKind::Accepted => "call:accepted",
                CallEventKind::AnsweredElsewhere => "call:answeredElsewhere",
                CallEventKind::Rejected => "call:rejected",
                CallEventKind::Ended => "call:ended",
                CallEventKind::Missed => "call:missed",
                _ => "call:updated",
            };
            let payload = json!({
                "call": json::call(&e.call),
                "fromUserId": e.from_user_id,
                "sdp": e.sdp,
                "reason": e.reason,
                "at": e.at_ms,
            });
            (name, payload)
        }
        ServerBody::CallIceEvent(e) => ("call:ice", json::call_ice(&e)),
        ServerBody::ProfileEvent(e) => ("profile:updated", json::user_profile(&e.user)),
        ServerBody::Announcement(a) => {
            ("announcement", json!({ "text": a.text, "conversationId": a.conversation_id, "at": a.at_ms }))
        }
        ServerBody::ErrorReply(e) => {
            let error = ApiError::from(quip_sdk::Error::from(e));
            ("error", error.to_json())
        }
        other => {
            tracing::trace!(body = other.name(), "event without a canonical form");
            return None;
        }
    })
}

fn reason_text(reason: &DisconnectReason) -> String {
    match reason {
        DisconnectReason::Goodbye(g) => format!("{}: {}", name_of(g.reason), g.message),
        DisconnectReason::ConnectionLost(why) => format!("connection lost: {why}"),
        DisconnectReason::Failed(e) => e.to_string(),
        DisconnectReason::Closed => "closed".to_owned(),
        other => format!("{other:?}"),
    }
}
