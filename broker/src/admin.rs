//! The admin HTTP listener (axum), separate from client traffic and bound to loopback by default:
//! liveness and readiness probes, Prometheus metrics at `/metrics`, and the server-side calls apps make (creating a user's notification,
//! as the seeds' apps do for orders and new chats). Calls under `/v1/` need `Authorization: Bearer
//! <admin token>`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::Broker;
use crate::notify::NotificationRec;

#[derive(Clone)]
struct Admin {
    broker: Arc<Broker>,
    token: Arc<str>,
}

/// The admin routes.
pub fn router(broker: Arc<Broker>, token: &str) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/v1/notifications", post(create_notification))
        .with_state(Admin { broker, token: token.into() })
}

async fn metrics_text(State(admin): State<Admin>) -> Response {
    metrics::gauge!("quip_online_users").set(admin.broker.hub.online_users() as f64);
    ([("content-type", "text/plain; version=0.0.4")], crate::telemetry::render()).into_response()
}

async fn ready(State(admin): State<Admin>) -> Response {
    if admin.broker.draining.load(Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "success": false, "error": { "code": code, "message": message.into() } })))
        .into_response()
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNotification {
    user_id: String,
    #[serde(alias = "type")]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    data: std::collections::BTreeMap<String, String>,
}

async fn create_notification(State(admin): State<Admin>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&headers, &admin.token) {
        tracing::info!("admin: refused a call without a valid admin token");
        return error(StatusCode::UNAUTHORIZED, "Unauthenticated", "a valid admin bearer token is required");
    }
    let n: NewNotification = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidArgument", format!("bad JSON: {e}")),
    };
    if n.user_id.is_empty() || n.user_id.len() > 128 || n.kind.is_empty() || n.kind.len() > 256 {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "user_id and kind are required (user_id at most 128 bytes)",
        );
    }
    if n.title.len() + n.body.len() + n.link.len() > 64 * 1024 || n.data.len() > 64 {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", "notification too large");
    }
    let rec = NotificationRec {
        id: 0,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        data: n.data.into_iter().collect(),
        created_at_ms: crate::now_ms(),
        read_at_ms: 0,
    };
    match admin.broker.notifier.create(n.user_id, rec).await {
        Ok((id, unread)) => {
            (StatusCode::CREATED, axum::Json(json!({ "success": true, "data": { "id": id, "unread_total": unread } })))
                .into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.code().name(), e.to_string()),
    }
}
