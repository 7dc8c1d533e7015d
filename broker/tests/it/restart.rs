//! A crashed quipd (SIGKILL: no CONNECTION_CLOSE reaches anyone) started again on the same address and
//! data: its endpoint keys outlive the process, so every client's next packet for its old connection is
//! answered with a stateless reset it can verify, and it reconnects and resumes at once instead of
//! waiting out its idle timeout. quipd answers every such packet (`limits.min_stateless_reset_interval_us`
//! is 0 by default), however many clients send at the same moment.

use std::time::Duration;

use crate::crash::quipd;
use quip_sdk::{Client, ClientConfig, DisconnectReason, Event, EventStream, Trust};

const CLIENTS: usize = 100;

/// The first disconnect reason on `events`, then waits for the resumed session.
async fn lost_then_resumed(mut events: EventStream) -> String {
    let mut reason = None;
    loop {
        match events.next_event_timeout(Duration::from_secs(60)).await.expect("an event") {
            Event::Disconnected { reason: r, .. } if reason.is_none() => reason = Some(r),
            Event::Connected { resumed: true } if reason.is_some() => break,
            _ => {}
        }
    }
    match reason {
        Some(DisconnectReason::ConnectionLost(detail)) => detail,
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_a_killed_quipd_are_reset_by_its_successor_not_left_to_time_out() {
    let root = tempfile::tempdir().unwrap();
    let setup = quipd::Setup::new(env!("CARGO_BIN_EXE_quipd").into(), root.path(), "fsync");
    let first = setup.start(None, 1).await.unwrap();
    let (addr, fingerprint) = (first.addr, first.fingerprint.clone());
    let mut clients = Vec::new();
    let mut waits = Vec::new();
    for i in 0..CLIENTS {
        let user = format!("u{i}");
        let mut cfg = ClientConfig::new(addr, Trust::Fingerprint(fingerprint.clone()), setup.token(&user), "phone");
        cfg.request_timeout = Duration::from_secs(30);
        let (client, mut events) = Client::connect(cfg).await.unwrap();
        assert!(matches!(events.next_event_timeout(Duration::from_secs(10)).await, Ok(Event::Connected { .. })));
        clients.push(client);
        waits.push(tokio::spawn(lost_then_resumed(events)));
    }

    first.kill().await.unwrap();
    let second = setup.start(Some(addr), 2).await.unwrap();
    for wait in waits {
        let detail = wait.await.unwrap();
        // The reset, not the 30 s idle timeout ("timed out"), is what told the client.
        assert!(detail.contains("reset by peer"), "a client learnt of the restart otherwise: {detail}");
    }
    for c in clients {
        c.close().await;
    }
    second.kill().await.unwrap();
}
