//! The Socket.IO namespace `/` of every listener, in the listener's dialect (the canonical one passes
//! everything unchanged).
//!
//! A connecting socket is authenticated by opening its upstream session (the connect middleware): the
//! token goes to quipd in the session's Hello, and a refusal fails the connection with a `connect_error`
//! whose message is `<Code>: <why>`. Once connected, every event goes through [`inbound`] (dialect
//! inbound → operation → the dialect's answer), and one task per socket ([`outbound`]) reads the session's
//! event stream and emits it through the dialect. [`session`] holds what the socket remembers, [`enrich`]
//! what a dialect's events need looked up, [`emit`] the bounded emit. When the socket disconnects, its
//! upstream session is closed.

mod emit;
mod enrich;
mod inbound;
mod outbound;
mod session;

use std::fmt;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use tracing::Instrument;

use crate::app::App;
use crate::upstream::{SessionParams, device_id};
use crate::{auth, error::ApiError};
use session::SocketSession;

/// Why a connection was refused; its text is the `connect_error` message.
#[derive(Debug)]
pub struct ConnectRefused(ApiError);

impl fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code.name(), self.0.message)
    }
}

/// Registers the namespace `/` on `io` (it speaks the dialect of the `App` in `io`'s state).
pub fn install(io: &SocketIo) {
    io.ns("/", on_connect.with(authenticate));
}

/// Connect middleware: finds the token, opens the upstream session (quipd verifies the token).
async fn authenticate(
    s: SocketRef,
    TryData(auth): TryData<Value>,
    State(app): State<App>,
) -> Result<(), ConnectRefused> {
    // Held while quipd checks the token: a connect storm waits on nothing unbounded.
    let handshake = match app.admission().try_handshake() {
        Ok(permit) => permit,
        Err(refused) => {
            metrics::counter!(quip_service::REFUSED_METRIC, "limit" => refused.limit()).increment(1);
            crate::telemetry::socket_refused(quip_sdk::ErrorCode::Unavailable.name());
            let why = "too many connections are being opened at once; try again";
            return Err(ConnectRefused(ApiError::new(quip_sdk::ErrorCode::Unavailable, why)));
        }
    };
    let opened = open_session(&s, auth.unwrap_or(Value::Null), &app).await;
    drop(handshake);
    if let Err(ConnectRefused(e)) = &opened {
        crate::telemetry::socket_refused(e.code.name());
    }
    opened
}

async fn open_session(s: &SocketRef, auth: Value, app: &App) -> Result<(), ConnectRefused> {
    let parts = s.req_parts();
    let query = parts.uri.query();
    let connect = app.dialect().connect_spec();
    let token = auth::from_sources(&connect.token, &auth, &parts.headers, query)
        .or_else(|| auth::token_from_handshake(&auth, &parts.headers, query))
        .ok_or_else(|| ConnectRefused(auth::missing_token()))?;
    let claimed_user = connect
        .user_id
        .as_ref()
        .and_then(|source| auth::from_sources(std::slice::from_ref(source), &auth, &parts.headers, query));
    let given_device = auth
        .get("deviceId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| auth::query_param(query, "deviceId"));
    let device_id = device_id(given_device.as_deref(), &s.id.to_string());
    let resume = auth::resume_point(&auth).map_err(ConnectRefused)?;
    let params = SessionParams { token, device_id: device_id.clone(), resume, report_delivered: true, reconnect: true };
    match app.upstream().connect(params).await {
        Ok((client, events)) => {
            let user_id = client.welcome().map(|w| w.user.id).unwrap_or_default();
            if let Some(claimed) = claimed_user.filter(|c| *c != user_id) {
                client.close().await;
                let why = format!("the client says it is user {claimed:?}, the token is another user's");
                return Err(ConnectRefused(ApiError::new(quip_sdk::ErrorCode::Forbidden, why)));
            }
            let transport = crate::telemetry::transport(s.transport_type());
            let session = SocketSession::new(client, events, device_id, user_id, transport);
            s.extensions.insert(session);
            Ok(())
        }
        Err(e) => {
            tracing::debug!(socket = %s.id, error = %e, "upstream session refused");
            Err(ConnectRefused(ApiError::from(e)))
        }
    }
}

async fn on_connect(s: SocketRef, State(app): State<App>) {
    let Some(session) = s.extensions.get::<SocketSession>() else {
        tracing::warn!(socket = %s.id, "connected without an upstream session");
        let _ = s.disconnect();
        return;
    };
    let events = session.events.lock().ok().and_then(|mut slot| slot.take());
    let Some(events) = events else {
        let _ = s.disconnect();
        return;
    };
    tracing::debug!(socket = %s.id, device = %session.device_id, "socket connected");
    crate::telemetry::socket_opened(session.transport);
    s.on_fallback(inbound::on_event);
    s.on_disconnect(on_disconnect);
    let span = tracing::info_span!("socket", id = %s.id, user = %session.user_id);
    tokio::spawn(
        outbound::pump(s.clone(), session.clone(), events, app.dialect().clone(), app.renders().clone())
            .instrument(span),
    );
}

async fn on_disconnect(s: SocketRef) {
    if let Some(session) = s.extensions.remove::<SocketSession>() {
        crate::telemetry::socket_closed(session.transport);
        tracing::debug!(socket = %s.id, device = %session.device_id, "socket disconnected; closing its upstream session");
        session.client.close().await;
    }
}
