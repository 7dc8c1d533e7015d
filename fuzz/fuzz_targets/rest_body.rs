//! A legacy REST request through its dialect (`Dialect::rest`): method, path, query and JSON body from
//! arbitrary input (the path either free text or one of the dialect's route patterns with the `:params`
//! filled from the input), every shipped dialect. A call mapped must name a canonical operation with an
//! object payload, which must then build a request quipd can read, or be refused as an invalid argument.
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use libfuzzer_sys::fuzz_target;
use quip_bridge::json::Args;
use quip_bridge::ops;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (name, d) = quip_fuzz::dialect(pick);
    let mut parts = rest.splitn(3, |b| *b == 0);
    let head = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let query_text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body: Value = serde_json::from_slice(parts.next().unwrap_or_default()).unwrap_or(Value::Null);
    let routes: Vec<_> = d.rest_routes().collect();
    let (method, path) = if pick & 1 == 0 && !routes.is_empty() {
        let r = &routes[usize::from(pick / 2) % routes.len()];
        let filled: Vec<String> =
            r.pattern.split('/').map(|s| if s.starts_with(':') { head.clone() } else { s.to_owned() }).collect();
        (r.method.to_owned(), filled.join("/"))
    } else {
        let (m, p) = head.split_once(' ').unwrap_or(("GET", &head));
        (m.to_owned(), p.to_owned())
    };
    let query: Map<String, Value> = query_text
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let Ok(Some(call)) = d.rest(&method, &path, &query, &body) else { return };
    assert!(ops::is_operation(&call.canonical), "{name} {method} {path} -> {}", call.canonical);
    assert!(call.payload.is_object(), "{name} {method} {path}: payload {}", call.payload);
    let args = Args::from_value(call.payload).unwrap();
    quip_fuzz::check_request(&call.canonical, &args);
});
