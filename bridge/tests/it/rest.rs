//! The canonical REST API against a real quipd: envelope, cursor paging, error statuses, OpenAPI, health.

use crate::common::{self, Env};
use serde_json::json;

async fn open_direct(env: &Env, token: &str, peer: &str) -> u64 {
    let r = env
        .http("POST", "/api/v1/conversations", Some(token), Some(&json!({"type": "direct", "peerUserId": peer})))
        .await;
    assert!(r.status == 201 || r.status == 200, "{r:?}");
    assert_eq!(r.body["success"], true);
    r.body["data"]["conversation"]["id"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_then_page_through_history_with_cursors() {
    let env = Env::start().await;
    let (alice, bob) = (env.token("alice"), env.token("bob"));
    let conv = open_direct(&env, &alice, "bob").await;
    // The same pair again: found, not created.
    let again = env.http("POST", "/api/v1/conversations", Some(&alice), Some(&json!({"peerUserId": "bob"}))).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["data"]["created"], false);

    for n in 1..=5 {
        let body = json!({"text": format!("m{n}"), "clientMsgId": format!("c{n}")});
        let r = env.http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        assert_eq!(r.body["data"]["seq"], n);
        assert_eq!(r.body["data"]["text"], format!("m{n}"));
        assert_eq!(r.body["data"]["sender"]["id"], "alice");
    }
    // A retried send (same clientMsgId) stores nothing new.
    let retry = json!({"text": "m5", "clientMsgId": "c5"});
    let r = env.http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&retry)).await;
    assert_eq!((r.body["data"]["seq"].as_u64(), r.body["data"]["duplicate"].as_bool()), (Some(5), Some(true)));

    // Bob pages backwards two at a time with the cursor, then there is no more.
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/conversations/{conv}/messages?limit=2");
    loop {
        let r = env.http("GET", &path, Some(&bob), None).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["pagination"]["limit"], 2);
        for m in r.body["data"].as_array().unwrap() {
            seen.push(m["seq"].as_u64().unwrap());
        }
        match r.body["pagination"]["nextCursor"].as_u64() {
            Some(cursor) => {
                assert_eq!(r.body["pagination"]["hasMore"], true);
                path = format!("/api/v1/conversations/{conv}/messages?limit=2&before={cursor}");
            }
            None => {
                assert_eq!(r.body["pagination"]["hasMore"], false);
                break;
            }
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);

    // Forward from seq 3.
    let r = env.http("GET", &format!("/api/v1/conversations/{conv}/messages?after=3"), Some(&bob), None).await;
    let seqs: Vec<u64> = r.body["data"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![4, 5]);

    // Unread, read, unread again.
    let r = env.http("GET", "/api/v1/unread", Some(&bob), None).await;
    assert_eq!(r.body["data"]["total"], 5, "{r:?}");
    let r =
        env.http("POST", &format!("/api/v1/conversations/{conv}/read"), Some(&bob), Some(&json!({"upToSeq": 3}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = env.http("GET", &format!("/api/v1/unread?conversationIds={conv}"), Some(&bob), None).await;
    assert_eq!(r.body["data"]["conversations"][0]["unread"], 2, "{r:?}");

    // Conversation list with the envelope's pagination; edit, react, delete.
    let r = env.http("GET", "/api/v1/conversations?limit=10", Some(&bob), None).await;
    assert_eq!(r.body["data"][0]["id"], conv, "{r:?}");
    assert_eq!(r.body["pagination"]["hasMore"], false);
    let first =
        env.http("GET", &format!("/api/v1/conversations/{conv}/messages?after=0&limit=1"), Some(&bob), None).await;
    let id = first.body["data"][0]["id"].as_u64().unwrap();
    let r = env.http("PATCH", &format!("/api/v1/messages/{id}"), Some(&alice), Some(&json!({"text": "edited"}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r =
        env.http("POST", &format!("/api/v1/messages/{id}/reactions"), Some(&bob), Some(&json!({"emoji": "👍"}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = env.http("GET", &format!("/api/v1/messages/{id}"), Some(&bob), None).await;
    assert_eq!(
        (r.body["data"]["text"].as_str(), r.body["data"]["reactions"][0]["emoji"].as_str()),
        (Some("edited"), Some("👍"))
    );
    let r = env.http("DELETE", &format!("/api/v1/messages/{id}?scope=everyone"), Some(&alice), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = env.http("GET", &format!("/api/v1/messages/{id}"), Some(&bob), None).await;
    assert_eq!(r.body["data"]["deleted"], true, "{r:?}");

    let me = env.http("GET", "/api/v1/me", Some(&bob), None).await;
    assert_eq!(me.body["data"]["id"], "bob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_envelope_and_the_mapped_status() {
    let env = Env::start().await;
    let (alice, carol) = (env.token("alice"), env.token("carol"));
    let conv = open_direct(&env, &alice, "bob").await;

    let check = |r: &common::Response, status: u16, code: &str| {
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(r.body["success"], false, "{r:?}");
        assert_eq!(r.body["error"]["code"], code, "{r:?}");
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{r:?}");
    };
    // 401: no token; a token quipd refuses (the reason is in the message).
    let r = env.http("GET", "/api/v1/conversations", None, None).await;
    check(&r, 401, "Unauthenticated");
    let r = env.http("GET", "/api/v1/conversations", Some(&env.expired_token("alice")), None).await;
    check(&r, 401, "TokenExpired");
    let r = env.http("GET", "/api/v1/conversations", Some("not-a-jwt"), None).await;
    check(&r, 401, "TokenInvalid");
    // 404: not a member, and no such route.
    let r = env.http("GET", &format!("/api/v1/conversations/{conv}"), Some(&carol), None).await;
    check(&r, 404, "NotFound");
    let r = env.http("GET", "/api/v1/nothing-here", Some(&carol), None).await;
    check(&r, 404, "NotFound");
    // 400: bad arguments, bad JSON.
    let r = env.http("GET", "/api/v1/conversations/abc", Some(&alice), None).await;
    check(&r, 400, "InvalidArgument");
    assert_eq!(r.body["error"]["field"], "conversationId");
    let r = env.http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&json!({}))).await;
    check(&r, 400, "InvalidArgument");
    let r = env.http("DELETE", "/api/v1/messages/1?scope=all", Some(&alice), None).await;
    check(&r, 400, "InvalidArgument");
    // 413: text over quipd's limit.
    let big = json!({"text": "x".repeat(20_000)});
    let r = env.http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&big)).await;
    check(&r, 413, "PayloadTooLarge");
    // axum's own answers get the envelope too: a body past the body limit, a method the route has not.
    let huge = json!({"text": "x".repeat(3 << 20)});
    let r = env.http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&huge)).await;
    check(&r, 413, "PayloadTooLarge");
    let r = env.http("PUT", "/api/v1/conversations", Some(&alice), None).await;
    check(&r, 405, "InvalidArgument");
    // 403: editing someone else's message.
    let sent = env
        .http("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&alice), Some(&json!({"text": "hi"})))
        .await;
    let id = sent.body["data"]["id"].as_u64().unwrap();
    let r = env
        .http("PATCH", &format!("/api/v1/messages/{id}"), Some(&env.token("bob")), Some(&json!({"text": "mine now"})))
        .await;
    check(&r, 403, "Forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let env = Env::start_with(|cfg| cfg.rate_limits.bridge.messages_per_minute = 2).await;
    let alice = env.token("alice");
    let conv = open_direct(&env, &alice, "bob").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let mut limited = None;
    for n in 0..5 {
        let r = env.http("POST", &path, Some(&alice), Some(&json!({"text": format!("m{n}")}))).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 201, "{r:?}");
    }
    let r = limited.expect("never rate limited");
    assert_eq!(r.body["error"]["code"], "RateLimited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.body["error"]["retryAfter"], retry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_and_graceful_stop() {
    let mut env = Env::start().await;
    let r = env.http("GET", "/api/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    for p in
        ["/api/v1/conversations", "/api/v1/conversations/{conversationId}/messages", "/api/v1/messages/{messageId}"]
    {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(r.body["paths"]["/api/v1/conversations/{conversationId}/messages"]["post"]["responses"]["429"].is_object());

    assert_eq!(env.http("GET", "/healthz", None, None).await.body["status"], "ok");
    assert_eq!(env.http("GET", "/readyz", None, None).await.body["ready"], true);
    let page = env.http("GET", "/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<html"), "{}", page.text);
    // CORS preflight.
    let r = env.http("OPTIONS", "/api/v1/conversations", None, None).await;
    assert!(r.status < 500);

    env.stop_bridge().await;
    let addr = env.bridge_addr;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after the stop");
}

/// Shutdown drains under `shutdown.drain_timeout_ms`: a client stuck halfway through a request (its body
/// never comes) does not hold the bridge up; its connection is closed once the deadline passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_a_stuck_client_once_the_drain_deadline_passes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut env = Env::with_bridge(|cfg| cfg.shutdown.drain_timeout_ms = 300).await;
    let token = env.token("alice");
    let mut stuck = tokio::net::TcpStream::connect(env.bridge_addr).await.unwrap();
    let head = format!(
        "POST /api/v1/conversations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    env.stop_bridge().await;
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stuck.read(&mut buf)).await;
    assert!(read.is_ok(), "the stuck connection is still open after the bridge stopped");
}
