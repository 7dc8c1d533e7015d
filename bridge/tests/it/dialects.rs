//! Dialect listeners beyond the seed flows: the extensions the core adds for them (offset paging, block
//! toggling, call records), a dialect mounted under a path of the main listener, the token and user
//! checks of a legacy handshake, and a receipt's message id with and without the message remembered.

use crate::common::{Env, http, setup_tools};
use quip_bridge::config::DialectListenerConfig;
use serde_json::json;

fn addr(env: &Env, name: &str) -> std::net::SocketAddr {
    env.dialect_url(name).trim_start_matches("http://").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_and_page_paging_and_block_toggling() {
    let env = Env::start_with_dialects().await;
    let (alice, bob) = (env.token("alice"), env.token("bob"));
    let kaaj = addr(&env, "kaajkaam");
    let conv =
        http(kaaj, "POST", "/api/chat/conversations", Some(&alice), Some(&json!({"participantId": "bob"}))).await;
    assert_eq!(conv.status, 200, "{}", conv.text);
    let id = conv.body["_id"].as_str().unwrap().to_owned();
    for text in ["one", "two", "three", "four"] {
        let path = format!("/api/chat/conversations/{id}/messages");
        let sent = http(kaaj, "POST", &path, Some(&alice), Some(&json!({ "text": text }))).await;
        assert_eq!(sent.status, 201, "{}", sent.text);
    }
    let page =
        http(kaaj, "GET", &format!("/api/chat/conversations/{id}/messages?limit=2&skip=1"), Some(&bob), None).await;
    let texts: Vec<&str> = page.body.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["two", "three"], "{}", page.text);

    let jiv = addr(&env, "jivbook");
    let page = http(jiv, "GET", &format!("/api/chat/{id}/messages?page=2&limit=3"), Some(&bob), None).await;
    let data = &page.body["data"];
    let texts: Vec<&str> =
        data["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one"], "{}", page.text);
    assert_eq!(data["pagination"]["currentPage"], 2, "{}", page.text);
    assert_eq!(data["pagination"]["totalMessages"], 4, "{}", page.text);
    assert_eq!(data["pagination"]["hasMore"], false, "{}", page.text);

    let blocked = http(jiv, "PUT", &format!("/api/chat/{id}/toggle-block"), Some(&bob), None).await;
    assert_eq!(blocked.body["data"]["isBlocked"], true, "{}", blocked.text);
    let refused = http(
        kaaj,
        "POST",
        &format!("/api/chat/conversations/{id}/messages"),
        Some(&alice),
        Some(&json!({"text": "hi"})),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.body["code"], "Blocked", "{}", refused.text);
    let unblocked = http(jiv, "PUT", &format!("/api/chat/{id}/toggle-block"), Some(&bob), None).await;
    assert_eq!(unblocked.body["data"]["isBlocked"], false, "{}", unblocked.text);
    assert_eq!(unblocked.body["message"], "Chat unblocked successfully", "{}", unblocked.text);

    let record =
        http(kaaj, "POST", &format!("/api/chat/conversations/{id}/call-record"), Some(&alice), Some(&json!({}))).await;
    assert_eq!((record.status, &record.body), (201, &json!({"success": true})), "{}", record.text);
    let missing = http(jiv, "GET", "/api/chat/my-chats", None, None).await;
    assert_eq!(missing.status, 401, "{}", missing.text);
    assert_eq!(missing.body["success"], false, "{}", missing.text);
    let canonical = http(jiv, "GET", "/api/v1/me", Some(&alice), None).await;
    assert_eq!(canonical.body["data"]["id"], "alice", "canonical REST after the dialect's: {}", canonical.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialect_mounted_under_a_path_and_legacy_handshakes() {
    setup_tools();
    let env = Env::with_bridge(|cfg| {
        cfg.dialects = vec![
            DialectListenerConfig { name: "jivbook".into(), listen: None, mount: "/jivbook".into() },
            DialectListenerConfig {
                name: "kaajkaam".into(),
                listen: Some("127.0.0.1:0".parse().unwrap()),
                mount: String::new(),
            },
        ];
    })
    .await;
    let alice = env.token("alice");
    let created =
        env.http("POST", "/jivbook/api/chat/create", Some(&alice), Some(&json!({"participantId": "bob"}))).await;
    assert_eq!(created.body["success"], true, "{}", created.text);
    let chats = env.http("GET", "/jivbook/api/chat/my-chats", Some(&alice), None).await;
    assert_eq!(chats.body["data"]["chats"].as_array().unwrap().len(), 1, "{}", chats.text);
    let canonical = env.http("GET", "/api/v1/conversations", Some(&alice), None).await;
    assert_eq!(canonical.body["data"].as_array().unwrap().len(), 1, "{}", canonical.text);

    let out = env
        .node(
            "dialects.mjs",
            &[
                ("TOKEN_ALICE", alice.clone()),
                ("TOKEN_BOB", env.token("bob")),
                ("KAAJKAAM_URL", env.dialect_url("kaajkaam")),
                ("CHAT_ID", created.body["data"]["_id"].as_str().unwrap().to_owned()),
            ],
        )
        .await;
    assert_eq!(out["mounted"], "hello from the mount", "{out}");
    assert_eq!(out["cookie"], true, "{out}");
    assert!(out["impostor"].as_str().unwrap().starts_with("Forbidden"), "{out}");
    assert_eq!(out["unknownEvent"]["code"], "InvalidArgument", "{out}");
    let receipts = &out["receipts"];
    assert_eq!(receipts["seen"], receipts["sent"], "the socket given the message: {out}");
    assert_eq!(receipts["late"], receipts["sent"], "the socket that connected after it: {out}");
}
