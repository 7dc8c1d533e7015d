//! What every request handler is given: who asks, where replies go, and the helpers they share.

use std::sync::Arc;

use bytes::Bytes;
use quip_protocol::{ErrorCode, ErrorReply, ServerBody};
use quip_store::StoreError;
use tokio::sync::{Semaphore, mpsc};

use crate::Broker;
use crate::session::ToWriter;
use crate::wire::frame;

/// Who is asking.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: String,
    pub device_id: Arc<str>,
    pub session_id: u64,
    /// The session came through a gateway (a multiplexed connection such as quip-bridge's): the
    /// bridge rate limits apply.
    pub gateway: bool,
}

/// What a handler hands back.
pub type Reply = Result<ServerBody, ErrorReply>;

/// Sends still waiting for their ack, per session.
pub const MAX_INFLIGHT_SENDS: usize = 256;

/// Everything a handler needs.
pub struct Ctx {
    pub broker: Arc<Broker>,
    pub who: SessionInfo,
    /// Encoded replies, written to the control stream by the session's reply writer.
    pub replies: mpsc::Sender<Bytes>,
    /// Requests for the session's event loop (sync, token expiry, close).
    pub to_writer: mpsc::Sender<ToWriter>,
    pub inflight: Arc<Semaphore>,
}

impl Ctx {
    pub async fn reply(&self, request_id: u64, reply: Reply) {
        let bytes = match reply {
            // request_id 0 asks for no reply (errors are still reported).
            Ok(_) if request_id == 0 => return,
            Ok(body) => frame(request_id, body),
            Err(e) => {
                metrics::counter!("quip_errors_total", "code" => e.code.name()).increment(1);
                frame(request_id, e)
            }
        };
        // The reply writer is gone only when the session is closing.
        let _ = self.replies.send(bytes).await;
    }

    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&quip_store::Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ErrorReply> {
        let store = self.broker.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ErrorReply::new(ErrorCode::Internal, e.to_string()))?
            .map_err(|e| store_error(&e))
    }

    /// Refuses unless the caller is a member of `conv` (NotFound when it does not exist for them).
    pub async fn require_member(&self, conv: u64) -> Result<quip_store::model::MemberRec, ErrorReply> {
        let user = self.who.user.clone();
        self.blocking(move |s| s.member(conv, &user))
            .await?
            .ok_or_else(|| ErrorReply::new(ErrorCode::NotFound, "no such conversation"))
    }
}

/// The answer to a failed store operation. What RocksDB said (file paths included) goes to the log, not
/// to the client.
pub fn store_error(e: &StoreError) -> ErrorReply {
    if matches!(e, StoreError::Db(_) | StoreError::Corrupt(_)) {
        tracing::error!(error = %e, "store error");
        return ErrorReply::new(e.code(), "the server's store failed (the details are in its log)");
    }
    ErrorReply::new(e.code(), e.to_string())
}

pub fn invalid(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorCode::InvalidArgument, message)
}
