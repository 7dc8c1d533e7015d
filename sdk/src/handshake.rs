//! Hello → Welcome on a fresh [`Session`], and what the broker's close codes mean.

use std::time::Duration;

use futures_util::future::BoxFuture;
use quip_protocol::family::session::{CloseReason, Goodbye, Hello, Welcome};
use quip_protocol::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ResumePoint, ServerBody, ServerFrame};

use crate::cursors::CursorTracker;
use crate::event_source::EventSource;
use crate::transport::{BoxRead, BoxWrite, CloseFn, CloseInfo, Session, Transport};
use crate::wire::{CONTROL_READ_CHUNK, FrameReader, WriteError, read_limits, write_frame};
use crate::{ClientConfig, Error};

/// The request id of `Hello`; requests of a session count up from the next one.
pub(crate) const HELLO_REQUEST_ID: u64 = 1;

/// The broker decodes `Hello` before it announces its frame limit, and the smallest limit it may have is
/// 16 KiB: keep `Hello` under it, with room to spare.
const MAX_HELLO: usize = 15 * 1024;

/// quipd's QUIC application close codes (`close_code` in broker/src/session/mod.rs).
pub(crate) mod close_code {
    pub(crate) const PROTOCOL_ERROR: u64 = 1;
    pub(crate) const AUTH_FAILED: u64 = 2;
    pub(crate) const SHUTDOWN: u64 = 3;
    pub(crate) const TOKEN_EXPIRED: u64 = 4;
}

/// A session past its handshake.
pub(crate) struct Live {
    pub(crate) welcome: Welcome,
    pub(crate) control_send: BoxWrite,
    pub(crate) control: FrameReader<BoxRead>,
    /// The event stream, once the broker sends on it: a QUIC stream is announced to the peer only with
    /// its first bytes, and quipd writes nothing there before the first event (or resume replay), so
    /// the handshake must not wait for it.
    pub(crate) events: BoxFuture<'static, Result<EventSource, Error>>,
    pub(crate) closed: BoxFuture<'static, CloseInfo>,
    pub(crate) close: CloseFn,
    /// One of many sessions on a shared connection (a gateway's).
    pub(crate) multiplexed: bool,
}

/// The `Hello` for `token`/`device_id`, resuming from `tracker` when `resume` (trimmed to the most active
/// conversations when the frame would be too large), or from `initial` otherwise.
pub(crate) fn hello(
    token: String,
    device_id: String,
    tracker: Option<&CursorTracker>,
    initial: Option<ResumePoint>,
) -> Hello {
    let mut hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        token,
        device_id,
        client_name: Some("quip-sdk".to_owned()),
        client_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        datagrams: false,
        resume: initial,
        multiplexed: false,
        passive: false,
        shared_events: false,
    };
    if let Some(tracker) = tracker {
        let mut max = crate::cursors::MAX_RESUME_CURSORS;
        loop {
            hello.resume = Some(tracker.resume_point(max));
            if max == 0 || encoded_len(&hello) <= MAX_HELLO {
                break;
            }
            max /= 2;
        }
    }
    hello
}

fn encoded_len(hello: &Hello) -> usize {
    ClientFrame::new(HELLO_REQUEST_ID, hello.clone()).encode().len()
}

/// Connects with `transport` and runs the handshake, all within `config.request_timeout`.
pub(crate) async fn open<T: Transport>(transport: &T, config: &ClientConfig, hello: Hello) -> Result<Live, Error> {
    match tokio::time::timeout(config.request_timeout, handshake(transport, config, hello)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout),
    }
}

async fn handshake<T: Transport>(transport: &T, config: &ClientConfig, mut hello: Hello) -> Result<Live, Error> {
    let Session { mut control_send, control_recv, events, mut closed, close, multiplexed, shared_events } =
        transport.connect(config).await?;
    hello.multiplexed = multiplexed;
    hello.shared_events = shared_events;
    hello.passive = config.passive;
    let mut control = FrameReader::with_chunk(control_recv, read_limits(), CONTROL_READ_CHUNK);
    match write_frame(&mut control_send, &ClientFrame::new(HELLO_REQUEST_ID, hello), MAX_HELLO as u32).await {
        Ok(()) => {}
        Err(WriteError::TooLarge(e)) => return Err(e),
        Err(WriteError::Io(e)) => return Err(refusal(&mut closed, format!("sending Hello: {e}")).await),
    }
    let welcome = loop {
        match control.next().await {
            Ok(Some(ServerFrame { body: ServerBody::Welcome(w), .. })) => break w,
            Ok(Some(ServerFrame { body: ServerBody::ErrorReply(e), .. })) => {
                tracing::info!(code = %e.code, message = %e.message, "the broker refused the session");
                return Err(e.into());
            }
            Ok(Some(ServerFrame { body: ServerBody::Goodbye(g), .. })) => {
                return Err(Error::Transport(format!("the broker said goodbye before Welcome: {}", g.message)));
            }
            Ok(Some(other)) => tracing::debug!(body = other.body.name(), "ignoring a frame before Welcome"),
            Ok(None) => return Err(refusal(&mut closed, "the control stream ended before Welcome".into()).await),
            Err(e) => return Err(refusal(&mut closed, format!("control stream: {e}")).await),
        }
    };
    if welcome.protocol_version != PROTOCOL_VERSION {
        close(close_code::PROTOCOL_ERROR as u32, "unsupported protocol version");
        return Err(Error::Protocol(format!("the broker speaks protocol version {}", welcome.protocol_version)));
    }
    Ok(Live { welcome, control_send, control, events, closed, close, multiplexed })
}

