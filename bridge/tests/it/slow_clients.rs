//! Clients that hold connections without using them (issue 18, "Slow HTTP clients"): one that drips a
//! request's head, one that connects and says nothing, and one address opening more connections than it
//! may — each is closed (or refused), and a normal client is served all along.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Env;

/// Long enough for any timeout below to have fired several times over.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);

async fn slow_env() -> Env {
    Env::with_bridge(|cfg| {
        cfg.limits.header_read_timeout_ms = 500;
        cfg.limits.idle_timeout_ms = 1500;
        cfg.limits.max_connections_per_address = 3;
    })
    .await
}

/// Whether the server closed `s` (a read ends with EOF or an error) within [`CLOSED_WITHIN`], while the
/// client goes on writing `drip` (if any) every 100 ms.
async fn closed_by_server(s: &mut TcpStream, drip: Option<&[u8]>) -> bool {
    let deadline = tokio::time::Instant::now() + CLOSED_WITHIN;
    let mut buf = [0u8; 512];
    while tokio::time::Instant::now() < deadline {
        if let Some(bytes) = drip
            && s.write_all(bytes).await.is_err()
        {
            return true;
        }
        let read = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            return true;
        }
    }
    false
}

/// Whether one `GET /healthz` on a new connection is answered 200.
async fn healthy(env: &Env) -> bool {
    let Ok(mut s) = TcpStream::connect(env.bridge_addr).await else { return false };
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    match tokio::time::timeout(CLOSED_WITHIN, s.read(&mut buf)).await {
        Ok(Ok(n)) => buf[..n].starts_with(b"HTTP/1.1 200"),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drips_its_headers_is_closed() {
    let env = slow_env().await;
    let mut s = TcpStream::connect(env.bridge_addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    assert!(closed_by_server(&mut s, Some(b"X")).await, "a dripped request head keeps the connection open");
    assert!(healthy(&env).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_nothing_is_closed() {
    let env = slow_env().await;
    let mut s = TcpStream::connect(env.bridge_addr).await.unwrap();
    assert!(closed_by_server(&mut s, None).await, "a silent connection stays open");
    // After a request, an idle keep-alive connection is closed too.
    let mut s = TcpStream::connect(env.bridge_addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "served first");
    assert!(closed_by_server(&mut s, None).await, "an idle keep-alive connection stays open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_of_connections() {
    let env = slow_env().await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(env.bridge_addr).await.unwrap());
    }
    let mut extra = TcpStream::connect(env.bridge_addr).await.unwrap();
    let mut buf = [0u8; 16];
    let refused = tokio::time::timeout(CLOSED_WITHIN, extra.read(&mut buf)).await;
    assert!(matches!(refused, Ok(Ok(0) | Err(_))), "the fourth connection from one address is closed at once");
    drop(held);
    // The slots are given back: the address is served again.
    let mut ok = false;
    for _ in 0..50 {
        if healthy(&env).await {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "closed connections give their slots back");
}
