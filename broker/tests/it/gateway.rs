//! A gateway's sessions on the connection's shared event stream (`Hello.shared_events`, the SDK's
//! `SharedQuicTransport`): a fan-out goes once for all of them, every session still gets every message
//! of a conversation once and in order, and a session whose app stops reading is cut off and resumes
//! without losing or repeating anything, while the others go on.

use std::time::Duration;

use crate::common::{self, TestBroker};
use quip_sdk::{Client, ClientConfig, EventStream, PoolConfig, SharedQuicTransport, Trust};

fn config(broker: &TestBroker, user: &str) -> ClientConfig {
    let mut cfg =
        ClientConfig::new(broker.addr, Trust::Fingerprint(broker.fingerprint.clone()), broker.token(user), "web-1");
    cfg.request_timeout = Duration::from_secs(20);
    cfg
}

fn pool() -> SharedQuicTransport {
    SharedQuicTransport::new(PoolConfig { max_connections: 1, sessions_per_connection: 1024 })
}

/// `conv`'s messages (seq, text) from the event stream until `n` have arrived.
async fn texts(events: &mut EventStream, conv: u64, n: usize) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        let m =
            events.next_message(Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("after {}: {e}", out.len()));
        if m.conversation_id == conv {
            out.push((m.seq, m.text));
        }
    }
    out
}

/// Every seq from `first` on, once, in order.
fn assert_in_order_once(got: &[(u64, String)], first: u64) {
    let seqs: Vec<u64> = got.iter().map(|(seq, _)| *seq).collect();
    let want: Vec<u64> = (first..first + got.len() as u64).collect();
    assert_eq!(seqs, want, "not every message once and in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_behind_one_gateway_connection_gets_every_message_once_in_order() {
    let broker = TestBroker::start().await;
    let pool = pool();
    let names: Vec<String> = (0..20).map(|i| format!("member-{i}")).collect();
    let mut members = Vec::new();
    for name in &names {
        members.push(Client::connect_with(pool.clone(), config(&broker, name)).await.unwrap());
    }
    assert_eq!(pool.connections(), 1);
    let (sender, _sender_events) = Client::connect(config(&broker, "sender")).await.unwrap();
    let group = sender.create_group("everyone", &names).await.unwrap().conversation.id;
    let direct_before = quip_broker::lane::direct_deliveries();
    let sent: Vec<String> = (0..200).map(|i| format!("message {i}")).collect();
    for text in &sent {
        sender.send_message(group, text).await.unwrap();
    }
    // Sent one after another, so in this order.
    let want: Vec<String> = sent.clone();
    for (_, events) in &mut members {
        let got = texts(events, group, sent.len()).await;
        assert_in_order_once(&got, got[0].0);
        assert_eq!(got.into_iter().map(|(_, text)| text).collect::<Vec<_>>(), want);
    }
    assert!(
        quip_broker::lane::direct_deliveries() > direct_before,
        "the hub sent none of the fan-out on the shared stream itself"
    );
    // Nothing comes twice.
    for (_, events) in &mut members {
        let more = events.next_message(Duration::from_millis(200)).await;
        assert!(more.is_err(), "a message came twice: {more:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_session_that_stops_reading_resumes_without_loss_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.store.durability = quip_broker::config::Durability::Wal;
    let broker = TestBroker::start_with(cfg).await;
    let pool = pool();
    let mut slow_cfg = config(&broker, "slow");
    slow_cfg.event_buffer = 4;
    let (_slow, mut slow_events) = Client::connect_with(pool.clone(), slow_cfg).await.unwrap();
    let (_quick, mut quick_events) = Client::connect_with(pool.clone(), config(&broker, "quick")).await.unwrap();
    let (sender, _sender_events) = Client::connect(config(&broker, "sender")).await.unwrap();
    let group = sender.create_group("two", &["slow".to_owned(), "quick".to_owned()]).await.unwrap().conversation.id;
    // The slow app reads nothing while more arrives than its share of the shared stream holds; the quick
    // one reads as it comes.
    let sent: Vec<String> = (0..3000).map(|i| format!("message {i}")).collect();
    let cut_before = SharedQuicTransport::sessions_cut_off();
    let quick = tokio::spawn(async move { texts(&mut quick_events, group, 3000).await });
    for chunk in sent.chunks(100) {
        let sends = chunk.iter().map(|text| sender.send_message(group, text));
        for ack in futures_util::future::join_all(sends).await {
            ack.unwrap();
        }
    }
    let quick = quick.await.unwrap();
    assert_in_order_once(&quick, quick[0].0);
    assert!(SharedQuicTransport::sessions_cut_off() > cut_before, "the slow session was never cut off");
    let slow = texts(&mut slow_events, group, sent.len()).await;
    assert_eq!(slow, quick, "the slow session did not get what the quick one got, in the same order");
    let more = slow_events.next_message(Duration::from_millis(300)).await;
    assert!(more.is_err(), "a message came twice: {more:?}");
}
