//! Where a web client's JWT comes from: the Socket.IO handshake's `auth.token`, an `Authorization: Bearer`
//! header, an `x-auth-token` header or a `token` query parameter (in that order). The bridge does not judge
//! the token: it hands it to quipd in the session's Hello, and quipd verifies it.

use axum::http::HeaderMap;
use quip_sdk::{ConversationCursor, ResumePoint};
use serde_json::Value;

use crate::error::ApiError;
use quip_dialect::{TokenSource, bearer};

/// The token from headers or the query string.
pub fn token_from_request(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let bearer = header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    bearer
        .or_else(|| header("x-auth-token"))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| query_param(query, "token"))
        .filter(|t| !t.is_empty())
}

/// The token of a Socket.IO connection: `auth.token` first, then the HTTP request's.
pub fn token_from_handshake(auth: &Value, headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    auth.get("token")
        .and_then(Value::as_str)
        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| token_from_request(headers, query))
}

/// The first value found in `sources` (a dialect's token places: `auth.x` in the Socket.IO handshake,
/// `header.x` — `Bearer ` stripped —, `query.x`, `cookie.x`).
pub fn from_sources(sources: &[TokenSource], auth: &Value, headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    sources.iter().find_map(|source| {
        let found = match source {
            TokenSource::Auth(name) => auth.get(name.as_str()).and_then(Value::as_str).map(str::to_owned),
            TokenSource::Header(name) => headers.get(name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned),
            TokenSource::Query(name) => query_param(query, name),
            TokenSource::Cookie(name) => cookie(headers, name),
            _ => None,
        }?;
        let token = bearer(&found).to_owned();
        (!token.is_empty()).then_some(token)
    })
}

/// One cookie of the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all("cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| percent_decode(v.trim_matches('"')))
        })
    })
}

/// What the request must say when no token was found.
pub fn missing_token() -> ApiError {
    ApiError::unauthenticated(
        "no token: send it as auth.token, an Authorization: Bearer header, an x-auth-token header or a token query parameter",
    )
}

/// One query parameter, percent-decoded.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The resume point a reconnecting client sends in `auth.resume`:
/// `{globalCursor, cursors: {"<conversationId>": seq}}` (or `cursors` as `[{conversationId, seq}]`).
pub fn resume_point(auth: &Value) -> Result<Option<ResumePoint>, ApiError> {
    let Some(resume) = auth.get("resume").filter(|v| !v.is_null()) else { return Ok(None) };
    let bad = || ApiError::invalid("auth.resume must be {globalCursor, cursors: {conversationId: seq}}");
    let number = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    let global_cursor = match resume.get("globalCursor") {
        None | Some(Value::Null) => 0,
        Some(v) => number(v).ok_or_else(bad)?,
    };
    let mut cursors = Vec::new();
    match resume.get("cursors") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (conv, seq) in map {
                let conversation_id = conv.parse().map_err(|_| bad())?;
                cursors.push(ConversationCursor { conversation_id, seq: number(seq).ok_or_else(bad)? });
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let conversation_id = item.get("conversationId").and_then(number).ok_or_else(bad)?;
                let seq = item.get("seq").and_then(number).ok_or_else(bad)?;
                cursors.push(ConversationCursor { conversation_id, seq });
            }
        }
        Some(_) => return Err(bad()),
    }
    if cursors.len() > 1000 {
        return Err(ApiError::invalid("auth.resume holds more than 1000 cursors; send a globalCursor"));
    }
    Ok(Some(ResumePoint { cursors, global_cursor }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn tokens_are_found_in_all_four_places_in_order() {
        let none = HeaderMap::new();
        assert_eq!(token_from_handshake(&json!({"token": "a"}), &none, None).as_deref(), Some("a"));
        assert_eq!(token_from_handshake(&json!({"token": "Bearer a"}), &none, None).as_deref(), Some("a"));
        let h = headers(&[("authorization", "Bearer b"), ("x-auth-token", "c")]);
        assert_eq!(token_from_handshake(&json!({}), &h, Some("token=d")).as_deref(), Some("b"));
        let h = headers(&[("x-auth-token", "c")]);
        assert_eq!(token_from_request(&h, Some("token=d")).as_deref(), Some("c"));
        assert_eq!(token_from_request(&none, Some("x=1&token=d%2Ee")).as_deref(), Some("d.e"));
        assert_eq!(token_from_request(&headers(&[("authorization", "Basic x")]), None), None);
        assert_eq!(token_from_request(&none, Some("token=")), None);
    }

    #[test]
    fn dialect_sources_are_tried_in_order() {
        let h = headers(&[("cookie", "a=1; token=c%2Ed"), ("x-auth-token", "x")]);
        let sources = [
            TokenSource::Auth("token".into()),
            TokenSource::Cookie("token".into()),
            TokenSource::Header("x-auth-token".into()),
        ];
        assert_eq!(from_sources(&sources, &json!({}), &h, None).as_deref(), Some("c.d"));
        assert_eq!(from_sources(&sources, &json!({"token": "Bearer t"}), &h, None).as_deref(), Some("t"));
        let q = [TokenSource::Query("token".into())];
        assert_eq!(from_sources(&q, &json!({}), &HeaderMap::new(), Some("token=q")).as_deref(), Some("q"));
        assert_eq!(from_sources(&q, &json!({}), &HeaderMap::new(), None), None);
    }

    #[test]
    fn percent_decoding_is_forgiving() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz1"), "%zz1");
        assert_eq!(percent_decode("a+b%41"), "a bA");
    }

    #[test]
    fn resume_points_take_both_shapes() {
        let r = resume_point(&json!({"resume": {"globalCursor": "9", "cursors": {"3": 4}}})).unwrap().unwrap();
        assert_eq!(r.global_cursor, 9);
        assert_eq!(r.cursors, vec![ConversationCursor { conversation_id: 3, seq: 4 }]);
        let r = resume_point(&json!({"resume": {"cursors": [{"conversationId": 5, "seq": 6}]}})).unwrap().unwrap();
        assert_eq!(r.cursors, vec![ConversationCursor { conversation_id: 5, seq: 6 }]);
        assert!(resume_point(&json!({})).unwrap().is_none());
        assert!(resume_point(&json!({"resume": {"cursors": {"x": 1}}})).is_err());
    }
}
