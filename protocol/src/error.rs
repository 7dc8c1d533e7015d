//! Decode errors. Incomplete input is not an error (see [`crate::FrameDecoder`]); everything here means
//! the peer sent something wrong, and says where and why.

use crate::ErrorCode;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The size prefix announces more than the allowed maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge { len: u64, max: u32 },
    /// The size prefix does not match the bytes given.
    #[error("size prefix says {declared} bytes but {actual} follow")]
    LengthMismatch { declared: u64, actual: u64 },
    /// The FlatBuffers verifier rejected the buffer; `detail` names the failing field path.
    #[error("invalid frame: {detail}")]
    Invalid { detail: String },
    /// A union tag this version does not know (sent by a newer peer), or NONE.
    #[error("unknown {union} variant {tag}")]
    UnknownVariant { union: &'static str, tag: u8 },
    /// An enum field holds a value this version does not know.
    #[error("{table}.{field}: unknown enum value {value}")]
    UnknownEnum { table: &'static str, field: &'static str, value: u64 },
    /// A field that must be present and non-empty is not.
    #[error("{table}.{field} is missing or empty")]
    MissingField { table: &'static str, field: &'static str },
    /// A string or list is longer than the protocol allows.
    #[error("{table}.{field} has {len} (bytes or items), more than the maximum {max}")]
    TooLong { table: &'static str, field: &'static str, len: usize, max: usize },
    /// An identifier holds a control character (a line break, say), which no identifier may.
    #[error("{table}.{field} holds a control character")]
    ControlCharacter { table: &'static str, field: &'static str },
}

impl DecodeError {
    /// The error code to answer the peer with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::FrameTooLarge { .. } => ErrorCode::FrameTooLarge,
            DecodeError::LengthMismatch { .. } | DecodeError::Invalid { .. } => ErrorCode::BadFrame,
            DecodeError::UnknownVariant { .. } => ErrorCode::UnsupportedFrame,
            DecodeError::UnknownEnum { .. }
            | DecodeError::MissingField { .. }
            | DecodeError::ControlCharacter { .. } => ErrorCode::InvalidArgument,
            DecodeError::TooLong { .. } => ErrorCode::PayloadTooLarge,
        }
    }
}

impl From<flatbuffers::InvalidFlatbuffer> for DecodeError {
    fn from(e: flatbuffers::InvalidFlatbuffer) -> Self {
        let detail = e.to_string();
        DecodeError::Invalid { detail: detail.trim_end().replace('\n', "; ") }
    }
}
