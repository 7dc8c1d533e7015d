//! What the reader (and request handlers) ask of a session's event loop.

use quip_protocol::ResumePoint;
use quip_protocol::family::session::Goodbye;

/// What the reader (and request handlers) ask of the event loop. Replies do not go through it: they
/// have a writer task of their own, so a client that stops reading events still gets its replies.
#[derive(Debug)]
pub enum ToWriter {
    /// Replay what the client missed since `since`, then answer `request_id` with SyncDone.
    Sync { request_id: u64, since: ResumePoint },
    /// The token was refreshed: it now expires at this time (seconds since the epoch).
    TokenExpiry(u64),
    /// Say goodbye and close.
    Close(Goodbye),
}
