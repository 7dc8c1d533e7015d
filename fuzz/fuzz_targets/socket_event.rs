//! A canonical Socket.IO event (docs/BRIDGE.md) as the bridge reads it: the payload becomes `Args`
//! (`Args::from_value`) and the operation's quip request (`ops::build`), as `socket::inbound` does.
//! Input: a byte choosing one of the operations of `ops::OPERATIONS` (or, with a NUL, the text before it as the event
//! name), then the payload as JSON. A refused payload must be an `InvalidArgument` error; a request
//! built must encode to a frame quipd decodes to the same request, or refuses only for a value the
//! protocol forbids (an empty required field, something too long).
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use libfuzzer_sys::fuzz_target;
use quip_bridge::json::Args;
use quip_bridge::ops;
use quip_protocol::ErrorCode;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (event, payload) = match rest.iter().position(|b| *b == 0) {
        Some(i) if pick & 1 == 1 => (String::from_utf8_lossy(&rest[..i]).into_owned(), &rest[i + 1..]),
        _ => {
            let names: Vec<&str> = ops::names().collect();
            (names[usize::from(pick / 2) % names.len()].to_owned(), rest)
        }
    };
    let Ok(payload) = serde_json::from_slice::<Value>(payload) else { return };
    let args = match Args::from_value(payload) {
        Ok(args) => args,
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            let _ = e.envelope();
            return;
        }
    };
    // What `conversation:join` / `conversation:leave` read before anything else.
    let _ = args.id("conversationId");
    quip_fuzz::check_request(&event, &args);
});
