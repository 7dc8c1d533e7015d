//! `GET /v1/stats`: connections, sessions, users online, messages per second, active conversations.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::state::{Admin, ok};

pub(super) async fn stats(State(admin): State<Admin>) -> Response {
    let hub = &admin.broker.hub;
    // Users online as presence counts them: a live session (or one lost within the grace period); a
    // gateway's passive sessions for HTTP requests do not make anyone online.
    let snapshot = admin.broker.stats.snapshot(hub.online_sessions(), admin.broker.presence.online_count());
    ok(StatusCode::OK, serde_json::to_value(snapshot).unwrap_or_default())
}
