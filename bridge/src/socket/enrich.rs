//! What legacy payloads name and canonical events leave out (docs/DIALECTS.md, "Event enrichment"): the
//! message a receipt's `upToSeq` reached (`messageId`) and every message it newly covers (`messageIds`,
//! the newest [`MAX_COVERED`]) and the display name of whoever changed a conversation (`actorName`) —
//! added without making the socket's delivery wait on quipd. (Typing events name the typer themselves:
//! quipd puts the display name in `TypingEvent`.)
//!
//! The socket's [`Memory`] answers nearly always: the messages the socket was given (a receipt names one
//! of the user's own messages, which their sockets get too) and the names already looked up. When it
//! cannot, the event goes to the socket's lookup task, which asks quipd (a few lookups at a time), fills
//! the payload in and emits it, in the order the events came; while that task holds events, the events
//! that may need a lookup queue behind them, so that they keep their order among themselves. Other
//! events do not wait: they may reach the client before an event that waits for its lookup.
//!
//! Only events the socket's dialect translates are enriched: the canonical vocabulary has none of these
//! fields.

use std::sync::Arc;

use futures_util::StreamExt;
use quip_sdk::Client;
use serde_json::{Value, json};
use socketioxide::extract::SocketRef;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::emit::emit_as;
use super::session::{Deferred, Memory, SocketSession};
use crate::ops::{self, Connection};
use quip_dialect::{Ctx, Dialect};

/// Events the lookup task may hold; when it holds that many, the pump waits for room.
const QUEUE: usize = 256;
/// Lookups the task runs at once.
const AT_ONCE: usize = 8;
/// Most messages a receipt's `messageIds` names: the newest it covers.
const MAX_COVERED: u64 = 64;

/// What an event needs looked up before it is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    /// The ids of messages `first..=last` of a conversation (a receipt names `last` and all of them).
    Covered { conversation_id: u64, first: u64, last: u64 },
    /// A user's display name, for payload field `field`.
    Name { user_id: String, field: &'static str },
}

/// Whether event `name` may be enriched for `dialect`.
pub(crate) fn wanted(dialect: &Dialect, name: &str) -> bool {
    matches!(name, "message:receipt" | "conversation:updated") && dialect.translates(name)
}

/// Remembers what later events will need, from an event the socket is given: the messages (for the
/// receipts `dialect` enriches), deleted messages forgotten, the call ringing or active in each
/// conversation.
pub(crate) fn remember(memory: &Memory, dialect: &Dialect, name: &str, payload: &Value) {
    let number = |v: &Value| v.as_u64().or_else(|| v.as_str()?.parse().ok());
    match name {
        "message:new" if wanted(dialect, "message:receipt") => {
            if let (Some(conversation_id), Some(seq), Some(id)) =
                (number(&payload["conversationId"]), number(&payload["seq"]), number(&payload["id"]))
            {
                memory.remember_message(conversation_id, seq, id);
            }
        }
        "message:deleted" => {
            if let Some(id) = number(&payload["messageId"]) {
                memory.forget_message(id);
            }
        }
        "call:incoming" | "call:accepted" => ops::calls::remember(memory, &payload["call"]),
        "call:rejected" | "call:ended" | "call:missed" => {
            if let (Some(id), Some(conversation_id)) =
                (number(&payload["call"]["id"]), number(&payload["call"]["conversationId"]))
            {
                memory.forget_call(conversation_id, id);
            }
        }
        _ => {}
    }
}

/// Fills `payload` in from the socket's memory; the lookup it still needs, if any.
fn from_memory(memory: &Memory, name: &str, payload: &mut Value) -> Option<Lookup> {
    match name {
        "message:receipt" => {
            let (Some(conversation_id), Some(seq)) = (payload["conversationId"].as_u64(), payload["upToSeq"].as_u64())
            else {
                return None;
            };
            if seq == 0 || seq == u64::MAX {
                return None;
            }
            let from = payload["fromSeq"].as_u64().unwrap_or(0).min(seq - 1);
            let first = from.max(seq.saturating_sub(MAX_COVERED)) + 1;
            let mut ids = Vec::new();
            for covered in first..=seq {
                match memory.message_at(conversation_id, covered) {
                    Some(id) => ids.push(id),
                    None => return Some(Lookup::Covered { conversation_id, first, last: seq }),
                }
            }
            set_messages(payload, &ids);
            None
        }
        "conversation:updated" => name_from_memory(memory, payload, "actorId", "actorName"),
        _ => None,
    }
}

