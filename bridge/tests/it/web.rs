//! The web page at `/` in a real browser (Debian's headless Chromium): it connects with its own
//! Socket.IO code (no client library), opens a chat and sends; the other member gets the message.

use crate::common::{Env, setup_tools};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_chats_through_the_bridge_in_chromium() {
    setup_tools();
    let env = Env::start().await;
    let page = env.http("GET", "/", None, None).await;
    assert!(!page.text.contains("socket.io.min.js") && !page.text.contains("<script src"), "the page loads a library");

    let out = env.node("browser.mjs", &[("TOKEN_ALICE", env.token("alice"))]).await;
    assert_eq!(out["user"], "alice", "{out}");
    assert_eq!(out["usesLibrary"], false, "{out}");
    assert_eq!(out["conversations"], serde_json::json!(["bob"]), "{out}");
    assert!(
        out["messages"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().ends_with("hello from the browser")),
        "{out}"
    );

    // Bob sees it over REST.
    let bob = env.token("bob");
    let list = env.http("GET", "/api/v1/conversations", Some(&bob), None).await;
    let conv = list.body["data"][0]["id"].as_u64().unwrap();
    let history = env.http("GET", &format!("/api/v1/conversations/{conv}/messages"), Some(&bob), None).await;
    assert_eq!(history.body["data"][0]["text"], "hello from the browser", "{history:?}");
    assert_eq!(history.body["data"][0]["sender"]["id"], "alice");
}
