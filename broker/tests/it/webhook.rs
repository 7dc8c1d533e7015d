//! The offline hook: a message for a member with no device online is POSTed, batched and signed, to a
//! real local HTTP receiver; a receiver that fails at first is retried; online members are not reported.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{RawClient, TestBroker};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use quip_broker::webhook::Batch;
use quip_protocol::ServerBody;
use quip_protocol::family::conversations::OpenDirect;
use quip_protocol::family::messages::SendMessage;
use tokio::sync::mpsc;

#[derive(Clone)]
struct Receiver {
    tx: mpsc::UnboundedSender<(Option<String>, Batch)>,
    fail_first: Arc<AtomicUsize>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if r.fail_first.load(Ordering::SeqCst) > 0 {
        r.fail_first.fetch_sub(1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let sig = headers.get("x-quip-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let batch: Batch = serde_json::from_slice(&body).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"hook-secret");
    let expected: String = ring::hmac::sign(&key, &body).as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sig.as_deref(), Some(format!("sha256={expected}").as_str()));
    r.tx.send((sig, batch)).unwrap();
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_members_are_reported_batched_signed_and_retried() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let fail_first = Arc::new(AtomicUsize::new(2));
    let app = Router::new().route("/hook", post(receive)).with_state(Receiver { tx, fail_first: fail_first.clone() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.webhook.url = format!("http://{hook_addr}/hook");
    cfg.webhook.secret = "hook-secret".into();
    cfg.webhook.batch_wait_ms = 300;
    let broker = TestBroker::start_with(cfg).await;

    let mut alice = RawClient::connect(&broker).await;
    alice.hello(&broker.token("alice"), "phone", None).await.unwrap();
    let mut online = RawClient::connect(&broker).await;
    online.hello(&broker.token("olive"), "phone", None).await.unwrap();
    let ServerBody::ConversationInfo(to_bob) =
        alice.call(OpenDirect { peer_user_id: "bob".into(), context: None }).await
    else {
        panic!()
    };
    let ServerBody::ConversationInfo(to_olive) =
        alice.call(OpenDirect { peer_user_id: "olive".into(), context: None }).await
    else {
        panic!()
    };
    for (i, conv) in [to_bob.conversation.id, to_bob.conversation.id, to_olive.conversation.id].into_iter().enumerate()
    {
        let send = SendMessage {
            conversation_id: conv,
            client_msg_id: format!("m{i}"),
            text: format!("hello {i}"),
            ..Default::default()
        };
        assert!(matches!(alice.call(send).await, ServerBody::MessageAck(_)));
    }

    // The receiver refused twice; the batch arrives on a retry, with both of Bob's messages and nothing
    // for Olive, who is online.
    let mut notices = Vec::new();
    while notices.len() < 2 {
        let (_, batch) =
            tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("no webhook call").unwrap();
        notices.extend(batch.notices);
    }
    assert_eq!(fail_first.load(Ordering::SeqCst), 0);
    assert!(notices.iter().all(|n| n.user_id == "bob" && n.sender_id == "alice"));
    assert_eq!(notices.iter().map(|n| n.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(notices[0].preview, "hello 0");
    assert!(tokio::time::timeout(Duration::from_millis(800), rx.recv()).await.is_err(), "olive was reported");
}
