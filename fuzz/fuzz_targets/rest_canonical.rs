//! A canonical REST request (`/api/v1`, `rest::routes::ROUTES`) as the bridge reads it: the body
//! (`rest::parse_body`), the query string (`rest::query_pairs`) and the path parameters merged into
//! `Args` the way `rest::run` merges them, then the route's quip request (`ops::build`). Input: a byte
//! choosing the route, then NUL-separated: the path parameters' value, the query string, the body.
//! Refusals must be `InvalidArgument`; a request built must encode to a frame quipd decodes to the same
//! request, or refuses only for a value the protocol forbids.
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use libfuzzer_sys::fuzz_target;
use quip_bridge::ops;
use quip_bridge::rest::target::Resolved;
use quip_bridge::rest::{self, routes::ROUTES};
use quip_protocol::ErrorCode;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let route = &ROUTES[usize::from(pick) % ROUTES.len()];
    let mut parts = rest.splitn(3, |b| *b == 0);
    let param = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();

    let mut args = match rest::parse_body(body) {
        Ok(args) => args,
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            return;
        }
    };
    for (key, value) in rest::query_pairs(Some(&query)) {
        if key != "token" && args.get(&key).is_none() {
            args.set(&key, value);
        }
    }
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            args.set(name, param.clone());
        }
    }
    let op = match route.op.resolve(&mut args) {
        Ok(Resolved::Run(op)) => op,
        Ok(_) => return,
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            return;
        }
    };
    let _ = args.u32_or("limit", ops::DEFAULT_PAGE);
    quip_fuzz::check_request(op, &args);
});
