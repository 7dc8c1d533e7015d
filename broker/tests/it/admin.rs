//! The admin API against a real quipd: every call refused without the admin token; live stats; a user's
//! sessions, disconnecting one or all, revoking tokens (durably); announcements; and the TLS certificate
//! reloaded from disk without dropping the connections already open.

use crate::common;

use crate::common::{RawClient, TestBroker, group, login, send, until};
use quip_broker::auth::dev_claims;
use quip_protocol::family::session::CloseReason;
use quip_protocol::{ErrorCode, ServerBody};
use serde_json::Value;

async fn call(broker: &TestBroker, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = broker.admin_call(method, path, Some(&broker.admin_token), body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_admin_call_needs_the_admin_token() {
    let broker = TestBroker::start().await;
    let calls = [
        ("GET", "/v1/stats", ""),
        ("GET", "/v1/users/alice/sessions", ""),
        ("POST", "/v1/users/alice/disconnect", "{}"),
        ("POST", "/v1/users/alice/revoke", "{}"),
        ("POST", "/v1/broadcast", r#"{"text":"hi"}"#),
        ("POST", "/v1/notifications", r#"{"user_id":"alice","kind":"order"}"#),
    ];
    for (method, path, body) in calls {
        let (status, text) = broker.admin_call(method, path, None, body).await;
        assert_eq!(status, 401, "{method} {path} without a token: {text}");
        assert!(text.contains("Unauthenticated"), "{text}");
        let (status, _) = broker.admin_call(method, path, Some("not-the-admin-token"), body).await;
        assert_eq!(status, 401, "{method} {path} with a wrong token");
        let (status, _) = broker.admin_call(method, path, Some(&broker.admin_token), body).await;
        assert!((200..300).contains(&status), "{method} {path} with the token: {status}");
    }
    // Probes and metrics stay open (the listener is on loopback by default).
    assert_eq!(broker.admin_call("GET", "/healthz", None, "").await.0, 200);
    assert_eq!(broker.admin_call("GET", "/readyz", None, "").await.0, 200);
}

#[tokio::test]
async fn stats_sessions_disconnect_revoke_and_broadcast() {
    let broker = TestBroker::start().await;
    let mut a1 = login(&broker, "alice", "a1").await;
    let mut a2 = login(&broker, "alice", "a2").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let team = group(&mut a1, &["bob"]).await;
    send(&mut a1, team, "one").await;
    send(&mut a1, team, "two").await;

    // Stats follow the writer's fan-out, which may trail the acks by a moment.
    let mut stats = Value::Null;
    for _ in 0..100 {
        let (status, now) = call(&broker, "GET", "/v1/stats", "").await;
        assert_eq!(status, 200);
        stats = now;
        if stats["data"]["messages_total"].as_u64() >= Some(2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let data = &stats["data"];
    assert_eq!((data["connections"].as_u64(), data["sessions"].as_u64()), (Some(3), Some(3)));
    assert_eq!(data["users_online"].as_u64(), Some(2));
    assert!(data["messages_total"].as_u64() >= Some(2), "{stats}");
    assert!(data["active_conversations"].as_u64() >= Some(1), "{stats}");
    assert!(data["messages_per_second"].is_number());

    let (_, listed) = call(&broker, "GET", "/v1/users/alice/sessions", "").await;
    let sessions = listed["data"]["sessions"].as_array().unwrap().clone();
    let mut devices: Vec<&str> = sessions.iter().map(|s| s["device_id"].as_str().unwrap()).collect();
    devices.sort_unstable();
    assert_eq!(devices, vec!["a1", "a2"]);
    assert!(sessions.iter().all(|s| s["gateway"] == false && s["connected_at_ms"].as_u64() > Some(0)));

    // Announcements: to everyone, or to one conversation's members.
    let (status, sent) = call(&broker, "POST", "/v1/broadcast", r#"{"text":"maintenance at 2am"}"#).await;
    assert_eq!((status, sent["data"]["sessions"].as_u64()), (200, Some(3)));
    let note = until(&mut bob, |e| match e {
        ServerBody::Announcement(a) => Some(a),
        _ => None,
    })
    .await;
    assert_eq!((note.text.as_str(), note.conversation_id), ("maintenance at 2am", 0));
    let to_team = format!(r#"{{"text":"team news","conversation_id":{team}}}"#);
    assert_eq!(call(&broker, "POST", "/v1/broadcast", &to_team).await.0, 200);
    let note = until(&mut bob, |e| match e {
        ServerBody::Announcement(a) => Some(a),
        _ => None,
    })
    .await;
    assert_eq!((note.text.as_str(), note.conversation_id), ("team news", team));
    assert_eq!(call(&broker, "POST", "/v1/broadcast", r#"{"text":"x","conversation_id":999}"#).await.0, 404);
    assert_eq!(call(&broker, "POST", "/v1/broadcast", "not json").await.0, 400);
    assert_eq!(call(&broker, "POST", "/v1/broadcast", r#"{"text":"  "}"#).await.0, 400);

    // Disconnect one session: that device is told Kicked, the other stays.
    let a1_id = sessions.iter().find(|s| s["device_id"] == "a1").unwrap()["session_id"].as_u64().unwrap();
    let (status, kicked) =
        call(&broker, "POST", "/v1/users/alice/disconnect", &format!(r#"{{"session_id":{a1_id}}}"#)).await;
    assert_eq!((status, kicked["data"]["disconnected"].as_u64()), (200, Some(1)));
    let bye = until(&mut a1, |e| match e {
        ServerBody::Goodbye(g) => Some(g),
        _ => None,
    })
    .await;
    assert_eq!(bye.reason, CloseReason::Kicked);
    send(&mut a2, team, "still here").await;
    assert_eq!(call(&broker, "POST", "/v1/users/alice/disconnect", r#"{"session_id":123456}"#).await.0, 404);

    // Revoke: open sessions close with Revoked, older tokens are refused, newer ones work, after a restart too.
    let old_token = broker.token("alice");
    let (status, revoked) = call(&broker, "POST", "/v1/users/alice/revoke", "").await;
    assert_eq!(status, 200);
    let before_ms = revoked["data"]["revoked_before_ms"].as_u64().unwrap();
    let bye = until(&mut a2, |e| match e {
        ServerBody::Goodbye(g) => Some(g),
        _ => None,
    })
    .await;
    assert_eq!(bye.reason, CloseReason::Revoked);
    let broker = broker.restart().await;
    let mut again = RawClient::connect(&broker).await;
    let refused = again.hello(&old_token, "a1", None).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::TokenRevoked);
    let now = before_ms / 1000 + 2;
    let fresh = broker.token_with(&dev_claims("alice", None, now, 3600, &broker.config.auth));
    let mut again = RawClient::connect(&broker).await;
    again.hello(&fresh, "a1", None).await.unwrap();
    // Bob was never revoked.
    login(&broker, "bob", "b1").await;
}

#[tokio::test]
async fn a_reloaded_certificate_serves_new_connections_and_keeps_the_open_ones() {
    let dir = tempfile::tempdir().unwrap();
    let write_cert = |name: &str| {
        let generated = rcgen::generate_simple_self_signed(vec![name.to_owned(), "localhost".to_owned()]).unwrap();
        std::fs::write(dir.path().join("cert.pem"), generated.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), generated.signing_key.serialize_pem()).unwrap();
    };
    write_cert("first.example");
    let mut cfg = common::config(&dir.path().join("data"));
    cfg.tls.cert = dir.path().join("cert.pem").display().to_string();
    cfg.tls.key = dir.path().join("key.pem").display().to_string();
    let broker = TestBroker::start_with(cfg).await;
    let cfg = |user: &str, fp: &str| {
        quip_sdk::ClientConfig::new(broker.addr, quip_sdk::Trust::Fingerprint(fp.to_owned()), broker.token(user), user)
    };
    let old_fingerprint = broker.fingerprint.clone();
    let (alice, _alice_events) = quip_sdk::Client::connect(cfg("alice", &old_fingerprint)).await.unwrap();
    let chat = alice.open_direct("bob", None).await.unwrap().conversation.id;

    write_cert("second.example");
    let new_fingerprint = broker.tls_reloader.reload().unwrap();
    assert_ne!(new_fingerprint, old_fingerprint);

    // The open connection carries on; a new one is served the new certificate.
    alice.send_message(chat, "still connected").await.unwrap();
    let cfg = |fp: &str| cfg("bob", fp);
    let (bob, _events) = quip_sdk::Client::connect(cfg(&new_fingerprint)).await.unwrap();
    bob.close().await;
    let mut stale = cfg(&old_fingerprint);
    stale.reconnect = quip_sdk::ReconnectPolicy::disabled();
    assert!(quip_sdk::Client::connect(stale).await.is_err());

    // A broken file leaves the current certificate in place.
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    assert!(broker.tls_reloader.reload().is_err());
    let (bob, _events) = quip_sdk::Client::connect(cfg(&new_fingerprint)).await.unwrap();
    bob.close().await;
}

/// A connection to the admin listener that drips a request's head is closed (issue 18, "Slow HTTP
/// clients"): the listener gives each request head 10 s, and serves the others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_admin_client_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let broker = TestBroker::start().await;
    let mut slow = tokio::net::TcpStream::connect(broker.admin_addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.expect("write");
    let (status, _) = broker.admin_call("GET", "/healthz", None, "").await;
    assert_eq!(status, 200, "others are served while one drips");
    let closed = async {
        let mut buf = [0u8; 64];
        loop {
            if slow.write_all(b"X").await.is_err() {
                return;
            }
            let read = tokio::time::timeout(std::time::Duration::from_millis(200), slow.read(&mut buf)).await;
            if let Ok(Ok(0) | Err(_)) = read {
                return;
            }
        }
    };
    assert!(tokio::time::timeout(std::time::Duration::from_secs(20), closed).await.is_ok(), "still open after 20 s");
}
