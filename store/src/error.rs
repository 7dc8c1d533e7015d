//! Why a store operation failed, and the protocol error code each failure maps to.

use quip_protocol::ErrorCode;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("storage error: {0}")]
    Db(String),
    #[error("corrupt record in {0}")]
    Corrupt(&'static str),
    #[error("the message can no longer be edited")]
    EditWindowClosed,
    #[error("blocked: {0}")]
    Blocked(&'static str),
    /// The disk is full. RocksDB then refuses every write until it is reopened: nothing more is stored
    /// until space is freed and quipd restarted (reads go on).
    #[error("the server's disk is full: nothing more can be stored until space is freed and the server restarted")]
    Full,
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::NotFound => ErrorCode::NotFound,
            StoreError::Forbidden(_) => ErrorCode::Forbidden,
            StoreError::Invalid(_) => ErrorCode::InvalidArgument,
            StoreError::Closed | StoreError::Full => ErrorCode::Unavailable,
            StoreError::EditWindowClosed => ErrorCode::EditWindowClosed,
            StoreError::Blocked(_) => ErrorCode::Blocked,
            StoreError::Db(_) | StoreError::Corrupt(_) => ErrorCode::StoreError,
        }
    }
}

impl From<rocksdb::Error> for StoreError {
    fn from(e: rocksdb::Error) -> Self {
        let message = e.into_string();
        if message.contains("No space left on device") { StoreError::Full } else { StoreError::Db(message) }
    }
}