/// The error for a handshake cut short: what the broker's close code says, if it closed on purpose.
async fn refusal(closed: &mut BoxFuture<'static, CloseInfo>, detail: String) -> Error {
    match tokio::time::timeout(Duration::from_secs(1), closed).await {
        Ok(info) => match refused_code(&info) {
            Some(code) => Error::Server {
                code,
                message: format!("refused by the broker: {info}"),
                retry_after: None,
                field: None,
            },
            None => Error::Transport(format!("{detail} ({info})")),
        },
        Err(_) => Error::Transport(detail),
    }
}

/// quipd closes a refused handshake with AUTH_FAILED or PROTOCOL_ERROR and the error code's name as the
/// reason.
pub(crate) fn refused_code(info: &CloseInfo) -> Option<ErrorCode> {
    match info.code {
        Some(close_code::AUTH_FAILED | close_code::PROTOCOL_ERROR) => {
            ErrorCode::ALL.iter().copied().find(|c| c.name() == info.reason)
        }
        _ => None,
    }
}

/// Close reasons that mean "do not come back", recognised by name in a close reason.
const FINAL_REASONS: [CloseReason; 4] =
    [CloseReason::TokenExpired, CloseReason::Revoked, CloseReason::Kicked, CloseReason::Replaced];

/// The goodbye a connection close stands for, when the `Goodbye` frame itself was lost with the
/// connection (closing discards stream data not yet sent): the close code, or a close reason that is
/// exactly a `CloseReason` name (the way quipd names the `ErrorCode` when it refuses a `Hello`).
pub(crate) fn goodbye_from_close(info: &CloseInfo) -> Option<Goodbye> {
    let named = FINAL_REASONS.into_iter().find(|r| format!("{r:?}") == info.reason.trim());
    let (reason, reconnect_after_ms) = match (info.code?, named) {
        (_, Some(reason)) => (reason, 0),
        (close_code::TOKEN_EXPIRED, None) => (CloseReason::TokenExpired, 0),
        (close_code::SHUTDOWN, None) => (CloseReason::ServerShutdown, 1000),
        (close_code::AUTH_FAILED, None) => (CloseReason::Revoked, 0),
        _ => return None,
    };
    Some(Goodbye { reason, message: info.reason.clone(), reconnect_after_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_fits_even_with_a_huge_token_and_many_conversations() {
        let mut tracker = CursorTracker::default();
        for conv in 1..=5000 {
            tracker.delivered(conv, conv);
        }
        tracker.advance_global(123);
        let h = hello("t".repeat(8 * 1024), "device".into(), Some(&tracker), None);
        assert!(encoded_len(&h) <= MAX_HELLO);
        let resume = h.resume.unwrap();
        assert!(!resume.cursors.is_empty());
        assert_eq!(resume.global_cursor, 123);
        // The most recently delivered conversations are the ones kept.
        assert!(resume.cursors.iter().all(|c| c.conversation_id > 5000 - 256));
    }

    #[test]
    fn first_hello_carries_the_app_resume_point() {
        let h = hello("t".into(), "d".into(), None, None);
        assert_eq!(h.protocol_version, PROTOCOL_VERSION);
        assert!(h.resume.is_none() && !h.datagrams);
        let point = ResumePoint { cursors: vec![], global_cursor: 5 };
        assert_eq!(hello("t".into(), "d".into(), None, Some(point.clone())).resume, Some(point));
    }

    #[test]
    fn close_codes_are_understood() {
        let refused = CloseInfo { code: Some(close_code::AUTH_FAILED), reason: "TokenExpired".into() };
        assert_eq!(refused_code(&refused), Some(ErrorCode::TokenExpired));
        let version = CloseInfo { code: Some(close_code::PROTOCOL_ERROR), reason: "UnsupportedVersion".into() };
        assert_eq!(refused_code(&version), Some(ErrorCode::UnsupportedVersion));
        let garbled = CloseInfo { code: Some(close_code::PROTOCOL_ERROR), reason: "bad frame: ...".into() };
        assert_eq!(refused_code(&garbled), None);
        assert_eq!(refused_code(&CloseInfo { code: None, reason: "TokenExpired".into() }), None);

        let expired = CloseInfo { code: Some(close_code::TOKEN_EXPIRED), reason: "token expired".into() };
        assert_eq!(goodbye_from_close(&expired).unwrap().reason, CloseReason::TokenExpired);
        let shutdown = CloseInfo { code: Some(close_code::SHUTDOWN), reason: String::new() };
        assert_eq!(goodbye_from_close(&shutdown).unwrap().reason, CloseReason::ServerShutdown);
        assert!(goodbye_from_close(&CloseInfo { code: Some(0), reason: String::new() }).is_none());
        let replaced = CloseInfo { code: Some(0), reason: "Replaced".into() };
        assert_eq!(goodbye_from_close(&replaced).unwrap().reason, CloseReason::Replaced);
        let kicked = CloseInfo { code: Some(0), reason: "Kicked".into() };
        assert_eq!(goodbye_from_close(&kicked).unwrap().reason, CloseReason::Kicked);
        let idle = CloseInfo { code: Some(0), reason: "Idle".into() };
        assert!(goodbye_from_close(&idle).is_none(), "only final reasons are recognised");
        assert!(goodbye_from_close(&CloseInfo { code: None, reason: "Replaced".into() }).is_none());
    }
}
