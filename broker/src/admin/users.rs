//! A user's sessions: list them, disconnect one or all, revoke the tokens issued before a time.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quip_protocol::family::session::{CloseReason, Goodbye};
use serde::Deserialize;
use serde_json::json;

use super::state::{Admin, error, ok};
use crate::hub::Outbound;

/// `GET /v1/users/{user}/sessions`: the user's open sessions and their devices.
pub(super) async fn sessions(State(admin): State<Admin>, Path(user): Path<String>) -> Response {
    let list = admin.broker.hub.sessions_of(&user).map(|s| s.to_vec()).unwrap_or_default();
    let sessions: Vec<_> = list
        .iter()
        .map(|s| {
            json!({
                "session_id": s.session_id,
                "device_id": &*s.device_id,
                "gateway": s.gateway,
                "connected_at_ms": s.connected_at_ms,
            })
        })
        .collect();
    // `online`: as presence counts it (a live session, or one lost within the grace period; passive
    // sessions for HTTP requests alone never count), whatever status the user shows others.
    let online = admin.broker.presence.is_online(&user);
    ok(StatusCode::OK, json!({ "user_id": user, "online": online, "sessions": sessions }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Disconnect {
    /// One session; absent: every session of the user.
    #[serde(default)]
    session_id: Option<u64>,
    #[serde(default)]
    reason: String,
}

/// The JSON body, or the defaults for an empty one.
fn parse<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> Result<T, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
}

fn bad_json(e: &serde_json::Error) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidArgument", format!("bad JSON: {e}"))
}

/// Tells the user's sessions (or one of them) goodbye with `reason`; returns how many.
fn kick(admin: &Admin, user: &str, only: Option<u64>, reason: CloseReason, message: &str) -> usize {
    let Some(sessions) = admin.broker.hub.sessions_of(user) else { return 0 };
    let goodbye = Goodbye { reason, message: message.to_owned(), reconnect_after_ms: 0 };
    sessions
        .iter()
        .filter(|s| only.is_none_or(|id| s.session_id == id))
        .filter(|s| s.push(Outbound::Close(goodbye.clone())))
        .count()
}

/// `POST /v1/users/{user}/disconnect` `{"session_id"?, "reason"?}`: closes the sessions with Kicked.
pub(super) async fn disconnect(State(admin): State<Admin>, Path(user): Path<String>, body: Bytes) -> Response {
    let d: Disconnect = match parse(&body) {
        Ok(d) => d,
        Err(e) => return bad_json(&e),
    };
    let message = if d.reason.is_empty() { "disconnected by an administrator" } else { d.reason.as_str() };
    let n = kick(&admin, &user, d.session_id, CloseReason::Kicked, message);
    if d.session_id.is_some() && n == 0 {
        return error(StatusCode::NOT_FOUND, "NotFound", "no such session of this user");
    }
    tracing::info!(user = %user.escape_debug(), sessions = n, "admin: disconnected");
    ok(StatusCode::OK, json!({ "disconnected": n }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    /// Tokens issued before this time (ms since the epoch) are refused; absent: now.
    #[serde(default)]
    before_ms: Option<u64>,
}

/// `POST /v1/users/{user}/revoke` `{"before_ms"?}`: refuses the user's tokens issued before that time
/// from now on (also on refresh), and closes their open sessions with Revoked.
pub(super) async fn revoke(State(admin): State<Admin>, Path(user): Path<String>, body: Bytes) -> Response {
    let r: Revoke = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad_json(&e),
    };
    let before_ms = r.before_ms.unwrap_or_else(crate::now_ms);
    let store = admin.broker.store.clone();
    let who = user.clone();
    let written = tokio::task::spawn_blocking(move || store.revoke(&who, before_ms)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code().name(), e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()),
    }
    let n = kick(&admin, &user, None, CloseReason::Revoked, "your tokens were revoked; sign in again");
    tracing::info!(user = %user.escape_debug(), before_ms, sessions = n, "admin: tokens revoked");
    ok(StatusCode::OK, json!({ "revoked_before_ms": before_ms, "disconnected": n }))
}
