//! What the suites expect the server to do: echo.

use std::sync::Arc;

use engineioxide::handler::EngineIoHandler;
use engineioxide::{DisconnectReason, Socket, Str};
use serde_json::Value;

use super::args::Args;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

/// Namespaces `/` and `/custom`.
pub(crate) fn install(io: &SocketIo) {
    io.ns("/", on_connect);
    io.ns("/custom", on_connect);
}

async fn on_connect(s: SocketRef, Data(auth): Data<Value>) {
    // A handshake without a payload has the auth `{}`, as in the reference server.
    let auth = if auth.is_null() { Value::Object(Default::default()) } else { auth };
    if let Err(e) = s.emit("auth", &auth) {
        tracing::debug!(error = %e, "conformance: auth echo not sent");
    }
    s.on("message", |s: SocketRef, Data(args): Data<Args>| async move {
        if let Err(e) = s.emit("message-back", &args) {
            tracing::debug!(error = %e, "conformance: message-back not sent");
        }
    });
    s.on("message-with-ack", |Data(args): Data<Args>, ack: AckSender| async move {
        if let Err(e) = ack.send(&args) {
            tracing::debug!(error = %e, "conformance: ack not sent");
        }
    });
}

/// The raw Engine.IO endpoint: every packet back to its sender.
#[derive(Debug, Clone)]
pub(crate) struct Echo;

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, _socket: Arc<Socket<()>>) {}

    fn on_disconnect(&self, _socket: Arc<Socket<()>>, _reason: DisconnectReason) {}

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        if socket.emit(msg).is_err() {
            tracing::debug!("conformance: engine.io echo dropped (buffer full)");
        }
    }

    fn on_binary(self: &Arc<Self>, data: bytes::Bytes, socket: Arc<Socket<()>>) {
        if socket.emit_binary(data).is_err() {
            tracing::debug!("conformance: engine.io binary echo dropped (buffer full)");
        }
    }
}
