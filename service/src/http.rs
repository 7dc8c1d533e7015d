//! Serving HTTP/1.1 (with upgrades: WebSocket) with what a listener open to strangers needs: a client
//! has `header_read_timeout` to send each request's head — one that drips headers, opens a connection and
//! says nothing, or keeps an idle keep-alive connection, is closed then — and at most `max_connections`
//! are served at once (a connection past it is closed at once, counted in
//! `quip_admission_refused_total{limit="listener_connections"}`).
//!
//! This is axum's `serve` with hyper's header timer switched on (axum's leaves it off). Concurrency: one
//! task per connection, held in a `JoinSet` so that aborting the serving task (the drain deadline passed)
//! ends every connection with it; a stop signal stops accepting and asks each connection to finish its
//! request in flight and close (hyper's graceful shutdown).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// How a listener serves its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client has to send a request's head.
    pub header_read_timeout: Duration,
    /// Connections served at once on this listener.
    pub max_connections: usize,
}

/// An operators' listener (metrics, health, admin API): scrapers and scripts, a few at a time.
pub const ADMIN_LIMITS: ServeLimits = ServeLimits { header_read_timeout: Duration::from_secs(10), max_connections: 64 };

/// Serves `router` on `listener` until `stop` turns true, then waits for the connections to finish.
pub async fn serve<L>(mut listener: L, router: Router, limits: ServeLimits, stop: watch::Receiver<bool>)
where
    L: Listener,
{
    let mut connections = JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let (io, _addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|s| *s) => break,
        };
        // Finished connections are reaped as new ones come, so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        if connections.len() >= limits.max_connections {
            metrics::counter!(crate::admission::REFUSED_METRIC, "limit" => "listener_connections").increment(1);
            tracing::debug!("connection refused: the listener serves its maximum");
            continue;
        }
        let service = router.clone().map_request(|req: axum::http::Request<Incoming>| req.map(Body::new));
        let mut stop = stop.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error while draining");
            }
        });
    }
    while connections.join_next().await.is_some() {}
}