fn name_from_memory(memory: &Memory, payload: &mut Value, id_field: &str, field: &'static str) -> Option<Lookup> {
    let user_id = payload[id_field].as_str()?.to_owned();
    match memory.cached_name(&user_id) {
        Some(name) => {
            payload[field] = json!(name);
            None
        }
        None => Some(Lookup::Name { user_id, field }),
    }
}

/// Names the messages a receipt covers, oldest first: `messageId` is the newest.
fn set_messages(payload: &mut Value, ids: &[u64]) {
    if let Some(newest) = ids.last() {
        payload["messageId"] = json!(newest);
        payload["messageIds"] = json!(ids);
    }
}

/// Asks quipd for what `lookup` names and fills it in (nothing when quipd has nothing or fails, as for
/// an event whose lookup found nothing), remembering the answer.
async fn look_up(client: &Client, memory: &Memory, lookup: Lookup, payload: &mut Value) {
    match lookup {
        Lookup::Covered { conversation_id, first, last } => {
            let messages = ops::messages::messages_between(client, conversation_id, first, last).await;
            for m in &messages {
                memory.remember_message(conversation_id, m.seq, m.id);
            }
            if messages.last().is_some_and(|m| m.seq == last) {
                set_messages(payload, &messages.iter().map(|m| m.id).collect::<Vec<_>>());
            }
        }
        Lookup::Name { user_id, field } => {
            if let Some(name) = ops::users::display_name(client, &user_id).await {
                memory.cache_name(&user_id, &name);
                payload[field] = json!(name);
            }
        }
    }
}

/// Emits `name` for a dialect socket, enriched: at once when the memory has everything and no earlier
/// event waits for a lookup, else through the socket's lookup task. False when the socket is gone.
pub(crate) async fn deliver(
    s: &SocketRef,
    session: &SocketSession,
    dialect: &Arc<Dialect>,
    name: &'static str,
    mut payload: Value,
) -> bool {
    if session.memory.pending() == 0 && from_memory(&session.memory, name, &mut payload).is_none() {
        let ctx = Ctx::for_user(session.user_id.clone());
        return emit_as(s, &session.memory, dialect, &ctx, name, &payload).await;
    }
    let Some(queue) = queue(s, session, dialect) else { return false };
    session.memory.add_pending();
    if queue.send(Deferred { name, payload }).await.is_err() {
        session.memory.done_pending();
        return false;
    }
    true
}

/// The socket's lookup queue, its task started on first use; `None` once the task has ended (the socket
/// is gone).
fn queue(s: &SocketRef, session: &SocketSession, dialect: &Arc<Dialect>) -> Option<mpsc::Sender<Deferred>> {
    let mut slot = session.lookups.lock().ok()?;
    if let Some(queue) = slot.as_ref() {
        return (!queue.is_closed()).then(|| queue.clone());
    }
    let (tx, rx) = mpsc::channel(QUEUE);
    let (client, memory, user_id) = (session.client.clone(), session.memory.clone(), session.user_id.clone());
    let task = lookup_task(s.clone(), client, memory, dialect.clone(), user_id, rx);
    tokio::spawn(task.in_current_span());
    *slot = Some(tx.clone());
    Some(tx)
}

