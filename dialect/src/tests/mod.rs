//! The mapping engine on small hand-written dialects (the shipped ones are tested in the bridge, which
//! owns them and the canonical vocabulary).

mod engine;

use serde_json::{Value, json};

use super::{Ctx, Dialect, Inbound, Outbound, Vocabulary};

/// The few canonical names the hand-written dialects use.
struct Fixture;

const OPERATIONS: &[&str] =
    &["message:send", "message:history", "conversation:join", "notification:read", "typing:start", "noop"];
const EVENTS: &[&str] = &["message:new", "notification:read"];

impl Vocabulary for Fixture {
    fn is_operation(&self, name: &str) -> bool {
        OPERATIONS.contains(&name)
    }

    fn is_event(&self, name: &str) -> bool {
        EVENTS.contains(&name)
    }
}

/// A hand-written dialect (panics in tests only).
pub(super) fn dialect(text: &str) -> Dialect {
    Dialect::from_toml(text, &Fixture).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads `text`, or says why not.
pub(super) fn try_dialect(text: &str) -> Result<Dialect, super::DialectError> {
    Dialect::from_toml(text, &Fixture)
}

/// The identity dialect, as the bridge ships it.
pub(super) fn identity() -> Dialect {
    dialect("name = \"canonical\"\nidentity = true")
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

/// A canonical message as the bridge emits it (plus `replay`).
pub(super) fn message(id: u64, conversation: u64, sender: &str, text: &str) -> Value {
    json!({
        "id": id, "conversationId": conversation, "seq": 7,
        "sender": {"id": sender, "displayName": "John Doe", "avatarUrl": "/uploads/profiles/john.jpg"},
        "kind": "text", "text": text, "attachments": [], "replyTo": null, "clientMsgId": "c-1",
        "createdAt": NOW, "editedAt": 0, "deleted": false, "reactions": [], "call": null,
        "system": "unspecified", "metadata": {}, "replay": false
    })
}
