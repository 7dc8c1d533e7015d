//! The canonical JSON forms of quip's types (camelCase, ids as numbers, times in ms since the epoch), and
//! [`Args`], the reader of JSON arguments shared by Socket.IO payloads and REST bodies and queries.

use std::fmt::Debug;

use quip_protocol::family::calls::{Call, CallIceEvent};
use quip_protocol::family::conversations::{Conversation, ConversationContext, Member};
use quip_protocol::family::messages::{Attachment, Message, Reaction, ReplyPreview};
use quip_protocol::family::notifications::Notification;
use quip_protocol::family::presence::Presence;
use quip_protocol::{KeyValue, UserProfile, UserRef};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use quip_dialect::hooks::kind;

/// An enum value's canonical name: its variant in camelCase (`ForEveryone` → `forEveryone`).
pub fn name_of<T: Debug>(value: T) -> String {
    let debug = format!("{value:?}");
    let mut chars = debug.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => debug,
    }
}

pub fn user_ref(u: &UserRef) -> Value {
    json!({ "id": u.id, "displayName": u.display_name, "avatarUrl": u.avatar_url })
}

pub fn key_values(kv: &[KeyValue]) -> Value {
    Value::Object(kv.iter().map(|f| (f.key.clone(), Value::String(f.value.clone()))).collect())
}

pub fn user_profile(u: &UserProfile) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "avatarUrl": u.avatar_url,
        "fields": key_values(&u.fields),
        "updatedAt": u.updated_at_ms,
    })
}

/// An attachment of a message sent by `sender` (stored media is signed only for its uploader).
pub fn attachment(a: &Attachment, sender: &str) -> Value {
    json!({
        "kind": name_of(a.kind),
        "url": crate::media::signed_url(&a.url, sender),
        "mime": a.mime,
        "name": a.name,
        "size": a.size,
        "width": a.width,
        "height": a.height,
        "durationMs": a.duration_ms,
        "thumbnailUrl": crate::media::signed_url(&a.thumbnail_url, sender),
    })
}

fn reply_preview(r: &ReplyPreview) -> Value {
    json!({
        "messageId": r.message_id,
        "seq": r.seq,
        "senderId": r.sender_id,
        "kind": name_of(r.kind),
        "text": r.text,
        "deleted": r.deleted,
    })
}

pub fn reactions(rs: &[Reaction]) -> Value {
    rs.iter().map(|r| json!({ "emoji": r.emoji, "count": r.count, "userIds": r.user_ids })).collect()
}

pub fn message(m: &Message) -> Value {
    let call = m.call.as_ref().map(|c| {
        json!({
            "callId": c.call_id,
            "callType": name_of(c.call_type),
            "outcome": name_of(c.outcome),
            "callerId": c.caller_id,
            "startedAt": c.started_at_ms,
            "answeredAt": c.answered_at_ms,
            "endedAt": c.ended_at_ms,
            "durationMs": c.duration_ms,
        })
    });
    json!({
        "id": m.id,
        "conversationId": m.conversation_id,
        "seq": m.seq,
        "sender": user_ref(&m.sender),
        "kind": name_of(m.kind),
        "text": m.text,
        "attachments": m.attachments.iter().map(|a| attachment(a, &m.sender.id)).collect::<Vec<_>>(),
        "replyTo": m.reply_to.as_ref().map(reply_preview),
        "clientMsgId": m.client_msg_id,
        "createdAt": m.created_at_ms,
        "editedAt": m.edited_at_ms,
        "deleted": m.deleted,
        "reactions": reactions(&m.reactions),
        "call": call,
        "system": name_of(m.system),
        "metadata": key_values(&m.metadata),
    })
}

fn member(m: &Member) -> Value {
    json!({ "user": user_ref(&m.user), "role": name_of(m.role), "joinedAt": m.joined_at_ms })
}

pub fn context(c: &ConversationContext) -> Value {
    json!({ "kind": c.kind, "id": c.id, "title": c.title })
}

pub fn conversation(c: &Conversation) -> Value {
    json!({
        "id": c.id,
        "kind": name_of(c.kind),
        "title": c.title,
        "avatarUrl": c.avatar_url,
        "description": c.description,
        "context": c.context.as_ref().map(context),
        "members": c.members.iter().map(member).collect::<Vec<_>>(),
        "createdBy": c.created_by,
        "createdAt": c.created_at_ms,
        "lastActivityAt": c.last_activity_ms,
        "lastSeq": c.last_seq,
        "lastMessage": c.last_message.as_deref().map(message),
        "unread": c.unread,
        "readUpToSeq": c.read_up_to_seq,
        "deliveredUpToSeq": c.delivered_up_to_seq,
        "mutedUntil": c.muted_until_ms,
        "archived": c.archived,
        "blockedByMe": c.blocked_by_me,
        "blockedMe": c.blocked_me,
    })
}

pub fn presence(p: &Presence) -> Value {
    json!({
        "userId": p.user_id,
        "status": name_of(p.status),
        "lastSeen": p.last_seen_ms,
        "devices": p.devices,
        "displayName": p.display_name,
        "fields": key_values(&p.fields),
    })
}

pub fn notification(n: &Notification) -> Value {
    json!({
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "data": key_values(&n.data),
        "createdAt": n.created_at_ms,
        "readAt": n.read_at_ms,
    })
}

pub fn call(c: &Call) -> Value {
    json!({
        "id": c.id,
        "conversationId": c.conversation_id,
        "callType": name_of(c.call_type),
        "callerId": c.caller_id,
        "state": name_of(c.state),
        "startedAt": c.started_at_ms,
        "answeredAt": c.answered_at_ms,
        "answeredByDevice": c.answered_by_device,
    })
}

