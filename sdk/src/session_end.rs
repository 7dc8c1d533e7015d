//! Why a session ended: what the connection task and the event loop of a session report to each other.

use quip_protocol::family::session::Goodbye;

use crate::transport::CloseInfo;

/// Why a session ended.
#[derive(Debug)]
pub(crate) enum SessionEnd {
    Goodbye(Goodbye),
    Lost {
        detail: String,
        info: Option<CloseInfo>,
    },
    /// `close()` was called or every `Client` was dropped.
    ClientClosed,
}

impl SessionEnd {
    pub(crate) fn lost(detail: impl Into<String>) -> Self {
        SessionEnd::Lost { detail: detail.into(), info: None }
    }
}
