//! Outgoing events: one task per socket ([`pump`]) reads the upstream session's event stream, renders each
//! event as canonical events (`crate::events`) and delivers them in the socket's dialect ([`deliver`];
//! the canonical one passes them unchanged). Both sides are bounded: the SDK's event buffer, then the
//! socket's send buffer; while the browser is behind, the task waits (so quipd's stream is not read and
//! its own catch-up takes over), and a browser that stays stuck is disconnected. The task never waits on
//! a request to quipd: what a dialect's events need looked up is looked up beside it (`super::enrich`).

use std::sync::Arc;

use quip_protocol::ServerBody;
use quip_sdk::{Event, EventStream};
use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::emit::{emit, emit_as};
use super::enrich;
use super::session::SocketSession;
use crate::events;
use crate::renders::Renders;
use quip_dialect::{Ctx, Dialect};

/// Reads `events` until the session ends, emitting each event on `s` in `dialect`'s vocabulary.
/// New messages are rendered once for all the sockets that get them ([`Renders`]); a socket in the
/// identity dialect is sent that rendering as it is.
pub(crate) async fn pump(
    s: SocketRef,
    session: SocketSession,
    mut events: EventStream,
    dialect: Arc<Dialect>,
    renders: Arc<Renders>,
) {
    while let Some(event) = events.next_event().await {
        if let Event::Disconnected { reason, will_reconnect: false } = &event {
            if s.connected() {
                deliver(&s, &session, &dialect, "session:ended", events::session_ended(reason)).await;
                let _ = s.clone().disconnect();
            }
            break;
        }
        if let Event::Message { message, replay } = &event {
            let rendered = renders.message(message, *replay);
            let delivered = if dialect.is_identity() {
                emit(&s, "message:new", Some(&*rendered.raw)).await
            } else {
                deliver(&s, &session, &dialect, "message:new", rendered.value.clone()).await
            };
            if !delivered {
                session.client.close().await;
                return;
            }
            continue;
        }
        if let Event::Other(ServerBody::AppEvent(app)) = &event {
            // The app's own event (its backend's `sendToUser(userId, name, data)`, through quipd's admin
            // API): under the app's own name and data, in every dialect.
            let data: Value = serde_json::from_str(&app.data).unwrap_or(Value::Null);
            if !emit(&s, &app.name, Some(&data)).await {
                session.client.close().await;
                return;
            }
            continue;
        }
        for (name, payload) in events::render(&session.client, event) {
            if !deliver(&s, &session, &dialect, name, payload).await {
                session.client.close().await;
                return;
            }
        }
    }
}

/// Emits one canonical server event as the dialect's events; false when the socket is gone. What later
/// events need is remembered first; events the dialect enriches go through [`enrich::deliver`].
async fn deliver(
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
