//! Conformance mode (`quip-bridge conformance`): the bridge's Socket.IO stack with the handlers the
//! official test suites expect — socketio/socket.io-protocol and socketio/engine.io-protocol, folder
//! `test-suite` — on one HTTP listener (`localhost:3000` is where the suites look):
//!
//! - Socket.IO at `/socket.io/`: namespaces `/` and `/custom`; on connect each emits `auth` with the
//!   handshake's auth payload; `message` is echoed as `message-back`, `message-with-ack` is answered
//!   through its ack with the same arguments.
//! - Raw Engine.IO at `/engine.io/`: every text or binary packet is echoed.
//! - The suites' timings: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000 bytes, and a
//!   connection without a Socket.IO handshake closed after 1 s.
//!
//! socketioxide sends its first ping right after the handshake; the protocol (and the suites) expect the
//! first one after pingInterval. [`timing`] holds the early ping back (and lets a concurrent poll see a
//! pushed close), so clients see the reference server's timing.

mod args;
mod handlers;
mod settings;
mod timing;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use engineioxide::config::EngineIoConfig;
use engineioxide::layer::EngineIoLayer;
use socketioxide::SocketIo;
use tokio::net::TcpListener;

pub use settings::{CONNECT_TIMEOUT, MAX_PAYLOAD, PING_INTERVAL, PING_TIMEOUT};

/// The Socket.IO and Engine.IO services with the suites' handlers, before the timing fixes.
fn protocol_router() -> Router {
    let (socketio, io) = SocketIo::builder()
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .max_payload(MAX_PAYLOAD)
        .connect_timeout(CONNECT_TIMEOUT)
        .ack_timeout(PING_TIMEOUT)
        .build_layer();
    handlers::install(&io);
    let engine_config = EngineIoConfig::builder()
        .req_path("/engine.io")
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .max_payload(MAX_PAYLOAD)
        .build();
    let engine = EngineIoLayer::from_config(Arc::new(handlers::Echo), engine_config);
    Router::new().layer(engine).layer(socketio)
}

/// Serves conformance mode on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let inner = protocol_router();
    // The WebSocket relay of `timing` reaches the same services through a loopback listener of
    // their own (the sessions are shared: an upgrade from polling still lands on the right socket).
    let internal = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let internal_addr = internal.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let internal_task = {
        let inner = inner.clone();
        let mut stop = stop_rx;
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            axum::serve(internal, inner).with_graceful_shutdown(stopped).await
        })
    };
    let public = timing::layer(inner, internal_addr);
    let served = axum::serve(listener, public)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await;
    let _ = internal_task.await;
    served
}
