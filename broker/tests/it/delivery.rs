//! Delivery: fan-out to every device in order, durability across a restart, resume without gap or
//! duplicate while others keep sending, and bounded slow consumers that still get everything.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use crate::common::{RawClient, TestBroker, direct, login};
use quip_protocol::family::conversations::ListConversations;
use quip_protocol::family::messages::{Direction, GetHistory, MessageEvent, SendMessage};
use quip_protocol::{ConversationCursor, ResumePoint, ServerBody};

fn msg(conv: u64, id: String, text: String) -> SendMessage {
    SendMessage { conversation_id: conv, client_msg_id: id, text, ..SendMessage::default() }
}

/// Sends without waiting for each ack, then collects all acks (pipelined, as a busy client would).
async fn send_many(c: &mut RawClient, conv: u64, prefix: &str, n: usize) {
    for i in 0..n {
        c.send_frame(msg(conv, format!("{prefix}-{i}"), format!("{prefix} {i}"))).await;
    }
    for _ in 0..n {
        let reply = c.reply().await.unwrap();
        assert!(matches!(reply.body, ServerBody::MessageAck(_)), "{reply:?}");
    }
}

/// Message events until `n` have arrived (other events skipped).
async fn collect(c: &mut RawClient, n: usize) -> Vec<MessageEvent> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match c.event_within(Duration::from_secs(20)).await {
            Some(ServerBody::MessageEvent(ev)) => out.push(ev),
            Some(_) => {}
            None => panic!("only {} of {n} messages arrived", out.len()),
        }
    }
    out
}

