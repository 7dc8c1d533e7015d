//! Incoming events: one handler for every event name. On the canonical vocabulary the event names the
//! operation, it runs, and the outcome goes back as the ack (`{success, data}` or `{success: false,
//! error}`) or, when the client asked for no ack, as an `error` event on failure. On a dialect's listener
//! the event goes through the dialect instead ([`super::legacy`]).

use std::convert::Infallible;
use std::sync::Arc;

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{FromMessageParts, Value as PacketValue};
use socketioxide::socket::Socket;
use tracing::Instrument;

use super::emit::emit;
use super::session::SocketSession;
use crate::app::App;
use crate::error::ApiError;
use crate::json::Args;
use crate::ops;

/// Whether the client passed an ack callback with the event.
pub(crate) struct AckWanted(bool);

impl<A: Adapter> FromMessageParts<A> for AckWanted {
    type Error = Infallible;

    fn from_message_parts(_: &Arc<Socket<A>>, _: &mut PacketValue, ack_id: &Option<i64>) -> Result<Self, Infallible> {
        Ok(Self(ack_id.is_some()))
    }
}

/// The room a socket joins with `conversation:join` (fan-out does not use it: quipd delivers per user).
pub fn room(conversation_id: u64) -> String {
    format!("conversation:{conversation_id}")
}

pub(crate) async fn on_event(
    s: SocketRef,
    Event(name): Event,
    TryData(payload): TryData<Value>,
    ack: AckSender,
    AckWanted(wanted): AckWanted,
    State(app): State<App>,
) {
    let span = tracing::info_span!("socket", id = %s.id, event = %name);
    handle_event(s, name, payload.unwrap_or(Value::Null), ack, wanted, app).instrument(span).await;
}

async fn handle_event(s: SocketRef, name: String, payload: Value, ack: AckSender, wanted: bool, app: App) {
    if !app.dialect().is_identity() {
        super::legacy::on_event(s, name, payload, ack, wanted, app.dialect().clone()).await;
        return;
    }
    crate::telemetry::event_in(&name);
    let result = handle(&s, &name, payload).await;
    if let Err(e) = &result {
        crate::telemetry::error(e.code.name());
    }
    if wanted {
        let envelope = match &result {
            Ok(data) => json!({ "success": true, "data": data }),
            Err(e) => e.envelope(),
        };
        if let Err(e) = ack.send(&envelope) {
            tracing::debug!(socket = %s.id, event = %name, error = %e, "ack not sent");
        }
    } else if let Err(e) = result {
        let mut error = e.to_json();
        error["event"] = json!(name);
        emit(&s, "error", Some(&error)).await;
    }
}

async fn handle(s: &SocketRef, op: &str, payload: Value) -> Result<Value, ApiError> {
    let session = s
        .extensions
        .get::<SocketSession>()
        .ok_or_else(|| ApiError::new(quip_sdk::ErrorCode::Unavailable, "the socket has no upstream session"))?;
    let args = Args::from_value(payload)?;
    match op {
        "conversation:join" => {
            let conversation = ops::run(&session.client, "conversation:get", &args).await?;
            s.join(room(args.id("conversationId")?));
            Ok(conversation)
        }
        "conversation:leave" => {
            s.leave(room(args.id("conversationId")?));
            Ok(json!({}))
        }
        _ if ops::OPERATIONS.contains(&op) => ops::run(&session.client, op, &args).await,
        other => Err(ApiError::invalid(format!("unknown event `{other}` (see docs/BRIDGE.md)"))),
    }
}
