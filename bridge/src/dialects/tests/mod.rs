//! The shipped dialects, one file each, with the seeds' example payloads.

mod jivbook;
mod kaajkaam;
mod kcs;
mod marketplace;
mod ulearn;

use serde_json::{Value, json};

use quip_dialect::{Ctx, Dialect, Inbound, Outbound};

use super::builtin;

/// A shipped dialect (panics in tests only).
pub(super) fn load(name: &str) -> Dialect {
    builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The context of a recipient at a fixed time: 2025-01-06T12:00:00.000Z.
pub(super) fn ctx(user: &str) -> Ctx {
    Ctx { user_id: Some(user.to_owned()), now_ms: NOW }
}

pub(super) const NOW: u64 = 1_736_164_800_000;
pub(super) const NOW_ISO: &str = "2025-01-06T12:00:00.000Z";

pub(super) fn inbound(d: &Dialect, event: &str, payload: Value) -> Inbound {
    d.inbound(event, payload.clone()).unwrap_or_else(|e| panic!("{}: {event} {payload}: {e}", d.name()))
}

/// The only event a canonical event maps to.
pub(super) fn one(d: &Dialect, user: &str, event: &str, payload: &Value) -> Outbound {
    let mut out = d.outbound_with(&ctx(user), event, payload);
    assert_eq!(out.len(), 1, "{}: {event} gave {out:?}", d.name());
    out.remove(0)
}

/// A canonical message as the core emits it (`crate::json::message`, plus `replay`).
pub(super) fn message(id: u64, conversation: u64, sender: &str, text: &str) -> Value {
    json!({
        "id": id, "conversationId": conversation, "seq": 7,
        "sender": {"id": sender, "displayName": "John Doe", "avatarUrl": "/uploads/profiles/john.jpg"},
        "kind": "text", "text": text, "attachments": [], "replyTo": null, "clientMsgId": "c-1",
        "createdAt": NOW, "editedAt": 0, "deleted": false, "reactions": [], "call": null,
        "system": "unspecified", "metadata": {}, "replay": false
    })
}

/// A canonical conversation (`crate::json::conversation`) between `a` and `b`.
pub(super) fn conversation(id: u64, a: &str, b: &str, context: Value) -> Value {
    let member = |u: &str| json!({"user": {"id": u, "displayName": format!("{u} Name"), "avatarUrl": ""}, "role": "member", "joinedAt": NOW});
    json!({
        "id": id, "kind": "direct", "title": "", "avatarUrl": "", "description": "", "context": context,
        "members": [member(a), member(b)], "createdBy": a, "createdAt": NOW, "lastActivityAt": NOW,
        "lastSeq": 1, "lastMessage": message(5, id, a, "Hello!"), "unread": 3, "readUpToSeq": 0,
        "deliveredUpToSeq": 0, "mutedUntil": 0, "archived": false, "blockedByMe": false, "blockedMe": false
    })
}

#[test]
fn every_shipped_dialect_loads_and_names_only_canonical_vocabulary() {
    for (name, _) in super::BUILTIN {
        let d = load(name);
        assert_eq!(d.name(), *name);
        for event in d.outbound_events() {
            assert!(crate::events::is_event(event), "{name}: {event}");
        }
        for route in d.rest_routes() {
            assert!(crate::ops::is_operation(route.canonical), "{name}: {}", route.pattern);
        }
    }
    assert!(builtin("nope").is_err());
}
