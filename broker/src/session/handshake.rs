//! The handshake: the client opens the control stream and sends Hello; quipd checks the token,
//! records the profile the token carries, and answers Welcome (or an error, then closes).

use std::sync::Arc;
use std::time::Duration;

use quip_protocol::family::session::{CloseReason, Goodbye, Hello, Welcome};
use quip_protocol::{ClientBody, ClientFrame, ErrorCode, PROTOCOL_VERSION, ResumePoint};

use crate::Broker;
use crate::auth::Identity;
use crate::io::{FrameReader, ReadError};
use crate::wire::{close_code, error_frame, frame};
use quip_store::model::Profile;

/// A session that passed the handshake.
pub struct Accepted {
    pub session_id: u64,
    /// The QUIC stream id of the control stream (named in the event stream's first frame).
    pub control_stream_id: u64,
    /// The connection carries other sessions too (a gateway): ending this one leaves it open.
    pub multiplexed: bool,
    /// The session does not count in the user's presence (`Hello.passive`).
    pub passive: bool,
    /// The session's events go on its gateway connection's shared event stream (`Hello.shared_events`).
    pub shared_events: bool,
    pub user: String,
    pub device_id: Arc<str>,
    pub control_send: quinn::SendStream,
    pub control_reader: FrameReader,
    /// Token expiry, seconds since the epoch.
    pub expires_at: u64,
    pub resume: Option<ResumePoint>,
    /// The store-wide cursor announced in Welcome.
    pub welcome_cursor: u64,
    /// What presence says about the user beside their status (from the profile).
    pub card: Arc<crate::presence::Card>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("no control stream: {0}")]
    Stream(String),
    #[error("refused with {0}: {1}")]
    Refused(ErrorCode, String),
}

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts the first session of a connection: its control stream is the first one the client opens.
pub async fn accept_first(
    broker: &Broker,
    conn: &quinn::Connection,
    session_id: u64,
) -> Result<Accepted, HandshakeError> {
    let (send, recv) = tokio::time::timeout(HELLO_TIMEOUT, conn.accept_bi())
        .await
        .map_err(|_| HandshakeError::Stream("timed out".into()))?
        .map_err(|e| HandshakeError::Stream(e.to_string()))?;
    accept(broker, conn, send, recv, session_id, false).await
}

/// Runs the handshake on a control stream. On a connection already known to be multiplexed (`shared`), a
/// refusal ends only this stream; otherwise it closes the connection with a code that says why.
pub async fn accept(
    broker: &Broker,
    conn: &quinn::Connection,
    mut send: quinn::SendStream,
    recv: quinn::RecvStream,
    session_id: u64,
    shared: bool,
) -> Result<Accepted, HandshakeError> {
    let control_stream_id = u64::from(recv.id());
    let conn = (!shared).then_some(conn);
    let mut reader = FrameReader::new(recv, broker.cfg.limits.max_frame_size);

    let first = tokio::time::timeout(HELLO_TIMEOUT, reader.next()).await;
    let (request_id, hello) = match first {
        Ok(Ok(Some(bytes))) => match ClientFrame::decode(&bytes, &broker.limits) {
            Ok(ClientFrame { request_id, body: ClientBody::Hello(hello) }) => (request_id, hello),
            Ok(other) => {
                let msg = format!("expected Hello, got {}", other.body.name());
                return Err(refuse(conn, &mut send, other.request_id, ErrorCode::UnexpectedFrame, msg, None).await);
            }
            Err(e) => {
                // Only a field was wrong when the frame passed the verifier: the reply names its request.
                let id = ClientFrame::peek_request_id(&bytes, &broker.limits);
                return Err(refuse(conn, &mut send, id, e.code(), e.to_string(), None).await);
            }
        },
        Ok(Ok(None)) => return Err(HandshakeError::Stream("closed before Hello".into())),
        Ok(Err(ReadError::Frame(e))) => {
            // A bad length desynchronises the stream: as after Welcome, the code, then Goodbye, then close.
            let goodbye = Goodbye { reason: CloseReason::ProtocolError, message: e.to_string(), reconnect_after_ms: 0 };
            return Err(refuse(conn, &mut send, 0, e.code(), e.to_string(), Some(goodbye)).await);
        }
        Ok(Err(e)) => return Err(refuse(conn, &mut send, 0, ErrorCode::BadFrame, e.to_string(), None).await),
        Err(_) => return Err(refuse(conn, &mut send, 0, ErrorCode::Timeout, "no Hello in time".into(), None).await),
    };

    // A gateway's connection outlives any one user's refusal.
    let conn = if hello.multiplexed { None } else { conn };
    if hello.protocol_version != PROTOCOL_VERSION {
        let msg = format!(
            "protocol version {} is not supported (this server speaks {PROTOCOL_VERSION})",
            hello.protocol_version
        );
        return Err(refuse(conn, &mut send, request_id, ErrorCode::UnsupportedVersion, msg, None).await);
    }
    let identity = match broker.auth.verify(&hello.token) {
        Ok(identity) => identity,
        Err(e) => {
            metrics::counter!("quip_authentications_total", "result" => "refused").increment(1);
            return Err(refuse(conn, &mut send, request_id, e.code(), e.to_string(), None).await);
        }
    };
    if let Err(e) = broker.check_revoked(&identity).await {
        metrics::counter!("quip_authentications_total", "result" => "refused").increment(1);
        return Err(refuse(conn, &mut send, request_id, e.code, e.message, None).await);
    }
    metrics::counter!("quip_authentications_total", "result" => "ok").increment(1);

    let profile = match upsert_profile(broker, &identity).await {
        Ok(p) => p,
        Err(e) => return Err(refuse(conn, &mut send, request_id, e.code(), e.to_string(), None).await),
    };
    let welcome = Welcome {
        protocol_version: PROTOCOL_VERSION,
        session_id,
        user: crate::wire::convert::profile(&profile),
        server_time_ms: crate::now_ms(),
        heartbeat_ms: broker.cfg.limits.heartbeat_ms,
        max_frame_size: broker.cfg.limits.max_frame_size,
        token_expires_at_ms: identity.expires_at.saturating_mul(1000),
        global_cursor: broker.store.global_cursor(),
        resuming: hello.resume.is_some(),
    };
    let welcome_cursor = welcome.global_cursor;
    let card = broker.presence.card_of(&profile);
    send.write_all(&frame(request_id, welcome)).await.map_err(|e| HandshakeError::Stream(e.to_string()))?;
    let Hello { device_id, resume, multiplexed, passive, shared_events, .. } = hello;
    Ok(Accepted {
        session_id,
        control_stream_id,
        multiplexed: multiplexed || shared,
        passive,
        shared_events: shared_events && (multiplexed || shared),
        user: identity.user_id,
        device_id: device_id.into(),
        control_send: send,
        control_reader: reader,
        expires_at: identity.expires_at,
        resume,
        welcome_cursor,
        card,
    })
}

