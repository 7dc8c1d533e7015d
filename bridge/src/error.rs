//! The bridge's errors: one JSON shape for Socket.IO acks, the `error` event and REST, and the HTTP status
//! each quip error code maps to.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quip_sdk::ErrorCode;
use serde_json::{Value, json};

/// An error as a web client sees it: a stable code name (quip's `ErrorCode` names, docs/PROTOCOL.md §7),
/// a human-readable message and, for `RateLimited`/`Unavailable`, when to retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<Duration>,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None, field: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|d| d.as_millis().div_ceil(1000).max(1) as u64)
    }

    /// `{code, message, retryAfter?, field?}` — the `error` object of acks, `error` events and REST.
    pub fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code.name(), "message": self.message });
        if let Some(secs) = self.retry_after_secs() {
            error["retryAfter"] = json!(secs);
        }
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        error
    }

    /// `{success: false, error: {...}}`.
    pub fn envelope(&self) -> Value {
        json!({ "success": false, "error": self.to_json() })
    }

    /// The HTTP status of this error's code.
    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }
}

/// The HTTP status for a quip error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::BadFrame | C::UnsupportedVersion | C::UnexpectedFrame | C::InvalidArgument | C::TooManyAttachments => {
            StatusCode::BAD_REQUEST
        }
        C::UnsupportedFrame => StatusCode::NOT_IMPLEMENTED,
        C::Unauthenticated
        | C::TokenInvalid
        | C::TokenExpired
        | C::TokenNotYetValid
        | C::WrongAudience
        | C::WrongIssuer
        | C::AlgorithmNotAllowed
        | C::TokenRevoked => StatusCode::UNAUTHORIZED,
        C::Forbidden | C::Blocked => StatusCode::FORBIDDEN,
        C::NotFound => StatusCode::NOT_FOUND,
        C::Conflict | C::EditWindowClosed => StatusCode::CONFLICT,
        C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::PayloadTooLarge | C::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::AttachmentNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::Unavailable | C::SlowConsumer => StatusCode::SERVICE_UNAVAILABLE,
        C::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<quip_sdk::Error> for ApiError {
    fn from(e: quip_sdk::Error) -> Self {
        let code = e.code();
        let retry_after = e.retry_after();
        let (message, field) = match e {
            quip_sdk::Error::Server { message, field, .. } => (message, field),
            quip_sdk::Error::Disconnected | quip_sdk::Error::Closed | quip_sdk::Error::Transport(_) => {
                ("the broker is unreachable; retry".to_owned(), None)
            }
            other => (other.to_string(), None),
        };
        Self { code, message, retry_after, field }
    }
}

impl From<quip_dialect::DialectError> for ApiError {
    /// A payload a dialect cannot map: `InvalidArgument`, naming the legacy field when one is to blame.
    fn from(e: quip_dialect::DialectError) -> Self {
        let mut error = Self::invalid(e.to_string());
        error.field = e.field().map(str::to_owned);
        error
    }
}

impl ApiError {
    /// This error as an HTTP response with `body` (the canonical envelope or a dialect's error body), its
    /// status, `Retry-After` and `WWW-Authenticate`.
    pub fn response_with(&self, body: Value) -> Response {
        let mut response = (self.status(), axum::Json(body)).into_response();
        response.extensions_mut().insert(Answered(self.code));
        if let Some(secs) = self.retry_after_secs() {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if self.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The code of an error answer, left in its HTTP response's extensions: the metrics layer
/// (`crate::telemetry::http`) counts every error response by it, whichever handler made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered(pub ErrorCode);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.response_with(self.envelope())
    }
}

/// Gives axum's own error answers — 405 for a route's wrong method, 413 past a body limit, 415, a body
/// an extractor refused — the JSON error envelope with a code, as every other error has. Their status
/// (and `Allow`) stays; the plain-text reason becomes the message. Answers that already are ours pass.
pub async fn envelope_plain_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.extensions().get::<Answered>().is_some() {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidArgument,
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if text.trim().is_empty() { reason.to_lowercase() } else { text.trim().to_owned() };
    let mut answer = ApiError::new(code, message).into_response();
    *answer.status_mut() = status;
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_statuses() {
        let cases = [
            (ErrorCode::InvalidArgument, 400),
            (ErrorCode::TokenExpired, 401),
            (ErrorCode::Unauthenticated, 401),
            (ErrorCode::Forbidden, 403),
            (ErrorCode::Blocked, 403),
            (ErrorCode::NotFound, 404),
            (ErrorCode::Conflict, 409),
            (ErrorCode::PayloadTooLarge, 413),
            (ErrorCode::RateLimited, 429),
            (ErrorCode::UnsupportedFrame, 501),
            (ErrorCode::Unavailable, 503),
            (ErrorCode::Internal, 500),
        ];
        for (code, status) in cases {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn rate_limits_carry_retry_after_in_seconds() {
        let mut e = ApiError::new(ErrorCode::RateLimited, "slow down");
        e.retry_after = Some(Duration::from_millis(1200));
        assert_eq!(e.retry_after_secs(), Some(2));
        assert_eq!(e.envelope()["error"]["retryAfter"], 2);
        assert_eq!(e.envelope()["error"]["code"], "RateLimited");
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
