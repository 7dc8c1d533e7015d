//! Encoders of the frames quipd sends: every reply and event leaves through `frame`, which counts it.

use bytes::Bytes;
use quip_protocol::family::messages::MessageEvent;
use quip_protocol::{ErrorCode, ErrorReply, ServerBody, ServerFrame};
use quip_store::model::StoredMessage;

/// Encodes a server frame.
pub fn frame(request_id: u64, body: impl Into<ServerBody>) -> Bytes {
    let body = body.into();
    metrics::counter!("quip_frames_out_total", "type" => body.name()).increment(1);
    ServerFrame::new(request_id, body).encode()
}

/// Encodes an error reply.
pub fn error_frame(request_id: u64, code: ErrorCode, message: impl Into<String>) -> Bytes {
    frame(request_id, ErrorReply::new(code, message))
}

/// The live MessageEvent frame for a just-committed message (encoded once for every recipient).
pub fn delivery_frame(m: &quip_store::model::StoredMessage) -> Bytes {
    message_frame(m, false)
}

/// A MessageEvent frame for a stored message.
pub fn message_frame(m: &StoredMessage, replay: bool) -> Bytes {
    frame(0, MessageEvent { message: super::convert::message(m), cursor: m.lsn, replay })
}
