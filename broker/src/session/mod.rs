//! One client connection: handshake, then two loops.
//!
//! - The *reader* task reads requests from the control stream and runs them (`crate::cmd`); replies
//!   and session changes go to the writer loop through a bounded channel, so a client that sends
//!   faster than it reads is slowed down rather than buffered without end.
//! - The *writer* loop (this module's `run`) owns everything the client is sent: replies on the
//!   control stream, and events on the event stream in order, deduplicated and gap-checked by
//!   sequence number (`delivery.rs`). It is the only task that touches the session's delivery state,
//!   so that state needs no lock.
//!
//! A session counts in its user's presence (`crate::presence`) from its registration with the hub until
//! it ends: the user's contacts hear they came online, and, after a grace period, that they went offline.

mod control;
mod delivery;
mod handshake;
mod shared_stream;
mod sink;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use quip_protocol::family::session::{CloseReason, Goodbye};
use quip_service::Watch;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::Broker;
use crate::hub::{Outbound, SessionHandle};
use crate::lane::Lane;
use crate::wire::{close_code, frame};
pub use control::ToWriter;
pub use delivery::Delivery;
use sink::EventSink;

/// Most sessions one connection (a gateway's) may carry at once.
pub(crate) const MAX_SESSIONS_PER_CONNECTION: u32 = 4096;

/// What the accept loop let a connection in with: its slot for the connection's life, and a handshake slot
/// given back once the first session is authenticated (or refused).
#[derive(Debug)]
pub struct Admitted {
    pub connection: quip_service::ConnectionPermit,
    pub handshake: quip_service::HandshakePermit,
}

/// Serves one connection until it closes or the broker shuts down.
pub async fn serve(broker: Arc<Broker>, incoming: quinn::Incoming, admitted: Admitted, shutdown: Watch) {
    let Admitted { connection: _connection, handshake } = admitted;
    let remote = incoming.remote_address();
    let conn = match tokio::time::timeout(Duration::from_secs(10), incoming).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::debug!(%remote, error = %e, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%remote, "handshake timed out");
            return;
        }
    };
    let stats = broker.stats.clone();
    let _counted = stats.connection();
    let session_id = broker.next_session_id();
    let span = tracing::info_span!("session", id = session_id, %remote);
    // Rare and one-off steps run boxed: an async fn's state is as large as its largest await, and this
    // task lives as long as the connection, so inline they would cost every idle connection their size.
    let first = Box::pin(handshake::accept_first(&broker, &conn, session_id)).instrument(span.clone()).await;
    drop(handshake);
    let first = match first {
        Ok(session) => session,
        Err(e) => {
            span.in_scope(|| tracing::info!(error = %e, "session refused"));
            return;
        }
    };
    if !first.multiplexed {
        run(broker, conn, first, None, shutdown).instrument(span).await;
        return;
    }
    serve_gateway(broker, conn, first, span, shutdown).await;
}

