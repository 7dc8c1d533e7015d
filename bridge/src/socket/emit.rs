//! Emitting to a socket with a bounded wait: while the socket's send buffer is full the emit retries, and a
//! socket that stays stuck for [`STUCK_AFTER`] is disconnected rather than buffered. [`emit_as`] emits a
//! canonical server event in the socket's dialect.

use std::time::Duration;

use serde_json::Value;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError};

use super::session::Memory;
use quip_dialect::{Ctx, Dialect, Outbound, RoomKind};

/// How long an emit waits for room in a socket's send buffer before the socket is dropped as stuck.
const STUCK_AFTER: Duration = Duration::from_secs(15);
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Emits one event (`None`: with no argument); false when the socket is gone or stuck (then disconnected).
pub async fn emit<T: serde::Serialize + ?Sized>(s: &SocketRef, event: &str, data: Option<&T>) -> bool {
    let mut waited = Duration::ZERO;
    loop {
        let sent = match data {
            Some(data) => s.emit(event, data),
            None => s.emit(event, &()),
        };
        match sent {
            Ok(()) => {
                crate::telemetry::event_out();
                return true;
            }
            Err(SendError::Socket(SocketError::InternalChannelFull)) if waited < STUCK_AFTER => {
                crate::telemetry::emit_wait();
                tokio::time::sleep(RETRY_EVERY).await;
                waited += RETRY_EVERY;
            }
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                tracing::info!(socket = %s.id, "disconnecting a socket that stopped reading");
                let _ = s.clone().disconnect();
                return false;
            }
            Err(SendError::Socket(SocketError::Closed)) => return false,
            Err(e) => {
                tracing::warn!(socket = %s.id, event = %event, error = %e, "cannot emit");
                return true;
            }
        }
    }
}

/// Emits canonical server event `name` as `dialect`'s events for the user in `ctx`; events of a
/// conversation room only when this socket joined the conversation. False when the socket is gone.
pub(crate) async fn emit_as(
    s: &SocketRef,
    memory: &Memory,
    dialect: &Dialect,
    ctx: &Ctx,
    name: &str,
    payload: &Value,
) -> bool {
    for out in dialect.outbound_with(ctx, name, payload) {
        if !reaches(memory, &out) {
            continue;
        }
        if !emit(s, &out.event, out.payload.as_ref()).await {
            return false;
        }
    }
    true
}

/// A conversation room's event reaches only sockets that joined the conversation.
fn reaches(memory: &Memory, out: &Outbound) -> bool {
    match &out.room {
        Some(room) if room.kind == RoomKind::Conversation => memory.has_joined(&room.id),
        _ => true,
    }
}
