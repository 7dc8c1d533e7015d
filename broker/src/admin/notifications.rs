//! `POST /v1/notifications`: the server-side call apps make to notify a user.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::state::{Admin, error, ok};
use crate::notify::NotificationRec;

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

/// `POST /v1/notifications`: adds a notification to a user's feed (live to their devices).
pub(super) async fn create(State(admin): State<Admin>, body: Bytes) -> Response {
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
        Ok((id, unread)) => ok(StatusCode::CREATED, json!({ "id": id, "unread_total": unread })),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.code().name(), e.to_string()),
    }
}