fn assert_in_order_once(events: &[MessageEvent], conv: u64, first_seq: u64) {
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(ev.message.conversation_id, conv);
        assert_eq!(ev.message.seq, first_seq + i as u64, "out of order or duplicated at {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_of_every_member_gets_every_message_once_in_order() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob_phone = login(&broker, "bob", "phone").await;
    let mut bob_laptop = login(&broker, "bob", "laptop").await;
    let mut bob_tablet = login(&broker, "bob", "tablet").await;
    let mut alice_laptop = login(&broker, "alice", "laptop").await;
    let conv = direct(&mut alice, "bob").await;

    send_many(&mut alice, conv, "a", 100).await;
    for device in [&mut bob_phone, &mut bob_laptop, &mut bob_tablet, &mut alice_laptop, &mut alice] {
        let got = collect(device, 100).await;
        assert_in_order_once(&got, conv, 1);
        assert_eq!(got[99].message.text, "a 99");
        assert!(device.event_within(Duration::from_millis(200)).await.is_none(), "a duplicate arrived");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_restart() {
    let broker = TestBroker::start().await;
    let conv;
    {
        let mut alice = login(&broker, "alice", "phone").await;
        conv = direct(&mut alice, "bob").await;
        send_many(&mut alice, conv, "before", 50).await;
    }
    let broker = broker.restart().await;
    let mut bob = login(&broker, "bob", "phone").await;
    let ServerBody::ConversationPage(page) =
        bob.call(ListConversations { limit: 10, ..ListConversations::default() }).await
    else {
        panic!()
    };
    assert_eq!(page.conversations.len(), 1);
    assert_eq!(page.conversations[0].last_seq, 50);
    assert_eq!(page.conversations[0].last_message.as_ref().map(|m| m.text.as_str()), Some("before 49"));
    let ServerBody::HistoryPage(h) =
        bob.call(GetHistory { conversation_id: conv, anchor_seq: 0, direction: Direction::Forward, limit: 100 }).await
    else {
        panic!()
    };
    assert_eq!(h.messages.len(), 50);
    assert!(h.messages.iter().enumerate().all(|(i, m)| m.seq == i as u64 + 1));
    // Sequence numbers continue where they stopped.
    let mut alice = login(&broker, "alice", "phone").await;
    let ServerBody::MessageAck(ack) = alice.call(msg(conv, "after-0".into(), "after".into())).await else { panic!() };
    assert_eq!(ack.seq, 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_exactly_what_was_missed_then_goes_live() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let mut bob = login(&broker, "bob", "phone").await;
    send_many(&mut alice, conv, "seen", 10).await;
    let seen = collect(&mut bob, 10).await;
    let cursor = seen.last().unwrap().cursor;
    drop(bob);

    send_many(&mut alice, conv, "missed", 1000).await;

    // While bob resumes, carol's other conversation and alice keep sending.
    let sender = {
        let mut alice2 = login(&broker, "alice", "laptop").await;
        tokio::spawn(async move {
            send_many(&mut alice2, conv, "live", 200).await;
        })
    };
    let mut bob = RawClient::connect(&broker).await;
    let resume =
        ResumePoint { cursors: vec![ConversationCursor { conversation_id: conv, seq: 10 }], global_cursor: cursor };
    let welcome = bob.hello(&broker.token("bob"), "phone", Some(resume)).await.unwrap();
    assert!(welcome.resuming);
    let got = collect(&mut bob, 1200).await;
    sender.await.unwrap();
    assert_in_order_once(&got, conv, 11);
    let texts: HashMap<&str, usize> = got.iter().fold(HashMap::new(), |mut m, ev| {
        *m.entry(ev.message.text.split(' ').next().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(texts.get("missed"), Some(&1000));
    assert_eq!(texts.get("live"), Some(&200));
    assert!(
        bob.event_within(Duration::from_millis(300)).await.iter().all(|e| !matches!(e, ServerBody::MessageEvent(_)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_by_global_cursor_covers_new_conversations() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let c1 = direct(&mut alice, "bob").await;
    send_many(&mut alice, c1, "one", 3).await;
    let mut bob = RawClient::connect(&broker).await;
    let cursor = bob.hello(&broker.token("bob"), "phone", None).await.unwrap().global_cursor;
    drop(bob);
    let mut carol = login(&broker, "carol", "phone").await;
    let c2 = direct(&mut carol, "bob").await;
    send_many(&mut carol, c2, "two", 5).await;
    send_many(&mut alice, c1, "three", 2).await;

    let mut bob = RawClient::connect(&broker).await;
    bob.hello(&broker.token("bob"), "phone", Some(ResumePoint { cursors: vec![], global_cursor: cursor }))
        .await
        .unwrap();
    let got = collect(&mut bob, 7).await;
    let from_c2: Vec<u64> = got.iter().filter(|e| e.message.conversation_id == c2).map(|e| e.message.seq).collect();
    let from_c1: Vec<u64> = got.iter().filter(|e| e.message.conversation_id == c1).map(|e| e.message.seq).collect();
    assert_eq!(from_c2, [1, 2, 3, 4, 5]);
    assert_eq!(from_c1, [4, 5]);
    assert!(got.iter().all(|e| e.replay));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_stays_bounded_and_still_gets_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.limits.outbound_queue = 16;
    cfg.store.durability = quip_broker::config::Durability::Wal;
    let broker = TestBroker::start_with(cfg).await;
    let mut alice = login(&broker, "alice", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    // Bob connects and then does not read his event stream at all while 3000 messages of 2 KB arrive.
    let mut bob = login(&broker, "bob", "phone").await;
    let switches_before = quip_broker::hub::slow_consumer_switches();
    let text = "x".repeat(2048);
    for round in 0..30 {
        for i in 0..100 {
            alice.send_frame(msg(conv, format!("m-{round}-{i}"), text.clone())).await;
        }
        for _ in 0..100 {
            assert!(matches!(alice.reply().await.unwrap().body, ServerBody::MessageAck(_)));
        }
    }
    assert!(quip_broker::hub::slow_consumer_switches() > switches_before, "bob's queue never overflowed");
    // Now Bob reads: every message, in order, once.
    let got = collect(&mut bob, 3000).await;
    assert_in_order_once(&got, conv, 1);
    assert!(
        bob.event_within(Duration::from_millis(300)).await.iter().all(|e| !matches!(e, ServerBody::MessageEvent(_)))
    );
}
