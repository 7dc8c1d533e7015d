//! The Socket.IO namespace `/` of every listener, in the listener's dialect (the canonical one passes
//! everything unchanged).
//!
//! A connecting socket is authenticated by opening its upstream session (the connect middleware): the
//! token goes to quipd in the session's Hello, and a refusal fails the connection with a `connect_error`
//! whose message is `<Code>: <why>`. Once connected, a socket's events are queued in arrival order
//! ([`ordered`]) and each goes through [`inbound`] (dialect inbound → operation → the dialect's answer),
//! and one task per socket ([`outbound`]) reads the session's event stream and emits it through the
//! dialect. [`session`] holds what the socket remembers, [`enrich`] what a dialect's events need looked
//! up, [`emit`] the bounded emit. When the socket disconnects, its upstream session is closed.

mod emit;
mod enrich;
mod inbound;
mod ordered;
mod outbound;
mod session;

use std::fmt;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use tracing::Instrument;

use quip_dialect::Connect;
use quip_sdk::ErrorCode;

use crate::app::App;
use crate::upstream::{SessionParams, device_id};
use crate::{auth, error::ApiError};
use session::SocketSession;

/// Why a connection was refused; its text is the `connect_error` message.
#[derive(Debug)]
pub struct ConnectRefused(String);

impl ConnectRefused {
    /// `<Code>: <why>`, or the dialect's fixed message (`refused_message`) for a handshake refused for its
    /// token or its user. Socket.IO's `connect_error` carries only a message here (socketioxide sends no
    /// `data`), so with a fixed message the code is in the bridge's log and metrics only.
    fn new(e: &ApiError, connect: &Connect) -> Self {
        match &connect.refused_message {
            Some(fixed) if about_the_token(e.code) => Self(fixed.clone()),
            _ => Self(format!("{}: {}", e.code.name(), e.message)),
        }
    }
}

/// Refusals for the token (quip's 2xxx codes) or for a user the token does not prove.
fn about_the_token(code: ErrorCode) -> bool {
    (2000..3000).contains(&code.as_u16()) || code == ErrorCode::Forbidden
}

impl fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
            return Err(ConnectRefused::new(&ApiError::new(ErrorCode::Unavailable, why), app.dialect().connect_spec()));
        }
    };
    let opened = open_session(&s, auth.unwrap_or(Value::Null), &app).await;
    drop(handshake);
    opened.map_err(|e| {
        crate::telemetry::socket_refused(e.code.name());
        ConnectRefused::new(&e, app.dialect().connect_spec())
    })
}

async fn open_session(s: &SocketRef, auth: Value, app: &App) -> Result<(), ApiError> {
    let parts = s.req_parts();
    let query = parts.uri.query();
    let connect = app.dialect().connect_spec();
    let token = auth::from_sources(&connect.token, &auth, &parts.headers, query)
        .or_else(|| auth::token_from_handshake(&auth, &parts.headers, query))
        .ok_or_else(auth::missing_token)?;
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
    let resume = auth::resume_point(&auth)?;
    let params = SessionParams {
        token,
        device_id: device_id.clone(),
        resume,
        report_delivered: true,
        reconnect: true,
        passive: false,
    };
    match app.upstream().connect(params).await {
        Ok((client, events)) => {
            let user_id = client.welcome().map(|w| w.user.id).unwrap_or_default();
            if let Some(claimed) = claimed_user.filter(|c| *c != user_id) {
                client.close().await;
                let why = format!("the client says it is user {claimed:?}, the token is another user's");
                return Err(ApiError::new(ErrorCode::Forbidden, why));
            }
            let transport = crate::telemetry::transport(s.transport_type());
            let session = SocketSession::new(client, events, device_id, user_id, transport);
            s.extensions.insert(session);
            Ok(())
        }
        Err(e) => {
            tracing::debug!(socket = %s.id, error = %e, "upstream session refused");
            Err(ApiError::from(e))
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
    let (inbox, outbox) = ordered::queue();
    s.extensions.insert(inbox);
    s.on_fallback(ordered::Ordered::new(app.dialect().clone()));
    s.on_disconnect(on_disconnect);
    let span = tracing::info_span!("socket", id = %s.id, user = %session.user_id);
    tokio::spawn(ordered::serve(s.clone(), outbox, app.dialect().clone()).instrument(span.clone()));
    tokio::spawn(
        outbound::pump(s.clone(), session.clone(), events, app.dialect().clone(), app.renders().clone())
            .instrument(span),
    );
}

async fn on_disconnect(s: SocketRef) {
    // The queue's task finishes what is queued, then ends.
    s.extensions.remove::<ordered::Inbox>();
    if let Some(session) = s.extensions.remove::<SocketSession>() {
        crate::telemetry::socket_closed(session.transport);
        tracing::debug!(socket = %s.id, device = %session.device_id, "socket disconnected; closing its upstream session");
        session.client.close().await;
    }
}
