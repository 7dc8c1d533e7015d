//! `GET /v1/stats`: connections, sessions, users online, messages per second, active conversations.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::state::{Admin, ok};

pub(super) async fn stats(State(admin): State<Admin>) -> Response {
    let hub = &admin.broker.hub;
    let snapshot = admin.broker.stats.snapshot(hub.online_sessions(), hub.online_users());
    ok(StatusCode::OK, serde_json::to_value(snapshot).unwrap_or_default())
}
