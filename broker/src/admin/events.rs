//! `POST /v1/users/{user}/events` `{"event", "data"?}`: an event of the app's own (its backend's
//! `sendToUser(userId, 'custom:event', data)`) to every live session of one user, as an `AppEvent`. Live
//! only, like the Socket.IO emit it replaces: a user with no session gets nothing, and the answer says
//! how many sessions it reached.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quip_protocol::family::session::AppEvent;
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::{Admin, error, ok};
use crate::hub::Outbound;
use crate::wire::frame;

/// Longest event name, in bytes.
const MAX_NAME: usize = 64;
/// Largest data, as JSON text.
const MAX_DATA: usize = 64 * 1024;
/// Names Socket.IO reserves for itself (a client could not listen for them).
const RESERVED: &[&str] = &["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Emit {
    event: String,
    #[serde(default)]
    data: Value,
}

/// Why `name` cannot be an app event's name.
fn bad_name(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Some(format!("event must be 1 to {MAX_NAME} bytes"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.' | '/')) {
        return Some("event may hold letters, digits and : _ - . / only".to_owned());
    }
    RESERVED.contains(&name).then(|| format!("{name} is reserved by Socket.IO"))
}

pub(super) async fn emit(State(admin): State<Admin>, Path(user): Path<String>, body: Bytes) -> Response {
    let e: Emit = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidArgument", format!("bad JSON: {e}")),
    };
    if let Some(why) = bad_name(&e.event) {
        return error(StatusCode::BAD_REQUEST, "InvalidArgument", why);
    }
    let data = e.data.to_string();
    if data.len() > MAX_DATA {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", format!("data is over {MAX_DATA} bytes"));
    }
    let out = Outbound::Event(frame(0, AppEvent { name: e.event, data, at_ms: crate::now_ms() }));
    let sessions = admin.broker.hub.deliver(std::slice::from_ref(&user), &out);
    tracing::info!(user = %user.escape_debug(), sessions, "admin: app event sent");
    ok(StatusCode::OK, json!({ "sessions": sessions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_plain_and_not_socket_io_s_own() {
        assert_eq!(bad_name("order:updated"), None);
        assert_eq!(bad_name("custom:event"), None);
        assert!(bad_name("").is_some());
        assert!(bad_name("connect").is_some());
        assert!(bad_name("a b").is_some());
        assert!(bad_name("x\n").is_some());
        assert!(bad_name(&"a".repeat(65)).is_some());
    }
}
