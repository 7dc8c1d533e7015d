//! A legacy client's Socket.IO event through its dialect (`Dialect::inbound`): any event name, any JSON
//! payload, every shipped dialect. Input: a byte choosing the dialect and the event (one of the dialect's
//! own names, or the text up to the first NUL), then the payload as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quip_bridge::dialect::{self, BUILTIN};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (name, _) = BUILTIN[usize::from(pick) % BUILTIN.len()];
    let Ok(d) = dialect::builtin(name) else { return };
    let (event, payload) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (String::from_utf8_lossy(&rest[..i]).into_owned(), &rest[i + 1..]),
        None => {
            let events = d.inbound_events();
            if events.is_empty() {
                return;
            }
            (events[usize::from(pick / 8) % events.len()].to_owned(), rest)
        }
    };
    let payload: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let _ = d.inbound(&event, payload);
});
