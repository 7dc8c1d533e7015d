//! `POST /v1/broadcast` `{"text", "conversation_id"?}`: an announcement to every connected session, or
//! to the online members of one conversation.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use quip_protocol::family::session::Announcement;
use serde::Deserialize;
use serde_json::json;

use super::state::{Admin, error, ok};
use crate::hub::Outbound;
use crate::wire::frame;

/// Longest announcement text, in bytes.
const MAX_TEXT: usize = 4096;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Broadcast {
    text: String,
    #[serde(default)]
    conversation_id: u64,
}

pub(super) async fn broadcast(State(admin): State<Admin>, body: Bytes) -> Response {
    let b: Broadcast = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidArgument", format!("bad JSON: {e}")),
    };
    if b.text.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "InvalidArgument", "text is required");
    }
    if b.text.len() > MAX_TEXT {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", format!("text is over {MAX_TEXT} bytes"));
    }
    let out = Outbound::Event(frame(
        0,
        Announcement { text: b.text, conversation_id: b.conversation_id, at_ms: crate::now_ms() },
    ));
    let hub = &admin.broker.hub;
    let sessions = if b.conversation_id == 0 {
        hub.deliver_all(&out)
    } else {
        let store = admin.broker.store.clone();
        let conv = b.conversation_id;
        let members = match tokio::task::spawn_blocking(move || store.members(conv)).await {
            Ok(Ok(m)) if !m.is_empty() => m.into_iter().map(|(u, _)| u).collect::<Vec<_>>(),
            Ok(Ok(_)) => return error(StatusCode::NOT_FOUND, "NotFound", "no such conversation"),
            Ok(Err(e)) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code().name(), e.to_string()),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()),
        };
        hub.deliver(&members, &out)
    };
    tracing::info!(sessions, conversation = b.conversation_id, "admin: announcement sent");
    ok(StatusCode::OK, json!({ "sessions": sessions }))
}
