//! A graceful stop (what SIGTERM does) under load: senders keep sending while quipd drains; every
//! acknowledged message is in the store afterwards, exactly once, and every client is told the server
//! is shutting down rather than seeing its connection cut.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::TestBroker;
use quip_sdk::{Client, ClientConfig, Direction, Event, ReconnectPolicy, SendMessage, Trust};

const SENDERS: usize = 4;

fn config(broker: &TestBroker, user: &str) -> ClientConfig {
    let mut cfg =
        ClientConfig::new(broker.addr, Trust::Fingerprint(broker.fingerprint.clone()), broker.token(user), user);
    cfg.reconnect = ReconnectPolicy::disabled();
    cfg.request_timeout = Duration::from_secs(20);
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_under_load_keeps_every_acknowledged_message_and_says_goodbye() {
    let mut broker = TestBroker::start().await;
    let users: Vec<String> = (0..SENDERS).map(|i| format!("sender{i}")).collect();
    let (owner, _owner_events) = Client::connect(config(&broker, "owner")).await.unwrap();
    let conv = owner.create_group("load", users.clone()).await.unwrap().conversation.id;

    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<(String, u64)>();
    let mut tasks = Vec::new();
    for user in &users {
        let (client, mut events) = Client::connect(config(&broker, user)).await.unwrap();
        let acked_tx = acked_tx.clone();
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            // Drain events concurrently so the event stream never holds the sender back.
            let watcher = tokio::spawn(async move {
                loop {
                    match events.next_event_timeout(Duration::from_secs(30)).await {
                        Ok(Event::Disconnected { reason, will_reconnect: false }) => return format!("{reason:?}"),
                        Ok(_) => {}
                        Err(e) => return format!("no goodbye: {e}"),
                    }
                }
            });
            for n in 0.. {
                let send = SendMessage {
                    conversation_id: conv,
                    client_msg_id: format!("{user}-{n}"),
                    text: format!("{user} #{n}"),
                    ..SendMessage::default()
                };
                match client.send(send).await {
                    Ok(ack) => {
                        let _ = acked_tx.send((format!("{user}-{n}"), ack.message_id));
                    }
                    Err(_) => break,
                }
            }
            watcher.await.unwrap()
        }));
    }
    drop(acked_tx);

    // Let the load build, then stop gracefully while sends are in flight.
    let mut acked: HashMap<String, u64> = HashMap::new();
    while acked.len() < 200 {
        let (id, msg) = acked_rx.recv().await.unwrap();
        acked.insert(id, msg);
    }
    broker.stop().await;
    for task in tasks {
        let reason = task.await.unwrap();
        assert!(reason.contains("ServerShutdown"), "a client was not told goodbye: {reason}");
    }
    while let Some((id, msg)) = acked_rx.recv().await {
        acked.insert(id, msg);
    }

    // Every acknowledged message is stored once, in a gap-free order.
    let broker = broker.restart().await;
    let (reader, _events) = Client::connect(config(&broker, "owner")).await.unwrap();
    let mut stored: Vec<quip_sdk::Message> = Vec::new();
    loop {
        let after = stored.last().map_or(0, |m| m.seq);
        let page = reader.history(conv, after, Direction::Forward, 200).await.unwrap();
        if page.messages.is_empty() {
            break;
        }
        stored.extend(page.messages);
    }
    let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>(), "gaps or disorder");
    let mut by_client_id: HashMap<&str, u64> = HashMap::new();
    for m in &stored {
        assert!(by_client_id.insert(m.client_msg_id.as_str(), m.id).is_none(), "{} stored twice", m.client_msg_id);
    }
    for (id, msg) in &acked {
        assert_eq!(by_client_id.get(id.as_str()), Some(msg), "acknowledged {id} is missing");
    }
}
