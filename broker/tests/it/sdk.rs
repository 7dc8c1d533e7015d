//! The Rust SDK against a real quipd: pinned certificates, typed requests, and automatic reconnect with
//! resume — no gap and no duplicate in the app's event stream across a broker restart, while another
//! client keeps sending during the replay.

use crate::common;

use std::time::Duration;

use crate::common::TestBroker;
use quip_sdk::{Client, ClientConfig, ErrorCode, Event, EventStream, ReconnectPolicy, Trust};

fn config(broker: &TestBroker, user: &str, device: &str) -> ClientConfig {
    let mut cfg =
        ClientConfig::new(broker.addr, Trust::Fingerprint(broker.fingerprint.clone()), broker.token(user), device);
    cfg.request_timeout = Duration::from_secs(20);
    cfg
}

async fn connect(broker: &TestBroker, user: &str, device: &str) -> (Client, EventStream) {
    Client::connect(config(broker, user, device)).await.unwrap()
}

/// Message seqs of `conv` from the event stream until `n` have arrived.
async fn seqs(events: &mut EventStream, conv: u64, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < n {
        let m =
            events.next_message(Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("after {}: {e}", out.len()));
        if m.conversation_id == conv {
            out.push(m.seq);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_requests_work_end_to_end() {
    let broker = TestBroker::start().await;
    let (alice, _alice_events) = connect(&broker, "alice", "phone").await;
    let (bob, mut bob_events) = connect(&broker, "bob", "laptop").await;
    let chat = alice.open_direct("bob", None).await.unwrap();
    assert!(chat.created);
    let ack = alice.send_message(chat.conversation.id, "hello bob").await.unwrap();
    assert_eq!(ack.seq, 1);
    let got = bob_events.next_message(Duration::from_secs(10)).await.unwrap();
    assert_eq!((got.text.as_str(), got.sender.id.as_str(), got.seq), ("hello bob", "alice", 1));
    let page = bob.list_conversations(None, 10).await.unwrap();
    assert_eq!(page.conversations[0].id, chat.conversation.id);
    let history = bob.history(chat.conversation.id, 0, quip_sdk::Direction::Backward, 10).await.unwrap();
    assert_eq!(history.messages.len(), 1);
    // A retried send with the same client message id yields the same ack.
    let mut retry = quip_sdk::SendMessage {
        conversation_id: chat.conversation.id,
        client_msg_id: "retry-1".into(),
        text: "once".into(),
        ..Default::default()
    };
    let first = alice.send(retry.clone()).await.unwrap();
    retry.text = "once (retried)".into();
    let second = alice.send(retry).await.unwrap();
    assert_eq!((first.message_id, first.seq), (second.message_id, second.seq));
    assert!(second.duplicate);
    // Server errors carry their code.
    let err = bob.get_conversation(9_999).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_fingerprint_or_token_is_refused_at_connect() {
    let broker = TestBroker::start().await;
    let mut cfg = config(&broker, "alice", "phone");
    cfg.trust = Trust::Fingerprint("00:".repeat(31) + "00");
    assert!(Client::connect(cfg).await.is_err());
    let mut cfg = config(&broker, "alice", "phone");
    cfg.token = "not-a-token".into();
    let err = Client::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenInvalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_and_resume_across_a_restart_has_no_gap_and_no_duplicate() {
    let mut broker = TestBroker::start().await;
    let port = broker.addr;
    let (alice, _ae) = connect(&broker, "alice", "phone").await;
    let conv = alice.open_direct("bob", None).await.unwrap().conversation.id;
    let mut bob_cfg = config(&broker, "bob", "phone");
    // Reconnect slowly enough that the 1000 messages below are sent while Bob is away.
    bob_cfg.reconnect = ReconnectPolicy { initial_backoff: Duration::from_secs(2), ..ReconnectPolicy::default() };
    let (_bob, mut bob_events) = Client::connect(bob_cfg).await.unwrap();
    for i in 0..10 {
        alice.send_message(conv, format!("before {i}")).await.unwrap();
    }
    assert_eq!(seqs(&mut bob_events, conv, 10).await, (1..=10).collect::<Vec<_>>());

    // quipd goes down and comes back on the same address with the same store.
    broker.stop().await;
    let mut cfg = broker.config.clone();
    cfg.listen = port;
    let broker = TestBroker::start_with(cfg).await;

    // 1000 messages arrive while Bob is disconnected, sent by a fresh client, acks awaited concurrently.
    let (sender, _se) = connect(&broker, "alice", "laptop").await;
    let mut acks = Vec::new();
    for i in 0..1000 {
        let s = sender.clone();
        acks.push(tokio::spawn(async move { s.send_message(conv, format!("missed {i}")).await }));
    }
    for a in acks {
        a.await.unwrap().unwrap();
    }
    // While Bob replays, Alice keeps sending.
    let live = tokio::spawn(async move {
        for i in 0..100 {
            sender.send_message(conv, format!("live {i}")).await.unwrap();
        }
    });
    assert_eq!(seqs(&mut bob_events, conv, 1100).await, (11..=1110).collect::<Vec<_>>());
    live.await.unwrap();
    // Nothing more: no duplicate trails behind.
    let extra = bob_events.next_message(Duration::from_millis(500)).await;
    assert!(extra.is_err(), "unexpected extra message {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_tells_clients_to_reconnect() {
    let mut broker = TestBroker::start().await;
    let mut cfg = config(&broker, "alice", "phone");
    cfg.reconnect = ReconnectPolicy::disabled();
    let (_alice, mut events) = Client::connect(cfg).await.unwrap();
    broker.stop().await;
    loop {
        match events.next_event_timeout(Duration::from_secs(10)).await.unwrap() {
            Event::Disconnected { reason, .. } => {
                let text = format!("{reason:?}");
                assert!(text.contains("ServerShutdown"), "{text}");
                break;
            }
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_carries_many_users_sessions_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.rate_limits.bridge.messages_per_minute = 3;
    let broker = TestBroker::start_with(cfg).await;
    let pool =
        quip_sdk::SharedQuicTransport::new(quip_sdk::PoolConfig { max_connections: 1, sessions_per_connection: 2 });
    let (alice, _alice_events) = Client::connect_with(pool.clone(), config(&broker, "alice", "web-1")).await.unwrap();
    let (bob, mut bob_events) = Client::connect_with(pool.clone(), config(&broker, "bob", "web-2")).await.unwrap();
    assert_eq!(bob.welcome().map(|w| w.user.id), Some("bob".to_owned()), "Welcome is known once connected");
    // Past sessions_per_connection, but max_connections caps the pool: still one connection.
    let (carol, _carol_events) = Client::connect_with(pool.clone(), config(&broker, "carol", "web-3")).await.unwrap();
    assert_eq!((pool.connections(), pool.sessions()), (1, 3));

    let chat = alice.open_direct("bob", None).await.unwrap();
    alice.send_message(chat.conversation.id, "through the gateway").await.unwrap();
    let got = bob_events.next_message(Duration::from_secs(10)).await.unwrap();
    assert_eq!((got.text.as_str(), got.sender.id.as_str()), ("through the gateway", "alice"));

    // One user's refused token fails that session only.
    let mut bad = config(&broker, "mallory", "web-4");
    bad.token = "not a token".into();
    bad.reconnect = ReconnectPolicy::disabled();
    let refused = Client::connect_with(pool.clone(), bad).await.unwrap_err();
    assert!(refused.is_auth(), "{refused:?}");
    alice.send_message(chat.conversation.id, "still here").await.unwrap();
    assert_eq!(bob_events.next_message(Duration::from_secs(10)).await.unwrap().text, "still here");

    // Closing one client ends its session, not the connection.
    carol.close().await;
    bob.send_message(chat.conversation.id, "after carol left").await.unwrap();
    assert_eq!(pool.connections(), 1);

    // Sessions through a gateway get the bridge's rate limits (3 a minute here), per user.
    alice.send_message(chat.conversation.id, "third").await.unwrap();
    let limited = alice.send_message(chat.conversation.id, "one too many").await.unwrap_err();
    assert_eq!(limited.code(), ErrorCode::RateLimited, "{limited:?}");
    assert!(limited.retry_after().is_some());
    bob.send_message(chat.conversation.id, "bob has his own allowance").await.unwrap();
}
