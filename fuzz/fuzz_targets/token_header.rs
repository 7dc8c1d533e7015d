//! Token extraction from a request (`auth::token_from_request`, `auth::token_from_handshake`): arbitrary
//! `Authorization`, `x-auth-token` and cookie header bytes, an arbitrary query string and handshake auth.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use quip_bridge::auth;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|b| *b == 0);
    let mut headers = HeaderMap::new();
    for name in ["authorization", "x-auth-token", "cookie"] {
        if let Some(bytes) = fields.next()
            && let Ok(v) = HeaderValue::from_bytes(bytes)
        {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let query = fields.next().map(|q| String::from_utf8_lossy(q).into_owned());
    let auth: Value = fields.next().and_then(|a| serde_json::from_slice(a).ok()).unwrap_or(Value::Null);
    let _ = auth::token_from_request(&headers, query.as_deref());
    let _ = auth::token_from_handshake(&auth, &headers, query.as_deref());
    let _ = auth::cookie(&headers, "token");
    let _ = auth::resume_point(&auth);
});
