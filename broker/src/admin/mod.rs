//! The admin HTTP listener (axum), separate from client traffic and bound to loopback by default:
//! liveness and readiness probes, Prometheus metrics at `/metrics`, and the calls under `/v1/`, which need
//! `Authorization: Bearer <admin token>`: live stats (`stats.rs`), a user's sessions, disconnecting them
//! and revoking their tokens (`users.rs`), announcements (`broadcast.rs`), an app's own events to one
//! user (`events.rs`), and notifications, as the seeds' apps create them for orders and new chats
//! (`notifications.rs`).

mod broadcast;
mod events;
mod notifications;
mod state;
mod stats;
mod users;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::Broker;
use state::{Admin, error};

/// The admin routes.
pub fn router(broker: Arc<Broker>, token: &str) -> Router {
    let admin = Admin { broker, token: token.into() };
    let calls = Router::new()
        .route("/v1/stats", get(stats::stats))
        .route("/v1/users/{user}/sessions", get(users::sessions))
        .route("/v1/users/{user}/disconnect", post(users::disconnect))
        .route("/v1/users/{user}/revoke", post(users::revoke))
        .route("/v1/users/{user}/events", post(events::emit))
        .route("/v1/broadcast", post(broadcast::broadcast))
        .route("/v1/notifications", post(notifications::create))
        .route_layer(middleware::from_fn_with_state(admin.clone(), require_token));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .merge(calls)
        .with_state(admin)
}

/// Every `/v1/` call needs the admin bearer token.
async fn require_token(State(admin): State<Admin>, request: Request, next: Next) -> Response {
    if !authorized(request.headers(), &admin.token) {
        tracing::info!(path = %request.uri().path(), "admin: refused a call without a valid admin token");
        return error(StatusCode::UNAUTHORIZED, "Unauthenticated", "a valid admin bearer token is required");
    }
    next.run(request).await
}

async fn metrics_text(State(admin): State<Admin>) -> Response {
    metrics::gauge!("quip_online_users").set(admin.broker.hub.online_users() as f64);
    let memory = admin.broker.store.memory();
    for (part, bytes) in
        [("memtables", memory.memtables), ("block_cache", memory.block_cache), ("table_readers", memory.table_readers)]
    {
        metrics::gauge!("quip_store_memory_bytes", "part" => part).set(bytes as f64);
    }
    if let Some(heap) = crate::heap::now() {
        for (kind, bytes) in [("allocated", heap.allocated), ("resident", heap.resident), ("retained", heap.retained)] {
            metrics::gauge!("quip_heap_bytes", "kind" => kind).set(bytes as f64);
        }
    }
    ([("content-type", "text/plain; version=0.0.4")], crate::telemetry::render()).into_response()
}

async fn ready(State(admin): State<Admin>) -> Response {
    if admin.broker.draining.load(Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else if !admin.broker.store.writable() {
        (StatusCode::SERVICE_UNAVAILABLE, "the disk is full: free space, then restart").into_response()
    } else {
        "ready".into_response()
    }
}

/// Compares the bearer token in constant time.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}
