//! A legacy client's Socket.IO event through its dialect (`Dialect::inbound`): any event name, any JSON
//! payload, every shipped dialect. Input: a byte choosing the dialect and the event (one of the dialect's
//! own names, or the text up to the first NUL), then the payload as JSON. What maps must be what
//! `Inbound` promises (an object payload; a canonical operation, or in the canonical dialect the event
//! itself) and must then build a request quipd can read, or be refused as an invalid argument.
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use libfuzzer_sys::fuzz_target;
use quip_bridge::json::Args;
use quip_bridge::ops;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (name, d) = quip_fuzz::dialect(pick);
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
    let Ok(inbound) = d.inbound(&event, payload) else { return };
    assert_eq!(inbound.event, event);
    assert!(inbound.payload.is_object(), "{name} {event}: payload {}", inbound.payload);
    if d.is_identity() {
        assert_eq!(inbound.canonical, event);
    } else {
        assert!(ops::is_operation(&inbound.canonical), "{name} {event} -> {}", inbound.canonical);
    }
    let args = Args::from_value(inbound.payload).unwrap();
    quip_fuzz::check_request(&inbound.canonical, &args);
});
