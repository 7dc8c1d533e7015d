//! A canonical server event rendered in a legacy app's vocabulary (`Dialect::outbound_with`): every
//! shipped dialect, every canonical event name the dialects map (and two
//! they do not), any JSON payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quip_dialect::Ctx;
use serde_json::Value;

const EVENTS: &[&str] = &[
    "call:accepted",
    "call:ended",
    "call:ice",
    "call:incoming",
    "call:rejected",
    "conversation:updated",
    "message:deleted",
    "message:new",
    "message:receipt",
    "notification:new",
    "notification:read",
    "presence:update",
    "typing:start",
    "typing:stop",
    "message:updated",
    "session",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else { return };
    let (_, d) = quip_fuzz::dialect(pick);
    let event = EVENTS[usize::from(pick / 8) % EVENTS.len()];
    let Ok(payload) = serde_json::from_slice::<Value>(payload) else { return };
    let _ = d.outbound_with(&Ctx::for_user("alice"), event, &payload);
});
