//! Where a session's events go: a QUIC stream of its own (native clients, and gateway sessions that did
//! not ask for the shared stream), or its connection's shared event stream ([`crate::lane`]).

use std::collections::HashMap;

use bytes::Bytes;
use quip_protocol::family::session::EventStreamOpen;

use crate::lane::Lane;
use crate::wire::frame;
use quip_store::model::{ConvId, Seq};

/// A session's event stream.
pub enum EventSink {
    Stream(quinn::SendStream),
    Shared { lane: Lane, control_stream_id: u64 },
}

impl EventSink {
    /// Opens a stream of the session's own, naming the session in its first frame.
    pub async fn own(conn: &quinn::Connection, control_stream_id: u64, session_id: u64) -> anyhow::Result<Self> {
        let mut stream = conn.open_uni().await?;
        stream.write_all(&frame(0, EventStreamOpen { control_stream_id, session_id })).await?;
        Ok(Self::Stream(stream))
    }

    /// Sends `frames` (whole frames, in order) and leaves `frames` empty.
    pub async fn write(&mut self, frames: &mut Vec<Bytes>) -> anyhow::Result<()> {
        match self {
            Self::Stream(stream) => {
                stream.write_all_chunks(frames).await?;
                frames.clear();
            }
            Self::Shared { lane, control_stream_id } => lane.send(*control_stream_id, std::mem::take(frames)).await?,
        }
        Ok(())
    }

    /// On the shared stream: lets the hub send this session's events itself from now on (see
    /// `crate::lane`), if nothing is waiting in its queue. `delivered` is where the session is.
    pub fn go_direct(&self, delivered: &HashMap<ConvId, Seq>, queue_empty: impl FnOnce() -> bool) {
        if let Self::Shared { lane, control_stream_id } = self {
            lane.go_direct(*control_stream_id, delivered, queue_empty);
        }
    }

    /// Takes this session's events back from the hub: the watermarks the lane kept while it sent them,
    /// if it did.
    pub fn take_back(&self) -> Option<HashMap<ConvId, Seq>> {
        match self {
            Self::Shared { lane, control_stream_id } => lane.take_back(*control_stream_id),
            Self::Stream(_) => None,
        }
    }

    /// Sends the session's last frame (best effort: the client may be gone) and ends the stream: a
    /// stream of its own is finished and given a moment to be acknowledged (closing a connection drops
    /// what is unsent); on the shared stream the frame follows the session's other events.
    pub async fn close(&mut self, last: Bytes) {
        match self {
            Self::Stream(stream) => {
                let _ = stream.write_all(&last).await;
                let _ = stream.finish();
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), stream.stopped()).await;
            }
            Self::Shared { lane, control_stream_id } => {
                let _ = lane.take_back(*control_stream_id);
                let _ = lane.send(*control_stream_id, vec![last]).await;
            }
        }
    }
}
