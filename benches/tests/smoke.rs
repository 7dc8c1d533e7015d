//! The load generator against a real quipd (in this test process, RocksDB in a temp dir), for about a
//! second per scenario with tiny sizes: behaviour, not speed. Every message sent must be acknowledged and
//! delivered to every receiver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use quip_broker::config::Config;
use quip_broker::{BackgroundServer, PresenceConfig};
use serde_json::Value;

const SECRET: &str = "quip-bench-smoke-test-secret-0123456789abcdef";

async fn generator(args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_quip-bench")).args(args).arg("--json").arg(&json).output();
    let out = tokio::time::timeout(Duration::from_secs(60), out).await.expect("quip-bench timed out").unwrap();
    assert!(
        out.status.success(),
        "quip-bench {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

fn check_everything_delivered(records: &[Value]) {
    assert!(!records.is_empty());
    for r in records {
        let load = &r["load"];
        let sent = load["sent"].as_u64().unwrap();
        assert!(sent > 0, "nothing sent: {r}");
        assert_eq!(load["acked"], load["sent"], "every send acknowledged: {r}");
        assert_eq!(load["dropped"].as_u64(), Some(0), "{r}");
        let deliveries = load["deliveries"].as_u64().unwrap();
        assert!(deliveries > 0, "{r}");
        assert_eq!(deliveries, load["expected_deliveries"].as_u64().unwrap(), "every message delivered: {r}");
        assert_eq!(load["latency"]["count"].as_u64(), Some(deliveries), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_fanout_against_a_real_quipd() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::local(dir.path());
    cfg.auth.hs256_secret = SECRET.to_owned();
    let server = BackgroundServer::start(cfg, PresenceConfig::default()).unwrap();
    let addr = server.started().addr.to_string();
    let ca = dir.path().join("dev-cert.pem");
    let ca = ca.to_str().unwrap();
    let common = [
        "--quipd",
        &addr,
        "--hs256-secret",
        SECRET,
        "--ca-pem",
        ca,
        "--rate",
        "200",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        "--payload",
        "256",
        "--drain",
        "10",
    ];

    let mut chat = vec!["chat", "--users", "6"];
    chat.extend(common);
    check_everything_delivered(&generator(&chat).await);

    let mut fanout = vec!["fanout", "--members", "5,20"];
    fanout.extend(common);
    let records = generator(&fanout).await;
    assert_eq!(records.len(), 2);
    check_everything_delivered(&records);

    tokio::task::spawn_blocking(move || server.stop()).await.unwrap().unwrap();
}
