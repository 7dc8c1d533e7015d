//! One message, rendered once: quipd sends each member's session its own copy of a new message, so a
//! group of N members on this bridge would render the same JSON N times. The sessions' pumps share the
//! rendering of recent messages here, keyed by the message itself (quipd applies each user's view before it
//! sends, so two sessions that got equal messages show the same JSON).
//!
//! The cache is a small ring under a plain mutex, held only to look up or insert, never across an await.
//! An entry is reused for [`FRESH_FOR`] at most, so that signed media URLs in it keep their validity.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use quip_protocol::family::messages::Message;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::events;

/// Recent messages kept: enough for the messages of several groups in flight at once.
const ENTRIES: usize = 64;
/// How long a rendering is reused (its media URLs were signed when it was rendered).
const FRESH_FOR: Duration = Duration::from_secs(1);

/// A message event's payload (`message:new`), as a tree for the dialects and as text for sockets that
/// take it unchanged.
#[derive(Debug)]
pub struct Rendered {
    pub value: Value,
    pub raw: Box<RawValue>,
}

struct Entry {
    message: Message,
    replay: bool,
    at: Instant,
    rendered: Arc<Rendered>,
}

/// The shared renderings of one bridge.
#[derive(Default)]
pub struct Renders {
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    entries: Vec<Entry>,
    next: usize,
}

impl std::fmt::Debug for Renders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renders").finish_non_exhaustive()
    }
}

impl Renders {
    /// The `message:new` payload of `message`, rendered now or shared from a session that got the same.
    pub fn message(&self, message: &Message, replay: bool) -> Arc<Rendered> {
        self.message_at(message, replay, Instant::now())
    }

    fn message_at(&self, message: &Message, replay: bool, now: Instant) -> Arc<Rendered> {
        if let Some(hit) = self.find(message, replay, now) {
            return hit;
        }
        let value = events::message_event(message, replay);
        let raw = match serde_json::value::to_raw_value(&value) {
            Ok(raw) => raw,
            // A `Value` always serializes; should it not, the tree is still emitted (see `emit`).
            Err(_) => return Arc::new(Rendered { raw: RawValue::NULL.to_owned(), value }),
        };
        let rendered = Arc::new(Rendered { value, raw });
        let entry = Entry { message: message.clone(), replay, at: now, rendered: rendered.clone() };
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.entries.len() < ENTRIES {
            ring.entries.push(entry);
        } else {
            let at = ring.next;
            ring.entries[at] = entry;
        }
        ring.next = (ring.next + 1) % ENTRIES;
        rendered
    }

    fn find(&self, message: &Message, replay: bool, now: Instant) -> Option<Arc<Rendered>> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.entries
            .iter()
            .find(|e| {
                e.message.id == message.id
                    && e.replay == replay
                    && now.duration_since(e.at) < FRESH_FOR
                    && e.message == *message
            })
            .map(|e| e.rendered.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: u64, text: &str) -> Message {
        Message { id, conversation_id: 7, seq: id, text: text.to_owned(), ..Message::default() }
    }

    #[test]
    fn equal_messages_share_one_rendering_that_matches_the_canonical_event() {
        let renders = Renders::default();
        let now = Instant::now();
        let a = renders.message_at(&message(1, "hi"), false, now);
        let b = renders.message_at(&message(1, "hi"), false, now);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.value, events::message_event(&message(1, "hi"), false));
        let parsed: Value = serde_json::from_str(a.raw.get()).unwrap_or_default();
        assert_eq!(parsed, a.value);
    }

    #[test]
    fn a_different_view_replay_flag_or_an_old_rendering_is_rendered_anew() {
        let renders = Renders::default();
        let now = Instant::now();
        let a = renders.message_at(&message(1, "hi"), false, now);
        let edited = renders.message_at(&message(1, "hi!"), false, now);
        assert!(!Arc::ptr_eq(&a, &edited));
        assert_eq!(edited.value["text"], "hi!");
        let replayed = renders.message_at(&message(1, "hi"), true, now);
        assert_eq!(replayed.value["replay"], true);
        let later = renders.message_at(&message(1, "hi"), false, now + FRESH_FOR);
        assert!(!Arc::ptr_eq(&a, &later));
    }

    #[test]
    fn the_ring_keeps_the_most_recent_messages() {
        let renders = Renders::default();
        let now = Instant::now();
        let first = renders.message_at(&message(0, "x"), false, now);
        for id in 1..=ENTRIES as u64 {
            renders.message_at(&message(id, "x"), false, now);
        }
        assert!(!Arc::ptr_eq(&first, &renders.message_at(&message(0, "x"), false, now)));
        let last = renders.message_at(&message(ENTRIES as u64, "x"), false, now);
        assert!(Arc::ptr_eq(&last, &renders.message_at(&message(ENTRIES as u64, "x"), false, now)));
    }
}
