//! The error reply: the answer to a failed request, or an error with no request.

use flatbuffers::WIPOffset;

use super::ErrorCode;
use crate::convert::{Fbb, enc_opt_str, max, opt_str, str_or_empty};
use crate::{DecodeError, fb};

/// The answer to a failed request, or an error with no request (request_id 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub code: ErrorCode,
    pub message: String,
    /// Retrying before this many milliseconds will fail again.
    pub retry_after_ms: Option<u32>,
    /// The offending field, where one is to blame.
    pub field: Option<String>,
}

impl ErrorReply {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after_ms: None, field: None }
    }

    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ErrorReply<'b>> {
        let message = Some(fbb.create_string(&self.message));
        let field = enc_opt_str(fbb, self.field.as_deref());
        fb::ErrorReply::create(
            fbb,
            &fb::ErrorReplyArgs {
                code: fb::ErrorCode(self.code.as_u16()),
                message,
                retry_after_ms: self.retry_after_ms.unwrap_or(0),
                field,
            },
        )
    }

    pub(crate) fn decode(t: fb::ErrorReply<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            code: ErrorCode::from_u16(t.code().0),
            message: str_or_empty(t.message(), "ErrorReply", "message", max::TEXT)?,
            retry_after_ms: Some(t.retry_after_ms()).filter(|ms| *ms > 0),
            field: opt_str(t.field(), "ErrorReply", "field", max::SHORT)?,
        })
    }
}

impl From<&DecodeError> for ErrorReply {
    fn from(e: &DecodeError) -> Self {
        ErrorReply::new(e.code(), e.to_string())
    }
}