/// The profile as stored, updated with the token's `name`, `picture` and `auth.profile_claims` fields
/// when they differ.
async fn upsert_profile(broker: &Broker, id: &Identity) -> Result<Profile, quip_store::StoreError> {
    let store = broker.store.clone();
    let user = id.user_id.clone();
    let existing = tokio::task::spawn_blocking(move || store.profile(&user))
        .await
        .map_err(|e| quip_store::StoreError::Db(e.to_string()))??;
    let mut profile = existing.clone().unwrap_or_else(|| Profile { id: id.user_id.clone(), ..Profile::default() });
    if id.display_name.is_some() && id.display_name != profile.name {
        profile.name = id.display_name.clone();
    }
    if id.avatar_url.is_some() && id.avatar_url != profile.avatar_url {
        profile.avatar_url = id.avatar_url.clone();
    }
    for (field, value) in &id.fields {
        match profile.fields.iter_mut().find(|(key, _)| key == field) {
            Some((_, old)) => value.clone_into(old),
            None => profile.fields.push((field.clone(), value.clone())),
        }
    }
    if existing.as_ref() != Some(&profile) {
        profile.updated_at_ms = crate::now_ms();
        broker.writer.put_profile(profile.clone()).await?;
    }
    Ok(profile)
}

/// Refuses the handshake: the error (then `goodbye`, after a framing error: the stream cannot go on),
/// and on a connection of its own, the close with a code that says why.
async fn refuse(
    conn: Option<&quinn::Connection>,
    send: &mut quinn::SendStream,
    request_id: u64,
    code: ErrorCode,
    message: String,
    goodbye: Option<Goodbye>,
) -> HandshakeError {
    tracing::info!(%code, message = %message.escape_debug(), "handshake refused");
    // Best effort: tell the client why, then close.
    let _ = send.write_all(&error_frame(request_id, code, message.clone())).await;
    if let Some(goodbye) = goodbye {
        let _ = send.write_all(&frame(0, goodbye)).await;
    }
    let _ = send.finish();
    let _ = tokio::time::timeout(Duration::from_millis(500), send.stopped()).await;
    if let Some(conn) = conn {
        let close = if code.as_u16() / 1000 == 2 { close_code::AUTH_FAILED } else { close_code::PROTOCOL_ERROR };
        conn.close(close.into(), code.name().as_bytes());
    }
    HandshakeError::Refused(code, message)
}
