//! Socket.IO on a dialect's listener: a legacy event goes through [`Dialect::inbound`], the canonical
//! operation runs, and the answer goes back as the dialect says ([`Dialect::reply`],
//! [`Dialect::reply_error`]: an ack callback value, reply events, the app's error event). Canonical server
//! events go out through [`Dialect::outbound_with`], enriched first with what legacy payloads name (the
//! message a receipt reached, display names: [`enrich`]), and conversation-room events only to sockets
//! that joined.

use std::sync::Arc;

use quip_sdk::ErrorCode;
use serde_json::{Value, json};
use socketioxide::extract::{AckSender, SocketRef};

use super::emit::{emit, emit_as};
use super::enrich;
use super::session::SocketSession;
use crate::dialect::{Ctx, Dialect, Inbound, canonical};
use crate::error::ApiError;
use crate::json::Args;
use crate::ops;

/// Handles one legacy client event.
pub(crate) async fn on_event(
    s: SocketRef,
    event: String,
    payload: Value,
    ack: AckSender,
    wanted: bool,
    dialect: Arc<Dialect>,
) {
    let Some(session) = s.extensions.get::<SocketSession>() else {
        let e = ApiError::new(ErrorCode::Unavailable, "the socket has no upstream session");
        answer_error(&s, &dialect, None, &event, &Ctx::now(), &e, ack, wanted).await;
        return;
    };
    let ctx = Ctx::for_user(session.user_id.clone());
    let inbound = match dialect.inbound(&event, payload) {
        Ok(inbound) => inbound,
        Err(e) => {
            crate::telemetry::event_in("unknown");
            answer_error(&s, &dialect, None, &event, &ctx, &ApiError::from(e), ack, wanted).await;
            return;
        }
    };
    crate::telemetry::event_in(&inbound.canonical);
    match run(&session, &inbound.canonical, inbound.payload.clone()).await {
        Ok(data) => {
            let reply = dialect.reply(&inbound, &ctx, &data);
            if wanted {
                let value = reply.callback.unwrap_or_else(|| json!({ "success": true, "data": data }));
                if let Err(e) = ack.send(&value) {
                    tracing::debug!(socket = %s.id, event = %event, error = %e, "ack not sent");
                }
            }
            for out in &reply.emits {
                emit(&s, &out.event, out.payload.as_ref()).await;
            }
        }
        Err(e) => answer_error(&s, &dialect, Some(&inbound), &event, &ctx, &e, ack, wanted).await,
    }
}

/// A failed request: the dialect's error callback (or the canonical error ack) when the client passed a
/// callback, else the dialect's error event (or the canonical `error` event).
#[allow(clippy::too_many_arguments)]
async fn answer_error(
    s: &SocketRef,
    dialect: &Dialect,
    inbound: Option<&Inbound>,
    event: &str,
    ctx: &Ctx,
    error: &ApiError,
    ack: AckSender,
    wanted: bool,
) {
    crate::telemetry::error(error.code.name());
    let reply = dialect.reply_error(inbound, event, ctx, &error.to_json());
    if wanted {
        if let Err(e) = ack.send(&reply.callback.unwrap_or_else(|| error.envelope())) {
            tracing::debug!(socket = %s.id, event = %event, error = %e, "ack not sent");
        }
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

/// Runs canonical operation `op` for a dialect socket: joining and leaving conversation rooms and naming
/// calls by their conversation happen here; the rest is [`ops::run`].
async fn run(session: &SocketSession, op: &str, payload: Value) -> Result<Value, ApiError> {
    let client = &session.client;
    let mut args = Args::from_value(payload)?;
    match op {
        canonical::op::CONVERSATION_JOIN => {
            let many = args.get("conversationIds").is_some();
            let ids = if many { args.u64_list("conversationIds")? } else { vec![args.id("conversationId")?] };
            let mut conversations = Vec::new();
            for id in ids {
                let mut one = Args::default();
                one.set("conversationId", id);
                conversations.push(ops::run(client, "conversation:get", &one).await?);
                session.memory.join(id);
            }
            if many {
                Ok(json!({ "conversations": conversations }))
            } else {
                Ok(conversations.pop().unwrap_or_else(|| json!({})))
            }
        }
        canonical::op::CONVERSATION_LEAVE => {
            session.memory.leave(args.id("conversationId")?);
            Ok(json!({}))
        }
        canonical::op::CALL_ACCEPT | canonical::op::CALL_REJECT | canonical::op::CALL_END | canonical::op::CALL_ICE
            if args.get("callId").is_none() =>
        {
            let conversation_id = args.id("conversationId")?;
            let call_id = session
                .memory
                .call_in(conversation_id)
                .ok_or_else(|| ApiError::not_found("no call is ringing or active in this conversation"))?;
            args.set("callId", call_id);
            let result = ops::run(client, op, &args).await?;
            if op == canonical::op::CALL_REJECT || op == canonical::op::CALL_END {
                session.memory.set_call(conversation_id, None);
            }
            Ok(result)
        }
        canonical::op::CALL_INVITE => {
            let call = ops::run(client, op, &args).await?;
            enrich::remember_call(&session.memory, &call);
            Ok(call)
        }
        _ if canonical::is_operation(op) => ops::run(client, op, &args).await,
        other => Err(ApiError::invalid(format!("unknown operation `{other}`"))),
    }
}

/// Emits one canonical server event as the dialect's legacy events; false when the socket is gone.
/// What later events need is remembered first; events the dialect enriches go through
/// [`enrich::deliver`], which never waits on quipd.
pub(crate) async fn deliver(
    s: &SocketRef,
    session: &SocketSession,
    dialect: &Arc<Dialect>,
    name: &'static str,
    payload: Value,
) -> bool {
    enrich::remember(&session.memory, dialect, name, &payload);
    if enrich::wanted(dialect, name) {
        return enrich::deliver(s, session, dialect, name, payload).await;
    }
    let ctx = Ctx::for_user(session.user_id.clone());
    emit_as(s, &session.memory, dialect, &ctx, name, &payload).await
}
