//! `/metrics` on the admin listener: Prometheus text whose counters match the traffic driven. The
//! recorder is process-wide, so the test drives the real `quipd` binary (a process of its own) rather
//! than a quipd beside the other tests in this one.

use crate::common::RawClient;
use crate::crash::quipd;
use quip_protocol::ServerBody;
use quip_protocol::family::conversations::OpenDirect;
use quip_protocol::family::messages::SendMessage;

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_traffic() {
    let root = tempfile::tempdir().unwrap();
    let setup = quipd::Setup::new(env!("CARGO_BIN_EXE_quipd").into(), root.path(), "fsync");
    let quipd = setup.start(None, 1).await.unwrap();
    let cert = std::fs::read(setup.data_dir.join("dev-cert.pem")).unwrap();
    let mut alice = RawClient::connect_to(quipd.addr, &cert).await;
    alice.hello(&setup.token("alice"), "phone", None).await.unwrap();
    let mut bob = RawClient::connect_to(quipd.addr, &cert).await;
    bob.hello(&setup.token("bob"), "phone", None).await.unwrap();
    let mut refused = RawClient::connect_to(quipd.addr, &cert).await;
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

    let (status, text) = quip_testkit::http_call(quipd.admin, "GET", "/metrics", None, "").await;
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
    // The heap as quipd's allocator (jemalloc) counts it: something allocated, all of it resident.
    let allocated = value(&text, "quip_heap_bytes{kind=\"allocated\"}").unwrap();
    let resident = value(&text, "quip_heap_bytes{kind=\"resident\"}").unwrap();
    assert!(allocated > 0.0 && resident >= allocated, "{text}");
    assert!(value(&text, "quip_store_memory_bytes{part=\"memtables\"}").is_some(), "{text}");
    // Every sample line is `name{labels} value`, and no label carries a user id.
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("quip_"), "{line}");
        assert!(!series.contains("alice") && !series.contains("bob"), "{line}");
    }
    quipd.terminate().await.unwrap();
}
