//! Where socketioxide's timing differs from the reference server's, in front of the protocol services.
//!
//! The first ping comes after pingInterval, as the Engine.IO protocol says (socketioxide sends it right
//! after the handshake):
//!
//! - HTTP long-polling: when a handshake answers with a new session id, the early ping is taken from
//!   that session's queue and answered (one poll, one pong, both in process) before the client gets the
//!   handshake; the client's first poll then waits for the ping at pingInterval.
//! - WebSocket without a session id: the connection is relayed to the same services through a loopback
//!   listener, and a ping that comes before pingInterval has passed since the open packet is answered by
//!   the relay and not forwarded. Everything else passes through unchanged, both ways.
//!
//! A long-polling push of a close packet waits a moment before it is applied, so that a poll sent at
//! the same time is answered with a noop as the session closes (the single-threaded reference server
//! handles the two in the order they arrived; a multi-threaded one may otherwise close first and answer
//! that poll "unknown session").
//!
//! Every other request with a session id (polls, pushes, the WebSocket upgrade of a polling session)
//! goes straight to the services.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as TMessage;
use tower::ServiceExt;

use super::settings::{MAX_PAYLOAD, PING_INTERVAL};

/// A handshake answer is small; anything larger is passed on untouched.
const MAX_HANDSHAKE_BYTES: usize = 4096;

/// How long a pushed close packet waits for a concurrent poll.
const CLOSE_GRACE: Duration = Duration::from_millis(20);

#[derive(Clone)]
struct Relay {
    inner: Router,
    internal: SocketAddr,
}

/// `inner` behind the timing fixes; `internal` is a loopback listener serving the same `inner`.
pub(crate) fn layer(inner: Router, internal: SocketAddr) -> Router {
    let relay = Relay { inner: inner.clone(), internal };
    inner.layer(axum::middleware::from_fn_with_state(relay, timing))
}

fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

async fn timing(State(relay): State<Relay>, req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let has_sid = query_param(&uri, "sid").is_some();
    let is_upgrade =
        req.headers().get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if is_upgrade && !has_sid {
        let (mut parts, _body) = req.into_parts();
        return match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(ws) => ws.on_upgrade(move |client| relay_ws(client, relay.internal, uri)).into_response(),
            Err(rejection) => rejection.into_response(),
        };
    }
    if req.method() == Method::POST && has_sid {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_PAYLOAD as usize).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "payload too large").into_response();
        };
        if bytes.as_ref() == b"1" {
            tokio::time::sleep(CLOSE_GRACE).await;
        }
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    }
    let polling_handshake =
        req.method() == Method::GET && !has_sid && query_param(&uri, "transport") == Some("polling");
    let response = next.run(req).await;
    if !polling_handshake || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_HANDSHAKE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "handshake too large").into_response();
    };
    if let Some(sid) = open_packet_sid(&bytes) {
        take_early_ping(&relay.inner, &uri, &sid).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The `sid` of an Engine.IO open packet (`0{"sid":...}`).
fn open_packet_sid(body: &[u8]) -> Option<String> {
    let json = body.strip_prefix(b"0")?;
    let open: serde_json::Value = serde_json::from_slice(json).ok()?;
    open.get("sid")?.as_str().map(str::to_owned)
}

/// Polls the new session once (the early ping is already queued) and answers a ping with a pong.
async fn take_early_ping(inner: &Router, uri: &Uri, sid: &str) {
    let path = uri.path();
    let poll_uri = format!("{path}?EIO=4&transport=polling&sid={sid}");
    let Ok(poll) = Request::get(&poll_uri).body(Body::empty()) else { return };
    let polled = tokio::time::timeout(PING_INTERVAL / 2, inner.clone().oneshot(poll)).await;
    let Ok(Ok(answer)) = polled else {
        tracing::debug!(sid, "conformance: no early ping to take");
        return;
    };
    let body = to_bytes(answer.into_body(), MAX_HANDSHAKE_BYTES).await.unwrap_or_default();
    if body.as_ref() != b"2" {
        tracing::warn!(sid, "conformance: the first poll held something else than a ping");
        return;
    }
    if let Ok(pong) = Request::post(&poll_uri).body(Body::from("3")) {
        let _ = inner.clone().oneshot(pong).await;
    }
}

/// Relays one WebSocket to the services, holding back a ping that comes before pingInterval.
async fn relay_ws(client: WebSocket, internal: SocketAddr, uri: Uri) {
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("ws://{internal}{path_and_query}");
    let upstream = match tokio_tungstenite::connect_async(url.as_str()).await {
        Ok((upstream, _)) => upstream,
        Err(e) => {
            tracing::debug!(error = %e, "conformance: upstream WebSocket refused");
            let mut client = client;
            let _ = client.send(WsMessage::Close(None)).await;
            return;
        }
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    let (mut client_tx, mut client_rx) = client.split();
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<()>(1);

    let downstream = async move {
        let mut opened_at = None;
        let mut early_ping_seen = false;
        while let Some(Ok(msg)) = up_rx.next().await {
            let out = match msg {
                TMessage::Text(text) => {
                    let text = text.as_str();
                    if text.starts_with('0') && opened_at.is_none() {
                        opened_at = Some(tokio::time::Instant::now());
                    } else if text == "2" && !early_ping_seen {
                        early_ping_seen = true;
                        if opened_at.is_some_and(|t| t.elapsed() < PING_INTERVAL) {
                            let _ = pong_tx.try_send(());
                            continue;
                        }
                    }
                    WsMessage::Text(text.into())
                }
                TMessage::Binary(bytes) => WsMessage::Binary(bytes),
                TMessage::Close(_) => break,
                TMessage::Ping(_) | TMessage::Pong(_) | TMessage::Frame(_) => continue,
            };
            if client_tx.send(out).await.is_err() {
                break;
            }
        }
        let _ = client_tx.send(WsMessage::Close(None)).await;
    };
    let upstream = async move {
        loop {
            let msg = tokio::select! {
                pong = pong_rx.recv() => match pong {
                    Some(()) => TMessage::Text("3".into()),
                    None => continue,
                },
                msg = client_rx.next() => match msg {
                    Some(Ok(WsMessage::Text(text))) => TMessage::Text(text.as_str().into()),
                    Some(Ok(WsMessage::Binary(bytes))) => TMessage::Binary(bytes),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                },
            };
            if up_tx.send(msg).await.is_err() {
                break;
            }
        }
        let _ = up_tx.send(TMessage::Close(None)).await;
    };
    tokio::select! {
        () = downstream => {}
        () = upstream => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_comes_from_the_open_packet() {
        let open =
            br#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
        assert_eq!(open_packet_sid(open).as_deref(), Some("abc"));
        assert_eq!(open_packet_sid(b"2"), None);
        assert_eq!(open_packet_sid(b"0{}"), None);
        let uri: Uri = "/socket.io/?EIO=4&transport=polling&sid=x".parse().unwrap_or_default();
        assert_eq!(query_param(&uri, "sid"), Some("x"));
        assert_eq!(query_param(&uri, "t"), None);
    }
}
