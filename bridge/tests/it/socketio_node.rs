//! End to end with the real npm `socket.io-client` v4 (Node) against a real bridge and a real quipd.

use crate::common::{Env, setup_tools};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_taken_from_all_four_places_and_bad_ones_are_refused_with_a_reason() {
    setup_tools();
    let env = Env::start().await;
    let env_vars = [("TOKEN_ALICE", env.token("alice")), ("TOKEN_EXPIRED", env.expired_token("alice"))];
    let out = env.node("connect.mjs", &env_vars).await;
    for place in ["auth", "authorization", "xAuthToken", "query"] {
        assert_eq!(out["users"][place], "alice", "{out}");
    }
    assert!(out["expired"].as_str().unwrap().starts_with("TokenExpired"), "{out}");
    assert!(out["garbage"].as_str().unwrap().starts_with("TokenInvalid"), "{out}");
    assert!(out["missing"].as_str().unwrap().starts_with("Unauthenticated: no token"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_ack_reaches_the_other_member_with_typing_receipts_and_errors() {
    setup_tools();
    let env = Env::start().await;
    let out = env.node("chat.mjs", &[("TOKEN_ALICE", env.token("alice")), ("TOKEN_BOB", env.token("bob"))]).await;
    assert_eq!(out["sent"]["seq"], 1, "{out}");
    assert_eq!(out["sent"]["sender"], "alice", "{out}");
    assert_eq!(out["received"]["id"], out["sent"]["id"], "{out}");
    assert_eq!(out["received"]["text"], "hello bob");
    assert_eq!(out["received"]["replay"], false);
    assert_eq!(out["typing"], "alice");
    assert_eq!(out["read"]["userId"], "bob");
    assert_eq!(out["read"]["upToSeq"], 1);
    assert_eq!(out["errors"]["notMember"], "NotFound", "{out}");
    assert_eq!(out["errors"]["badArgs"]["code"], "InvalidArgument", "{out}");
    assert_eq!(out["errors"]["badArgs"]["field"], "conversationId", "{out}");
    assert_eq!(out["errors"]["unknown"], "InvalidArgument", "{out}");
    assert_eq!(out["errors"]["noAck"], "NotFound", "{out}");
    assert_eq!(out["historyCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_gets_exactly_what_it_missed() {
    setup_tools();
    let env = Env::start().await;
    let out = env.node("resume.mjs", &[("TOKEN_ALICE", env.token("alice")), ("TOKEN_BOB", env.token("bob"))]).await;
    assert_eq!(out["resumed"], true, "{out}");
    let replayed: Vec<(String, bool)> = out["replayed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["text"].as_str().unwrap().to_owned(), m["replay"].as_bool().unwrap()))
        .collect();
    let expected: Vec<(String, bool)> =
        [("two", true), ("three", true), ("four", false)].iter().map(|(t, r)| ((*t).to_owned(), *r)).collect();
    assert_eq!(replayed, expected, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sockets_events_are_handled_acked_and_stored_in_the_order_sent() {
    setup_tools();
    let env = Env::start().await;
    let out = env.node("ordered.mjs", &[("TOKEN_ALICE", env.token("alice")), ("TOKEN_BOB", env.token("bob"))]).await;
    assert_eq!(out["count"], 500, "{out}");
    for what in ["acksInOrder", "seqsRising", "receivedInOrder", "storedInOrder"] {
        assert_eq!(out[what], true, "{what}: {out}");
    }
}
