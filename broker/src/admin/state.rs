//! What every admin handler shares: the broker and the token, and the JSON envelopes they answer with.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Broker;

#[derive(Clone)]
pub(super) struct Admin {
    pub(super) broker: Arc<Broker>,
    pub(super) token: Arc<str>,
}

/// A JSON success envelope.
pub(super) fn ok(status: StatusCode, data: serde_json::Value) -> Response {
    (status, axum::Json(json!({ "success": true, "data": data }))).into_response()
}

/// A JSON error envelope.
pub(super) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "success": false, "error": { "code": code, "message": message.into() } })))
        .into_response()
}