/// Looks up what the queued events need, `AT_ONCE` at a time, and emits them in queue order; ends when
/// the socket is gone or the session (which holds the only sender) is dropped.
async fn lookup_task(
    s: SocketRef,
    client: Client,
    memory: Arc<Memory>,
    dialect: Arc<Dialect>,
    user_id: String,
    rx: mpsc::Receiver<Deferred>,
) {
    let queued = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|d| (d, rx)) });
    let completed = queued
        .map(|mut deferred| {
            let (client, memory) = (client.clone(), memory.clone());
            async move {
                if let Some(lookup) = from_memory(&memory, deferred.name, &mut deferred.payload) {
                    look_up(&client, &memory, lookup, &mut deferred.payload).await;
                }
                deferred
            }
        })
        .buffered(AT_ONCE);
    let mut completed = std::pin::pin!(completed);
    while let Some(deferred) = completed.next().await {
        let ctx = Ctx::for_user(user_id.clone());
        let alive = emit_as(&s, &memory, &dialect, &ctx, deferred.name, &deferred.payload).await;
        memory.done_pending();
        if !alive {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_and_names_come_from_memory_or_say_what_to_look_up() {
        let memory = Memory::default();
        let jivbook = crate::dialects::builtin("jivbook").unwrap_or_else(|e| panic!("{e}"));
        let mut receipt =
            json!({"conversationId": 4, "userId": "bob", "kind": "read", "upToSeq": 9, "fromSeq": 8, "at": 1});
        assert_eq!(
            from_memory(&memory, "message:receipt", &mut receipt),
            Some(Lookup::Covered { conversation_id: 4, first: 9, last: 9 })
        );
        let canonical = crate::dialects::builtin("canonical").unwrap_or_else(|e| panic!("{e}"));
        remember(&memory, &canonical, "message:new", &json!({"id": 77, "conversationId": 4, "seq": 9}));
        assert!(from_memory(&memory, "message:receipt", &mut receipt).is_some(), "canonical sockets keep nothing");
        remember(&memory, &jivbook, "message:new", &json!({"id": 77, "conversationId": 4, "seq": 9}));
        assert_eq!(from_memory(&memory, "message:receipt", &mut receipt), None);
        assert_eq!((receipt["messageId"].clone(), receipt["messageIds"].clone()), (json!(77), json!([77])));
        remember(&memory, &jivbook, "message:deleted", &json!({"conversationId": 4, "messageId": 77, "seq": 9}));
        let mut again = json!({"conversationId": 4, "upToSeq": 9, "fromSeq": 8});
        assert!(from_memory(&memory, "message:receipt", &mut again).is_some(), "a deleted message is looked up");
        for (id, seq) in [(80, 10), (81, 11), (82, 12)] {
            remember(&memory, &jivbook, "message:new", &json!({"id": id, "conversationId": 4, "seq": seq}));
        }
        let mut three = json!({"conversationId": 4, "upToSeq": 12, "fromSeq": 9});
        assert_eq!(from_memory(&memory, "message:receipt", &mut three), None);
        assert_eq!((three["messageId"].clone(), three["messageIds"].clone()), (json!(82), json!([80, 81, 82])));
        let mut more = json!({"conversationId": 4, "upToSeq": 12, "fromSeq": 5});
        assert_eq!(
            from_memory(&memory, "message:receipt", &mut more),
            Some(Lookup::Covered { conversation_id: 4, first: 6, last: 12 }),
            "what the memory lacks is looked up in one request"
        );
        let mut long = json!({"conversationId": 4, "upToSeq": 500, "fromSeq": 0});
        assert_eq!(
            from_memory(&memory, "message:receipt", &mut long),
            Some(Lookup::Covered { conversation_id: 4, first: 437, last: 500 }),
            "at most the newest 64"
        );
        let mut everything = json!({"conversationId": 4, "upToSeq": u64::MAX});
        assert_eq!(from_memory(&memory, "message:receipt", &mut everything), None);
        assert!(everything.get("messageId").is_none());

        let mut updated = json!({"conversationId": 4, "actorId": "bob"});
        assert_eq!(
            from_memory(&memory, "conversation:updated", &mut updated),
            Some(Lookup::Name { user_id: "bob".into(), field: "actorName" })
        );
        memory.cache_name("bob", "Bob B");
        assert_eq!(from_memory(&memory, "conversation:updated", &mut updated), None);
        assert_eq!(updated["actorName"], "Bob B");
        let mut typing = json!({"conversationId": 4, "userId": "bob", "displayName": "Bob B"});
        assert_eq!(from_memory(&memory, "typing:start", &mut typing), None, "typing names the typer itself");
        let mut message = json!({"id": 1});
        assert_eq!(from_memory(&memory, "message:new", &mut message), None);
        assert_eq!(message, json!({"id": 1}));
        assert!(wanted(&jivbook, "message:receipt") && !wanted(&canonical, "message:receipt"));
        assert!(!wanted(&jivbook, "message:new"));
    }

    #[test]
    fn calls_are_remembered_by_conversation() {
        let memory = Memory::default();
        let d = crate::dialects::builtin("canonical").unwrap_or_else(|e| panic!("{e}"));
        remember(&memory, &d, "call:incoming", &json!({"call": {"id": 5, "conversationId": 2}}));
        assert_eq!(memory.call_in(2), Some(5));
        remember(&memory, &d, "call:ended", &json!({"call": {"id": 5, "conversationId": 2}}));
        assert_eq!(memory.call_in(2), None);

        // Hung up and called again at once: the new call is remembered (its invite's answer) before the
        // socket's event stream gets to the old call's events.
        remember(&memory, &d, "call:incoming", &json!({"call": {"id": 7, "conversationId": 2}}));
        memory.remember_call(2, 8);
        remember(&memory, &d, "call:incoming", &json!({"call": {"id": 7, "conversationId": 2}}));
        remember(&memory, &d, "call:ended", &json!({"call": {"id": "7", "conversationId": 2}}));
        assert_eq!(memory.call_in(2), Some(8), "the old call's late events leave the new one");
        remember(&memory, &d, "call:ended", &json!({"call": {"id": 8, "conversationId": 2}}));
        assert_eq!(memory.call_in(2), None);
    }
}
