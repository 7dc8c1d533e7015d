//! The one error type of the SDK.

use std::time::Duration;

use quip_protocol::family::session::CloseReason;
use quip_protocol::{ErrorCode, ErrorReply};

/// What went wrong with a request or with the connection.
///
/// `Clone` so that one terminal error (e.g. a revoked token) can be handed to every caller still waiting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker answered with an `ErrorReply`.
    #[error("server error {code}: {message}")]
    Server {
        code: ErrorCode,
        message: String,
        /// Retrying before this long will fail again (`RateLimited`, `Unavailable`).
        retry_after: Option<Duration>,
        /// The offending request field, when one is to blame.
        field: Option<String>,
    },
    /// The connection dropped while the request was in flight (only non-send requests fail this way; sends
    /// are re-sent after the reconnect).
    #[error("disconnected from the broker")]
    Disconnected,
    /// No answer within `ClientConfig::request_timeout` (or the connection attempt took longer).
    #[error("timed out")]
    Timeout,
    /// The client was closed, or gave up reconnecting.
    #[error("the client is closed")]
    Closed,
    /// The broker ended the session for good (`Kicked`, `Replaced`).
    #[error("the broker closed the session ({reason:?}): {message}")]
    Goodbye { reason: CloseReason, message: String },
    /// The configuration cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// QUIC or TLS failed (unreachable server, wrong certificate, connection lost during the handshake).
    #[error("transport: {0}")]
    Transport(String),
    /// The broker sent something this SDK does not understand where it expected something else.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The request would exceed the broker's maximum frame size (`Welcome.max_frame_size`); it was not sent.
    #[error("request of {size} bytes exceeds the broker's maximum frame size of {max}")]
    FrameTooLarge { size: usize, max: u32 },
}

/// `e` and its sources, `: `-separated, skipping a source that repeats its parent: quinn's stream errors
/// say "connection lost" and keep why (a stateless reset, an idle timeout) in their source.
pub(crate) fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

impl Error {
    /// The protocol error code this error corresponds to: the broker's code for [`Error::Server`], and the
    /// nearest code for local errors (`Timeout` for [`Error::Timeout`], `Unavailable` for a lost or closed
    /// connection, `PayloadTooLarge`, `BadFrame`, `InvalidArgument`).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Server { code, .. } => *code,
            Error::Timeout => ErrorCode::Timeout,
            Error::Disconnected | Error::Closed | Error::Transport(_) => ErrorCode::Unavailable,
            Error::Goodbye { reason, .. } => match reason {
                CloseReason::TokenExpired => ErrorCode::TokenExpired,
                CloseReason::Revoked => ErrorCode::TokenRevoked,
                _ => ErrorCode::Unavailable,
            },
            Error::Config(_) => ErrorCode::InvalidArgument,
            Error::Protocol(_) => ErrorCode::BadFrame,
            Error::FrameTooLarge { .. } => ErrorCode::PayloadTooLarge,
        }
    }

    /// True for authentication failures (codes 2000–2007): a new token is needed before reconnecting.
    pub fn is_auth(&self) -> bool {
        is_auth_code(self.code())
    }

    /// How long to wait before retrying, when the broker said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when reconnecting cannot help: a refused token, an unsupported protocol version, a bad
    /// configuration, or a session the broker ended for good.
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            Error::Server { code, .. } => is_auth_code(*code) || *code == ErrorCode::UnsupportedVersion,
            Error::Config(_) | Error::Goodbye { .. } | Error::Closed => true,
            _ => false,
        }
    }
}

/// Authentication codes are the 2xxx class.
pub(crate) fn is_auth_code(code: ErrorCode) -> bool {
    code.as_u16() / 1000 == 2
}

impl From<ErrorReply> for Error {
    fn from(e: ErrorReply) -> Self {
        Error::Server {
            code: e.code,
            message: e.message,
            retry_after: e.retry_after_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(u64::from(ms))),
            field: e.field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_replies_keep_code_retry_and_field() {
        let mut reply = ErrorReply::new(ErrorCode::RateLimited, "slow down");
        reply.retry_after_ms = Some(1500);
        reply.field = Some("text".into());
        let e = Error::from(reply);
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert!(!e.is_auth());
        assert!(!e.is_permanent());
        assert!(matches!(e, Error::Server { field: Some(ref f), .. } if f == "text"));
    }

    #[test]
    fn auth_codes_are_permanent() {
        for code in [ErrorCode::TokenExpired, ErrorCode::TokenInvalid, ErrorCode::TokenRevoked] {
            let e = Error::from(ErrorReply::new(code, "no"));
            assert!(e.is_auth() && e.is_permanent(), "{code}");
        }
        assert!(Error::from(ErrorReply::new(ErrorCode::UnsupportedVersion, "v")).is_permanent());
        assert!(!Error::Transport("x".into()).is_permanent());
        assert!(!Error::Disconnected.is_permanent());
        assert_eq!(Error::Timeout.code(), ErrorCode::Timeout);
        let revoked = Error::Goodbye { reason: CloseReason::Revoked, message: String::new() };
        assert!(revoked.is_auth());
    }
}
