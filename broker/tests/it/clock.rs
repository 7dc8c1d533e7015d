//! The server's wall clock stepped under a running quipd (libfaketime on the real binary, the monotonic
//! clock left alone), as docs/PROTOCOL.md ("Clocks") says: tokens are judged by the server's clock,
//! when presented and for as long as a session lives; the 15-minute edit window is the server's clock
//! now against the message's `created_at_ms`; order comes from `seq`, never from timestamps.

use std::path::PathBuf;
use std::time::Duration;

use crate::crash::quipd;
use quip_sdk::protocol::family::messages::EditMessage;
use quip_sdk::{Client, ClientConfig, Direction, ErrorCode, Event, ReconnectPolicy, Trust};

/// libfaketime's thread-safe build, from Debian's `faketime` (scripts/setup installs it), or
/// `QUIP_TEST_LIBFAKETIME`.
fn libfaketime() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("QUIP_TEST_LIBFAKETIME") {
        return Some(path.into());
    }
    let lib = std::fs::read_dir("/usr/lib").ok()?.flatten().map(|e| e.path().join("faketime/libfaketimeMT.so.1"));
    lib.into_iter().find(|p| p.exists())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_sessions_and_order_hold_when_the_server_clock_steps() {
    let Some(lib) = libfaketime() else {
        assert!(std::env::var_os("CI").is_none(), "libfaketime is missing: run scripts/setup (Debian's faketime)");
        eprintln!("skipping: libfaketime not found (Debian package faketime; scripts/setup installs it)");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let offset = root.path().join("faketime");
    // Read on every clock call (no cache), so writing the file steps quipd's clock at once.
    std::fs::write(&offset, "+0").unwrap();
    let mut setup = quipd::Setup::new(env!("CARGO_BIN_EXE_quipd").into(), root.path(), "fsync");
    setup.env = vec![
        ("LD_PRELOAD".into(), lib.display().to_string()),
        ("FAKETIME_TIMESTAMP_FILE".into(), offset.display().to_string()),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
        ("DONT_FAKE_MONOTONIC".into(), "1".into()),
    ];
    let quipd = setup.start(None, 1).await.unwrap();
    let real_now = || quip_broker::now_ms() / 1000;
    // A client whose token is issued at `issued` (seconds) for an hour.
    let config = |user: &str, device: &str, issued: u64| {
        let token = setup.token_at(user, issued);
        let mut cfg = ClientConfig::new(quipd.addr, Trust::Fingerprint(quipd.fingerprint.clone()), token, device);
        cfg.request_timeout = Duration::from_secs(20);
        cfg.reconnect = ReconnectPolicy::disabled();
        cfg
    };
    let (alice, mut alice_events) = Client::connect(config("alice", "phone", real_now())).await.unwrap();
    let conv = alice.open_direct("bob", None).await.unwrap().conversation.id;
    let first = alice.send_message(conv, "before the step").await.unwrap();

    // Two hours ahead. The same token, presented again, has expired.
    std::fs::write(&offset, "+7200").unwrap();
    let err = Client::connect(config("alice", "laptop", real_now())).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenExpired, "{err}");
    // A token issued by the server's clock is fine, and what it sends carries the server's time.
    let (bob, _bob_events) = Client::connect(config("bob", "phone", real_now() + 7200)).await.unwrap();
    let ahead = bob.send_message(conv, "two hours ahead").await.unwrap();
    assert_eq!(ahead.seq, first.seq + 1);
    assert!(ahead.created_at_ms >= first.created_at_ms + 7_000_000, "timestamps follow the server's clock");
    // Alice's open session ends at its next wake-up (Bob's message), its token expired by that clock.
    loop {
        match alice_events.next_event_timeout(Duration::from_secs(20)).await.unwrap() {
            Event::Disconnected { reason, .. } => {
                assert!(format!("{reason:?}").contains("TokenExpired"), "{reason:?}");
                break;
            }
            _ => continue,
        }
    }
    // The edit window: closed for the message sent two (server) hours ago, open for the new one.
    let (alice, _alice_events) = Client::connect(config("alice", "laptop", real_now() + 7200)).await.unwrap();
    let edit = |id: u64, text: &str| EditMessage { message_id: id, text: text.into() };
    let err = alice.request(edit(first.message_id, "too late")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::EditWindowClosed, "{err}");
    bob.request(edit(ahead.message_id, "edited")).await.unwrap();

    // Two hours behind (of the real clock): tokens issued by either clock are valid by it, what is sent
    // now is stored after what came before although its timestamp is earlier, and a message stamped in
    // the server's future stays editable (its age counts from 0).
    std::fs::write(&offset, "-7200").unwrap();
    let behind = bob.send_message(conv, "two hours behind").await.unwrap();
    assert_eq!(behind.seq, ahead.seq + 1);
    assert!(behind.created_at_ms < first.created_at_ms, "the timestamp is the server's, stepped back");
    let (carol, _carol_events) = Client::connect(config("carol", "phone", real_now())).await.unwrap();
    carol.close().await;
    bob.request(edit(ahead.message_id, "edited again")).await.unwrap();
    let page = bob.history(conv, 0, Direction::Forward, 10).await.unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["before the step", "edited again", "two hours behind"]);

    for c in [alice, bob] {
        c.close().await;
    }
    quipd.kill().await.unwrap();
}
