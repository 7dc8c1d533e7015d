//! The bridge's Prometheus series, served at `/metrics` on the admin listener. Names carry a
//! `quip_bridge_` prefix; labels are bounded: a transport, a route template (never the concrete path), a
//! status code, an operation or error code from fixed sets.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use socketioxide::TransportType;

use crate::error::Answered;

/// Installs the process-wide recorder (shared with quipd in the same process) and describes the bridge's
/// series, once.
pub fn install() {
    static DESCRIBED: std::sync::Once = std::sync::Once::new();
    if quip_service::metrics::handle().is_some() {
        DESCRIBED.call_once(describe);
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("quip_bridge_sockets", "Socket.IO sockets connected, by the transport they connected with");
    describe_counter!("quip_bridge_socket_connects_total", "Socket.IO connection attempts, by result");
    describe_counter!("quip_bridge_socket_events_in_total", "Socket.IO events received, by canonical operation");
    describe_counter!("quip_bridge_socket_events_out_total", "Socket.IO events emitted to clients");
    describe_counter!(
        "quip_bridge_idle_closed_total",
        "Client TCP connections closed after limits.idle_timeout_ms without a byte either way"
    );
    describe_counter!(
        "quip_bridge_socket_queue_full_total",
        "Socket.IO events refused because their socket already had too many waiting to be handled"
    );
    describe_counter!(
        "quip_bridge_emit_waits_total",
        "Times an emit found its socket's send buffer full and waited (a browser behind on its events)"
    );
    describe_counter!("quip_bridge_errors_total", "Error answers (acks, error events, REST), by code");
    describe_counter!("quip_bridge_rest_requests_total", "HTTP requests, by route template, method and status");
    describe_histogram!("quip_bridge_rest_request_seconds", Unit::Seconds, "HTTP request latency, by route template");
    describe_gauge!("quip_bridge_rest_sessions", "Upstream sessions held for REST callers");
    describe_counter!(
        "quip_bridge_upstream_sessions_cut_total",
        "Upstream sessions that fell behind the shared event stream (their socket stopped reading) and resumed"
    );
}

/// The label of a transport.
pub fn transport(t: TransportType) -> &'static str {
    match t {
        TransportType::Websocket => "websocket",
        TransportType::Polling => "polling",
    }
}

/// A socket connected (`+1`) or went away (`-1`).
pub fn socket_opened(transport: &'static str) {
    metrics::gauge!("quip_bridge_sockets", "transport" => transport).increment(1.0);
    metrics::counter!("quip_bridge_socket_connects_total", "result" => "ok").increment(1);
}

pub fn socket_closed(transport: &'static str) {
    metrics::gauge!("quip_bridge_sockets", "transport" => transport).decrement(1.0);
}

/// A connection refused, by the error code's name.
pub fn socket_refused(code: &'static str) {
    metrics::counter!("quip_bridge_socket_connects_total", "result" => code).increment(1);
}

/// An event in, labelled by its canonical operation (`unknown` for anything else: never the client's raw
/// event name, which is unbounded).
pub fn event_in(op: &str) {
    let label = crate::ops::find(op).map_or("unknown", |known| known.name);
    metrics::counter!("quip_bridge_socket_events_in_total", "op" => label).increment(1);
}

pub fn event_out() {
    metrics::counter!("quip_bridge_socket_events_out_total").increment(1);
}

/// An event refused because its socket's queue was full (`socket::ordered`).
pub fn socket_queue_full() {
    metrics::counter!("quip_bridge_socket_queue_full_total").increment(1);
}

/// An emit that found its socket's send buffer full and waits for room (`socket::emit`).
pub fn emit_wait() {
    metrics::counter!("quip_bridge_emit_waits_total").increment(1);
}

pub fn error(code: &'static str) {
    metrics::counter!("quip_bridge_errors_total", "code" => code).increment(1);
}

/// Axum middleware: counts and times every request by its route template (`unmatched` when no route
/// took it), method and status, and counts every error answer by its code (the one place REST errors are
/// counted; Socket.IO errors are counted where the socket answers). Socket.IO's own HTTP requests are answered before this layer.
pub async fn http(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = crate::error::envelope_plain_errors(next.run(req).await).await;
    if let Some(Answered(code)) = response.extensions().get::<Answered>() {
        error(code.name());
    }
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16().to_string();
    metrics::counter!("quip_bridge_rest_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("quip_bridge_rest_request_seconds", "route" => route).record(start.elapsed().as_secs_f64());
    response
}
