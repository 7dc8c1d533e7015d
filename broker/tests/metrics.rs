//! `/metrics` on the admin listener: Prometheus text whose counters match the traffic driven.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed unwrap is a failed test

mod common;

use common::{RawClient, TestBroker};
use quip_protocol::ServerBody;
use quip_protocol::family::conversations::OpenDirect;
use quip_protocol::family::messages::SendMessage;

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_traffic() {
    let broker = TestBroker::start().await;
    let mut alice = RawClient::connect(&broker).await;
    alice.hello(&broker.token("alice"), "phone", None).await.unwrap();
    let mut bob = RawClient::connect(&broker).await;
    bob.hello(&broker.token("bob"), "phone", None).await.unwrap();
    let mut refused = RawClient::connect(&broker).await;
    assert!(refused.hello("bad-token", "phone", None).await.is_err());
    let ServerBody::ConversationInfo(info) = alice.call(OpenDirect { peer_user_id: "bob".into(), context: None }).await
    else {
        panic!()
    };
    for i in 0..3 {
        let m = SendMessage {
            conversation_id: info.conversation.id,
            client_msg_id: format!("m{i}"),
            text: "hi".into(),
            ..Default::default()
        };
        assert!(matches!(alice.call(m).await, ServerBody::MessageAck(_)));
    }
    // A retry is not a new stored message.
    let retry = SendMessage {
        conversation_id: info.conversation.id,
        client_msg_id: "m0".into(),
        text: "hi".into(),
        ..Default::default()
    };
    assert!(matches!(alice.call(retry).await, ServerBody::MessageAck(_)));

    let (status, text) = broker.admin_call("GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(value(&text, "quip_messages_stored_total"), Some(3.0), "{text}");
    assert_eq!(value(&text, "quip_authentications_total{result=\"ok\"}"), Some(2.0));
    assert_eq!(value(&text, "quip_authentications_total{result=\"refused\"}"), Some(1.0));
    assert_eq!(value(&text, "quip_connections_total{transport=\"quic\"}"), Some(3.0));
    assert_eq!(value(&text, "quip_online_users"), Some(2.0));
    assert!(value(&text, "quip_send_ack_seconds_count").unwrap() >= 3.0);
    assert!(text.contains("# TYPE quip_store_write_seconds histogram"));
    assert_eq!(value(&text, "quip_frames_in_total{type=\"SendMessage\"}"), Some(4.0), "{text}");
    assert_eq!(value(&text, "quip_sessions{transport=\"native\"}"), Some(2.0));
    assert!(value(&text, "quip_frames_out_total{type=\"MessageAck\"}").unwrap() >= 4.0);
    assert!(value(&text, "quip_outbound_queue_depth_count").unwrap() >= 1.0);
    // Every sample line is `name{labels} value`, and no label carries a user id.
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("quip_"), "{line}");
        assert!(!series.contains("alice") && !series.contains("bob"), "{line}");
    }
}
