//! Where one session's event frames come from: a byte stream of its own (read and decoded here), or its
//! share of a gateway connection's shared event stream (decoded once by the dispatcher for every
//! session it names, see [`crate::shared_events`]).

use quip_protocol::ServerFrame;
use tokio::io::AsyncRead;

use crate::shared_events::SharedEvents;
use crate::wire::{FrameReader, ReadError, read_limits};

/// A session's own event stream (the transport's `BoxRead`, named here so the transport may depend on
/// this file and not the other way round).
pub(crate) type StreamRead = Box<dyn AsyncRead + Send + Unpin>;

/// A session's event frames, in order.
pub(crate) enum EventSource {
    Stream(FrameReader<StreamRead>),
    Shared(SharedEvents),
}

impl EventSource {
    /// Frames from a stream of the session's own.
    pub(crate) fn stream(read: StreamRead) -> Self {
        EventSource::Stream(FrameReader::new(read, read_limits()))
    }

    /// The next frame, or `None` when the stream ended between frames. Cancel-safe.
    pub(crate) async fn next(&mut self) -> Result<Option<ServerFrame>, ReadError> {
        match self {
            EventSource::Stream(reader) => reader.next().await,
            EventSource::Shared(shared) => shared.next().await,
        }
    }
}
