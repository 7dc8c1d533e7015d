//! Admission: quipd holds at most `limits.max_connections` connections; one more is refused before its
//! handshake with QUIC's CONNECTION_REFUSED, counted by limit, and a slot is free again once a
//! connection closes.

use std::time::Duration;

use crate::common::{RawClient, TestBroker};

fn refused_count(text: &str) -> f64 {
    let series = "quip_admission_refused_total{limit=\"connections\"}";
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_past_the_limit_is_refused_with_connection_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::common::config(dir.path());
    cfg.limits.max_connections = 1;
    let broker = TestBroker::start_with(cfg).await;
    let cert = broker.cert_pem();

    let mut first = RawClient::connect_to(broker.addr, &cert).await;
    first.hello(&broker.token("alice"), "phone", None).await.unwrap();
    let (_, before) = broker.admin_call("GET", "/metrics", None, "").await;

    let second = RawClient::try_connect_to(broker.addr, &cert).await;
    match second {
        Err(quinn::ConnectionError::ConnectionClosed(close)) => {
            assert_eq!(close.error_code, quinn::TransportErrorCode::CONNECTION_REFUSED, "{close:?}");
        }
        Err(other) => panic!("refused with {other:?}, not CONNECTION_REFUSED"),
        Ok(_) => panic!("a second connection got in past max_connections = 1"),
    }
    let (_, after) = broker.admin_call("GET", "/metrics", None, "").await;
    assert!(refused_count(&after) >= refused_count(&before) + 1.0, "{after}");

    // Once the first connection is gone, its slot is free again.
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = RawClient::try_connect_to(broker.addr, &cert).await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut again = again.expect("the slot of a closed connection was never freed");
    again.hello(&broker.token("bob"), "phone", None).await.unwrap();
}