pub fn call_ice(e: &CallIceEvent) -> Value {
    json!({
        "callId": e.call_id,
        "fromUserId": e.from_user_id,
        "candidate": e.candidate,
        "sdpMid": e.sdp_mid,
        "sdpMLineIndex": e.sdp_mline_index,
    })
}

/// JSON arguments of one canonical operation: a Socket.IO payload, or a REST body merged with the path
/// and query parameters. Numbers may come as JSON numbers or numeric strings.
#[derive(Debug, Clone, Default)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Arguments from a payload: an object as is; `null` or nothing as no arguments; anything else is
    /// refused.
    pub fn from_value(value: Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            Value::Null => Ok(Self::default()),
            other => Err(ApiError::invalid(format!("the payload must be a JSON object, not {}", kind(&other)))),
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_owned(), value.into());
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn bad(key: &str, what: &str) -> ApiError {
        let mut e = ApiError::invalid(format!("`{key}` must be {what}"));
        e.field = Some(key.to_owned());
        e
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| Self::bad(key, "a non-negative integer")),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| Self::bad(key, "a non-negative integer")),
            Some(_) => Err(Self::bad(key, "a non-negative integer")),
        }
    }

    pub fn u64(&self, key: &str) -> Result<u64, ApiError> {
        self.opt_u64(key)?.ok_or_else(|| Self::bad(key, "given"))
    }

    /// A required id (a positive integer).
    pub fn id(&self, key: &str) -> Result<u64, ApiError> {
        match self.u64(key)? {
            0 => Err(Self::bad(key, "a positive id")),
            id => Ok(id),
        }
    }

    pub fn u32_or(&self, key: &str, default: u32) -> Result<u32, ApiError> {
        match self.opt_u64(key)? {
            None => Ok(default),
            Some(n) => u32::try_from(n).map_err(|_| Self::bad(key, "at most 4294967295")),
        }
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Self::bad(key, "a string")),
        }
    }

    pub fn str(&self, key: &str) -> Result<String, ApiError> {
        self.opt_str(key)?.filter(|s| !s.is_empty()).ok_or_else(|| Self::bad(key, "a non-empty string"))
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "1" => Ok(true),
            Some(Value::String(s)) if s == "false" || s == "0" => Ok(false),
            Some(_) => Err(Self::bad(key, "true or false")),
        }
    }

    /// A list of strings: a JSON array, or a comma-separated string (query parameters).
    pub fn str_list(&self, key: &str) -> Result<Vec<String>, ApiError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => {
                Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Into::into).collect())
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| Self::bad(key, "a list of strings")))
                .collect(),
            Some(_) => Err(Self::bad(key, "a list of strings")),
        }
    }

    /// A list of ids: a JSON array (numbers or numeric strings), or a comma-separated string.
    pub fn u64_list(&self, key: &str) -> Result<Vec<u64>, ApiError> {
        let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| Self::bad(key, "a list of ids"));
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => s.split(',').filter(|s| !s.trim().is_empty()).map(parse).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_u64().ok_or_else(|| Self::bad(key, "a list of ids")),
                    Value::String(s) => parse(s),
                    _ => Err(Self::bad(key, "a list of ids")),
                })
                .collect(),
            Some(_) => Err(Self::bad(key, "a list of ids")),
        }
    }

    /// An object of string values (metadata, fields) as key/value pairs.
    pub fn key_values(&self, key: &str) -> Result<Vec<KeyValue>, ApiError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok(KeyValue::new(k.clone(), s.clone())),
                    other => Ok(KeyValue::new(k.clone(), other.to_string())),
                })
                .collect(),
            Some(_) => Err(Self::bad(key, "an object")),
        }
    }

    /// A nested object as arguments.
    pub fn object(&self, key: &str) -> Result<Option<Args>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Args(map.clone()))),
            Some(_) => Err(Self::bad(key, "an object")),
        }
    }

    /// A list of objects as arguments.
    pub fn objects(&self, key: &str) -> Result<Vec<Args>, ApiError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Object(map) => Ok(Args(map.clone())),
                    _ => Err(Self::bad(key, "a list of objects")),
                })
                .collect(),
            Some(_) => Err(Self::bad(key, "a list of objects")),
        }
    }
}

#[cfg(test)]
mod tests {
    use quip_protocol::family::messages::DeleteScope;

    use super::*;

    #[test]
    fn enum_names_are_camel_case() {
        assert_eq!(name_of(DeleteScope::ForEveryone), "forEveryone");
        assert_eq!(name_of(DeleteScope::ForMe), "forMe");
    }

    #[test]
    fn args_accept_numbers_and_numeric_strings() {
        let args = Args::from_value(json!({"a": 5, "b": "7", "c": -1, "l": "1, 2", "m": [3, "4"], "s": ""})).unwrap();
        assert_eq!(args.u64("a").unwrap(), 5);
        assert_eq!(args.u64("b").unwrap(), 7);
        assert_eq!(args.u64("c").unwrap_err().field.as_deref(), Some("c"));
        assert_eq!(args.u64_list("l").unwrap(), vec![1, 2]);
        assert_eq!(args.u64_list("m").unwrap(), vec![3, 4]);
        assert!(args.str("s").is_err());
        assert!(args.id("missing").is_err());
        assert!(Args::from_value(json!([1])).is_err());
        assert!(Args::from_value(Value::Null).unwrap().opt_u64("x").unwrap().is_none());
    }

    #[test]
    fn messages_serialise_with_camel_case_fields() {
        let m = Message { id: 3, conversation_id: 1, seq: 2, text: "hi".into(), ..Message::default() };
        let v = message(&m);
        assert_eq!(v["conversationId"], 1);
        assert_eq!(v["kind"], "text");
        assert_eq!(v["replyTo"], Value::Null);
    }
}
