//! Writes a gateway connection's shared event stream: what its sessions and the hub queued in the
//! connection's [`Lane`], as `GatewayEvents` frames (one per queue entry: its frames and the sessions they
//! go to), on one QUIC stream that opens with `EventStreamOpen{control_stream_id: SHARED_EVENT_STREAM}`.

use std::time::Duration;

use quip_protocol::family::session::{EventStreamOpen, GatewayEvents, SHARED_EVENT_STREAM};

use crate::lane::Lane;
use crate::wire::{close_code, frame};

/// How long the stream may take to send what is queued when the connection ends.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// The task writing a lane; [`Writer::finish`] closes the lane and waits for it to send what is queued.
#[derive(Debug)]
pub struct Writer {
    lane: Lane,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Starts writing `lane` on `conn`. The stream is opened with the first entry, so a gateway none of
    /// whose sessions asks for it costs one idle task.
    pub fn spawn(conn: quinn::Connection, lane: Lane) -> Self {
        Self { lane: lane.clone(), task: tokio::spawn(run(conn, lane)) }
    }

    /// Call once the connection's sessions have ended, before the connection is closed.
    pub async fn finish(self) {
        self.lane.close();
        if tokio::time::timeout(FLUSH_GRACE, self.task).await.is_err() {
            tracing::debug!("shared event stream still sending at close");
        }
    }
}

async fn run(conn: quinn::Connection, lane: Lane) {
    let mut entries = lane.take().await;
    if entries.is_empty() {
        return;
    }
    let mut stream = match conn.open_uni().await {
        Ok(stream) => stream,
        Err(e) => {
            tracing::debug!(error = %e, "cannot open the shared event stream");
            lane.close();
            return;
        }
    };
    let mut out = vec![frame(0, EventStreamOpen { control_stream_id: SHARED_EVENT_STREAM, session_id: 0 })];
    while !entries.is_empty() {
        for e in entries.drain(..) {
            let mut frames = Vec::with_capacity(e.frames.iter().map(|f| f.len()).sum());
            for f in &e.frames {
                frames.extend_from_slice(f);
            }
            out.push(frame(0, GatewayEvents { targets: e.targets, frames }));
        }
        if let Err(e) = stream.write_all_chunks(&mut out).await {
            // Every session of the connection relies on this stream: without it they would wait for
            // events that never come. Closing the connection makes the gateway reconnect and resume them.
            tracing::info!(error = %e, "shared event stream failed: closing the connection");
            lane.close();
            conn.close(close_code::PROTOCOL_ERROR.into(), b"shared event stream failed");
            return;
        }
        out.clear();
        entries = lane.take().await;
    }
    let _ = stream.finish();
    let _ = stream.stopped().await;
}
