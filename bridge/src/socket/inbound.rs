//! Incoming events: one handler for every event name on every listener, run for one event of a socket
//! at a time in arrival order (`super::ordered`). The event goes through the
//! listener's dialect ([`Dialect::inbound`]; the canonical one passes it unchanged), the canonical
//! operation runs (found in [`ops::OPERATIONS`]), and [`answer`] — the one way out, where errors are
//! counted — answers as the dialect says ([`Dialect::reply`], [`Dialect::reply_error`]: an ack callback
//! value, reply events, the app's error event). Where the dialect says nothing (always, for the
//! canonical one) the ack gets `{success, data}` or `{success: false, error}`, and a failed request
//! without an ack callback gets an `error` event.

use std::sync::Arc;

use quip_sdk::ErrorCode;
use serde_json::{Value, json};
use socketioxide::extract::{AckSender, SocketRef};

use super::emit::emit;
use super::session::SocketSession;
use crate::error::ApiError;
use crate::json::Args;
use crate::ops::{self, Connection, Input, Operation, Outcome};
use quip_dialect::{Ctx, Dialect, Inbound};

/// Handles one event to its answer (run by the socket's queue, `super::ordered`, one event at a time).
pub(super) async fn handle(
    s: SocketRef,
    event: String,
    payload: Value,
    ack: AckSender,
    wanted: bool,
    dialect: Arc<Dialect>,
) {
    let Some(session) = s.extensions.get::<SocketSession>() else {
        let e = ApiError::new(ErrorCode::Unavailable, "the socket has no upstream session");
        answer(&s, &dialect, &event, &Ctx::now(), None, Err(e), ack, wanted).await;
        return;
    };
    let ctx = Ctx::for_user(session.user_id.clone());
    let inbound = match dialect.inbound(&event, payload) {
        Ok(inbound) => inbound,
        Err(e) => {
            crate::telemetry::event_in("unknown");
            answer(&s, &dialect, &event, &ctx, None, Err(ApiError::from(e)), ack, wanted).await;
            return;
        }
    };
    crate::telemetry::event_in(&inbound.canonical);
    let result = match ops::find(&inbound.canonical) {
        Some(op) => run(op, &session, &inbound).await,
        None => Err(ApiError::invalid(format!("unknown event `{}` (see docs/BRIDGE.md)", inbound.canonical))),
    };
    answer(&s, &dialect, &event, &ctx, Some(&inbound), result, ack, wanted).await;
}

/// Runs the operation for this socket's session, with its memory as the connection.
async fn run(op: &Operation, session: &SocketSession, inbound: &Inbound) -> Outcome {
    let connection: &dyn Connection = &*session.memory;
    let input = Input {
        client: &session.client,
        args: Args::from_value(inbound.payload.clone())?,
        connection: Some(connection),
    };
    op.run(&input).await
}

/// Answers a request. Success: the dialect's callback value (or the canonical ack) when the client passed
/// a callback, then the dialect's reply events. Failure (counted here): the dialect's error callback (or
/// the canonical error ack) when the client passed a callback, else the dialect's error event (or the
/// canonical `error` event).
#[allow(clippy::too_many_arguments)]
pub(super) async fn answer(
    s: &SocketRef,
    dialect: &Dialect,
    event: &str,
    ctx: &Ctx,
    inbound: Option<&Inbound>,
    result: Outcome,
    ack: AckSender,
    wanted: bool,
) {
    let error = match result {
        Ok(data) => {
            let reply = inbound.map(|i| dialect.reply(i, ctx, &data)).unwrap_or_default();
            if wanted {
                let value = reply.callback.unwrap_or_else(|| json!({ "success": true, "data": data }));
                send_ack(s, event, ack, &value);
            }
            for out in &reply.emits {
                emit(s, &out.event, out.payload.as_ref()).await;
            }
            return;
        }
        Err(error) => error,
    };
    crate::telemetry::error(error.code.name());
    let reply = dialect.reply_error(inbound, event, ctx, &error.to_json());
    if wanted {
        send_ack(s, event, ack, &reply.callback.unwrap_or_else(|| error.envelope()));
        return;
    }
    if reply.emits.is_empty() {
        let mut canonical = error.to_json();
        canonical["event"] = json!(event);
        emit(s, "error", Some(&canonical)).await;
    }
    for out in &reply.emits {
        emit(s, &out.event, out.payload.as_ref()).await;
    }
}

fn send_ack(s: &SocketRef, event: &str, ack: AckSender, value: &Value) {
    if let Err(e) = ack.send(value) {
        tracing::debug!(socket = %s.id, event = %event, error = %e, "ack not sent");
    }
}
