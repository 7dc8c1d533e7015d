//! Logs of the real `quipd` binary in JSON: one object a line, every line of a session's work carries
//! the session's id (its span), and neither the token nor a message body is ever written.

use crate::crash::quipd;

use quip_sdk::{Client, ClientConfig, Trust};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_carry_the_session_id_and_no_secrets() {
    let root = tempfile::tempdir().unwrap();
    let setup = quipd::Setup::new(env!("CARGO_BIN_EXE_quipd").into(), root.path(), "fsync");
    setup.log_as("info,quip_broker=debug", "json");
    let quipd = setup.start(None, 1).await.unwrap();

    let token = setup.token("alice");
    let body = "a message body that must never reach the logs";
    let trust = Trust::Fingerprint(quipd.fingerprint.clone());
    let (alice, _events) =
        Client::connect(ClientConfig::new(quipd.addr, trust.clone(), token.clone(), "phone")).await.unwrap();
    let conversation = alice.open_direct("bob", None).await.unwrap();
    alice.send_message(conversation.conversation.id, body).await.unwrap();
    let refused = Client::connect(ClientConfig::new(quipd.addr, trust, "not-a-token", "tablet")).await;
    assert!(refused.is_err());
    alice.close().await;
    quipd.terminate().await.unwrap();

    let text = std::fs::read_to_string(&setup.log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.starts_with("=== quipd start"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(!text.contains(&token), "a token was logged");
    assert!(!text.contains(body), "a message body was logged");
    assert!(!text.contains("not-a-token"), "a refused token was logged");

    let session_lines: Vec<&Value> = lines.iter().filter(|l| l["span"]["name"] == "session").collect();
    let opened = session_lines.iter().find(|l| l["fields"]["message"] == "session open").expect("no session open line");
    let id = opened["span"]["id"].clone();
    assert!(id.is_number(), "the session span has no id: {opened}");
    assert_eq!(opened["fields"]["user"], "alice");
    let closed = session_lines
        .iter()
        .find(|l| l["span"]["id"] == id && l["fields"]["message"] == "session closed")
        .unwrap_or_else(|| panic!("no session closed line for session {id}:\n{text}"));
    assert_eq!(closed["level"], "INFO");
    // The refused Hello is logged in its own session's span, with the reason.
    assert!(
        session_lines.iter().any(|l| l["span"]["id"] != id && l["fields"]["message"] == "session refused"),
        "no refused-session line:\n{text}"
    );
    for line in &lines {
        assert!(line["timestamp"].is_string() && line["level"].is_string(), "{line}");
    }
}