/// A multiplexed connection (a gateway such as quip-bridge): every control stream the client opens is one
/// more session, each with its own Hello and token. The connection closes once the client closes it, or
/// on shutdown once every session has said goodbye.
async fn serve_gateway(
    broker: Arc<Broker>,
    conn: quinn::Connection,
    first: handshake::Accepted,
    span: tracing::Span,
    shutdown: Watch,
) {
    let remote = conn.remote_address();
    conn.set_max_concurrent_bi_streams(MAX_SESSIONS_PER_CONNECTION.into());
    metrics::gauge!("quip_gateway_connections").increment(1.0);
    let lane = Lane::new();
    let writer = shared_stream::Writer::spawn(conn.clone(), lane.clone());
    let mut sessions = tokio::task::JoinSet::new();
    sessions.spawn(run(broker.clone(), conn.clone(), first, Some(lane.clone()), shutdown.clone()).instrument(span));
    loop {
        tokio::select! {
            () = shutdown.signaled() => break,
            streams = conn.accept_bi() => {
                let Ok((send, recv)) = streams else { break };
                let (broker, conn, lane, shutdown) = (broker.clone(), conn.clone(), lane.clone(), shutdown.clone());
                let session_id = broker.next_session_id();
                let span = tracing::info_span!("session", id = session_id, %remote, gateway = true);
                sessions.spawn(
                    async move {
                        match Box::pin(handshake::accept(&broker, &conn, send, recv, session_id, true)).await {
                            Ok(session) => run(broker, conn, session, Some(lane), shutdown).await,
                            Err(e) => tracing::info!(error = %e, "session refused"),
                        }
                    }
                    .instrument(span),
                );
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    while sessions.join_next().await.is_some() {}
    // The sessions' last events (their Goodbyes) may still be on the shared stream.
    writer.finish().await;
    conn.close(close_code::SHUTDOWN.into(), b"ServerShutdown");
    metrics::gauge!("quip_gateway_connections").decrement(1.0);
}

/// Runs one session; `lane` is its connection's shared event stream when it is a gateway's.
async fn run(
    broker: Arc<Broker>,
    conn: quinn::Connection,
    s: handshake::Accepted,
    lane: Option<Lane>,
    shutdown: Watch,
) {
    let handshake::Accepted {
        session_id,
        control_stream_id,
        multiplexed,
        shared_events,
        passive,
        user,
        device_id,
        control_send,
        control_reader,
        expires_at,
        resume,
        welcome_cursor,
        card,
    } = s;
    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(broker.cfg.limits.outbound_queue);
    let lagging = Arc::new(AtomicBool::new(false));
    // A gateway session that asked for it gets its events on the connection's shared stream, the hub
    // sending them itself while the session is in step (`crate::lane`).
    let lane = lane.filter(|_| shared_events);
    if let Some(lane) = &lane {
        lane.join(control_stream_id);
    }
    let handle = SessionHandle {
        session_id,
        device_id: device_id.clone(),
        tx: out_tx,
        lagging: lagging.clone(),
        gateway: multiplexed,
        lane: lane.clone().map(|lane| (lane, control_stream_id)),
        connected_at_ms: crate::now_ms(),
    };
    // The same device connecting again replaces its older session.
    if let Some(existing) = broker.hub.sessions_of(&user) {
        let replaced = Goodbye {
            reason: CloseReason::Replaced,
            message: "the same device connected again".into(),
            reconnect_after_ms: 0,
        };
        for old in existing.iter().filter(|h| h.device_id == device_id) {
            let _ = old.tx.try_send(Outbound::Close(replaced.clone()));
        }
    }
    broker.hub.register(&user, handle);
    // Counts the session in the user's presence until it is dropped (even if this task is aborted); a
    // passive session (requests alone, no live client) never counts.
    let presence = if passive { None } else { Some(broker.presence.connect(&user, session_id, card).await) };
    let transport = if multiplexed { "gateway" } else { "native" };
    metrics::gauge!("quip_sessions", "transport" => transport).increment(1.0);
    tracing::info!(user = %user, device = %device_id, "session open");

    let result = async {
        let mut events = match lane.clone() {
            Some(lane) => EventSink::Shared { lane, control_stream_id },
            None => EventSink::own(&conn, control_stream_id, session_id).await?,
        };
        let mut delivery = Delivery::new(broker.clone(), user.clone());
        Box::pin(delivery.start(&mut events, resume.as_ref(), welcome_cursor)).await?;
        events.go_direct(delivery.delivered(), || out_rx.is_empty());

        let (reply_tx, reply_rx) = mpsc::channel::<Bytes>(64);
        let replies = tokio::spawn(write_replies(control_send, reply_rx).in_current_span());
        let (to_writer, mut from_reader) = mpsc::channel::<ToWriter>(16);
        let reader = tokio::spawn(
            crate::cmd::read_loop(
                broker.clone(),
                crate::cmd::SessionInfo { user: user.clone(), device_id: device_id.clone(), session_id, gateway: multiplexed },
                control_reader,
                reply_tx.clone(),
                to_writer,
            )
            .in_current_span(),
        );
        let mut expires_at = expires_at;
        let queue_depth = metrics::histogram!("quip_outbound_queue_depth");
        let goodbye = loop {
            let expiry = tokio::time::sleep(until(expires_at));
            tokio::select! {
                biased;
                () = shutdown.signaled() => break Goodbye {
                    reason: CloseReason::ServerShutdown,
                    message: "server shutting down".into(),
                    reconnect_after_ms: 1000,
                },
                () = expiry => break Goodbye { reason: CloseReason::TokenExpired, message: "token expired".into(), reconnect_after_ms: 0 },
                msg = from_reader.recv() => match msg {
                    Some(ToWriter::Sync { request_id, since }) => {
                        if let Some(delivered) = events.take_back() {
                            delivery.resume_from(delivered);
                        }
                        let done = Box::pin(delivery.sync(&mut events, &since)).await?;
                        let _ = reply_tx.send(frame(request_id, done)).await;
                    }
                    Some(ToWriter::TokenExpiry(at)) => expires_at = at,
                    Some(ToWriter::Close(goodbye)) => break goodbye,
                    None => break Goodbye::default(),
                },
                out = out_rx.recv() => match out {
                    Some(Outbound::Close(goodbye)) => break goodbye,
                    Some(out) => {
                        queue_depth.record(out_rx.len() as f64);
                        if let Some(delivered) = events.take_back() {
                            delivery.resume_from(delivered);
                        }
                        delivery.deliver(&mut events, out).await?;
                        // What else is queued already goes out in the same stream write: one wake-up of
                        // the connection and, usually, one packet for a message and the events it caused.
                        let mut closing = None;
                        while !delivery.buffered_enough() {
                            match out_rx.try_recv() {
                                Ok(Outbound::Close(goodbye)) => {
                                    closing = Some(goodbye);
                                    break;
                                }
                                Ok(out) => delivery.deliver(&mut events, out).await?,
                                Err(_) => break,
                            }
                        }
                        delivery.flush(&mut events).await?;
                        if let Some(goodbye) = closing {
                            break goodbye;
                        }
                    }
                    None => break Goodbye::default(),
                },
            }
            if lagging.swap(false, Ordering::AcqRel) {
                if let Some(delivered) = events.take_back() {
                    delivery.resume_from(delivered);
                }
                Box::pin(delivery.catch_up(&mut events)).await?;
            }
            events.go_direct(delivery.delivered(), || out_rx.is_empty() && !lagging.load(Ordering::Acquire));
        };
        reader.abort();
        drop(reply_tx);
        // Finish what is in flight: sends already queued to the writer are committed and their acks
        // written; the reply channel closes when the last of them has replied. On shutdown this may
        // take up to the drain deadline; otherwise only a moment.
        let wait = if goodbye.reason == CloseReason::ServerShutdown {
            broker.drain_timeout()
        } else {
            Duration::from_millis(500)
        };
        if tokio::time::timeout(wait, replies).await.is_err() {
            tracing::debug!("replies still pending at close");
        }
        let code = match goodbye.reason {
            CloseReason::ServerShutdown => close_code::SHUTDOWN,
            CloseReason::TokenExpired => close_code::TOKEN_EXPIRED,
            CloseReason::ProtocolError => close_code::PROTOCOL_ERROR,
            _ => close_code::NORMAL,
        };
        let reason = goodbye.reason;
        // Best effort: the client may already be gone. The close reason names it as well.
        events.close(frame(0, goodbye)).await;
        // A gateway's connection carries other sessions: only this one's streams end.
        if !multiplexed {
            conn.close(code.into(), format!("{reason:?}").as_bytes());
        }
        anyhow::Ok(())
    }
    .await;

    broker.hub.unregister(&user, session_id);
    if let Some(lane) = &lane {
        lane.leave(control_stream_id);
    }
    drop(presence);
    metrics::gauge!("quip_sessions", "transport" => transport).decrement(1.0);
    match result {
        Ok(()) => tracing::info!("session closed"),
        Err(e) => tracing::info!(error = %e, "session ended"),
    }
}

/// Writes replies to the control stream in the order they are produced, then finishes it.
async fn write_replies(mut send: quinn::SendStream, mut replies: mpsc::Receiver<Bytes>) {
    while let Some(bytes) = replies.recv().await {
        if send.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = send.finish();
}

/// Time left until `expires_at` (seconds since the epoch).
fn until(expires_at: u64) -> Duration {
    let now = crate::now_ms() / 1000;
    Duration::from_secs(expires_at.saturating_sub(now))
}
