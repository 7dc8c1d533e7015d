//! The connection task: one per client, it owns the broker session and outlives it across reconnects.
//!
//! Concurrency: a single task (the driver) owns the control stream, the request ids and the pending map,
//! so none of them needs a lock. Within a session it polls, in one `select!`, the app's commands, the
//! replies on the control stream, the heartbeat, and the event-stream future; that future waits for room
//! in the app's bounded event channel (backpressure) without holding up replies. The only state shared
//! with the app (`Shared`) sits behind short `std` mutexes that are never held across an `.await`.
//!
//! Delivery receipts: the `EventStream` notes the messages the app takes (`receipts.rs`); the driver
//! wakes on that and writes one `MarkDelivered` per conversation (request id 0: no reply), at most once
//! per `REPORT_INTERVAL`, so a burst of messages costs a handful of frames.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use quip_protocol::family::session::{CloseReason, Goodbye};
use quip_protocol::{ClientFrame, ServerBody, ServerFrame};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::delivery::event_loop;
use crate::events::{DisconnectReason, Event, EventTx};
use crate::handshake::{Live, goodbye_from_close, open};
use crate::receipts::{DeliveryReports, REPORT_INTERVAL};
use crate::requests::{InFlight, Request};
use crate::session_end::SessionEnd;
use crate::shared::{ConnectionState, Shared};
use crate::sync::lock;
use crate::transport::{BoxWrite, CloseInfo, Transport};
use crate::wire::{WriteError, write_frame};
use crate::{ClientConfig, Error};

/// What the app asks of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    /// Boxed, so that the command queue's slots stay small (see `events::EventTx`).
    Request(Box<Request>),
    /// Say goodbye, close, and tell `done` when finished.
    Close(oneshot::Sender<()>),
}

/// The smallest `max_frame_size` a broker may announce.
const MIN_FRAME_SIZE: u32 = 16 * 1024;

/// How long a lost session's last events and close reason are waited for.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// After a session: try again (not before the delay), or stop with an error.
enum Next {
    Reconnect(Duration),
    Stop(Error),
}

pub(crate) struct Driver<T> {
    transport: Arc<T>,
    config: Arc<ClientConfig>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    events: EventTx,
    /// Sends to write first thing in the next session (in flight when the last one dropped, or asked for
    /// while offline), in order.
    outbox: Vec<Request>,
    close_waiters: Vec<oneshot::Sender<()>>,
    /// `close()` was called or every `Client` is gone.
    closing: bool,
    /// The command channel returned `None` (every `Client` is gone): stop polling it.
    commands_done: bool,
}

impl<T: Transport> Driver<T> {
    pub(crate) fn new(
        transport: Arc<T>,
        config: Arc<ClientConfig>,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        events: EventTx,
    ) -> Self {
        Self {
            transport,
            config,
            shared,
            commands,
            events,
            outbox: Vec::new(),
            close_waiters: Vec::new(),
            closing: false,
            commands_done: false,
        }
    }

    /// Runs sessions, reconnecting between them, until the client is closed or gives up.
    pub(crate) async fn run(mut self, first: Live) {
        let mut live = first;
        let (reason, error) = loop {
            let end = self.run_session(live).await;
            let (reason, next) = self.classify(end);
            let min_delay = match next {
                Next::Stop(error) => break (reason, error),
                Next::Reconnect(_) if !self.config.reconnect.allows(0) => break (reason, Error::Disconnected),
                Next::Reconnect(delay) => delay,
            };
            tracing::info!(?reason, "disconnected; reconnecting");
            self.shared.state.send_replace(ConnectionState::Reconnecting);
            let events = self.events.clone();
            let announced = Event::Disconnected { reason, will_reconnect: true };
            if self.offline(async move { events.send(Box::new(announced)).await.is_ok() }).await.is_none() {
                break (DisconnectReason::Closed, Error::Closed);
            }
            match self.reconnect(min_delay).await {
                Ok(next) => live = next,
                Err(Error::Closed) => break (DisconnectReason::Closed, Error::Closed),
                Err(error) => break (DisconnectReason::Failed(error.clone()), error),
            }
        };
        self.finish(reason, error).await;
    }

    /// One session, from its `Welcome` until it ends.
    async fn run_session(&mut self, live: Live) -> SessionEnd {
        let Live { welcome, mut control_send, mut control, events, mut closed, close, multiplexed } = live;
        let resumed = welcome.resuming;
        // A broker announcing no limit is held to the smallest one a broker may configure.
        let max_frame = welcome.max_frame_size.max(MIN_FRAME_SIZE);
        let heartbeat = heartbeat_period(welcome.heartbeat_ms);
        if !resumed {
            // Live from Welcome on: everything up to its cursor is history, not something we missed.
            lock(&self.shared.tracker).advance_global(welcome.global_cursor);
        }
        tracing::info!(session = welcome.session_id, user = %welcome.user.id, resumed, "session open");
        self.shared.reports.set_user(&welcome.user.id);
        *lock(&self.shared.welcome) = Some(welcome);
        self.shared.state.send_replace(ConnectionState::Connected);

        let mut inflight = InFlight::new();
        let event_loop = event_loop(events, self.shared.clone(), self.events.clone(), resumed);
        tokio::pin!(event_loop);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let mut end = None;
        for request in std::mem::take(&mut self.outbox) {
            if end.is_none() {
                end = submit(&mut control_send, &mut inflight, request, max_frame).await.err();
            } else {
                self.outbox.push(request);
            }
        }
        let mut events_ended = false;
        let reports = self.shared.reports.clone();
        // When the next delivery report goes out (`None`: nothing to report), and when the last one did.
        // Reports left over from the last session go out first thing.
        let mut report_at = reports.has_pending().then(tokio::time::Instant::now);
        let mut last_report: Option<tokio::time::Instant> = None;
        let end = match end {
            Some(end) => end,
            None => loop {
                tokio::select! {
                    end = &mut event_loop => {
                        events_ended = true;
                        break end;
                    }
                    info = &mut closed => break SessionEnd::Lost { detail: info.to_string(), info: Some(info) },
                    frame = control.next() => match frame {
                        Ok(Some(frame)) => {
                            if let Some(end) = self.on_control(frame, &mut inflight) {
                                break end;
                            }
                        }
                        Ok(None) => break SessionEnd::lost("the broker closed the control stream"),
                        Err(e) => break SessionEnd::lost(format!("control stream: {e}")),
                    },
                    command = self.commands.recv(), if !self.commands_done => match command {
                        Some(Command::Request(request)) => {
                            if let Err(end) = submit(&mut control_send, &mut inflight, *request, max_frame).await {
                                break end;
                            }
                        }
                        Some(Command::Close(done)) => {
                            self.close_waiters.push(done);
                            self.closing = true;
                            break SessionEnd::ClientClosed;
                        }
                        None => {
                            self.commands_done = true;
                            self.closing = true;
                            break SessionEnd::ClientClosed;
                        }
                    },
                    () = reports.noted(), if report_at.is_none() => {
                        let now = tokio::time::Instant::now();
                        report_at = Some(last_report.map_or(now, |last| (last + REPORT_INTERVAL).max(now)));
                    }
                    () = sleep_until(report_at) => {
                        report_at = None;
                        last_report = Some(tokio::time::Instant::now());
                        if let Err(end) = report_delivered(&mut control_send, &reports, max_frame).await {
                            break end;
                        }
                    }
                    _ = ticker.tick() => {
                        inflight.sweep();
                        // A gateway's sessions share one connection, which QUIC's keep-alives keep alive
                        // (`transport.rs`): a ping per session would only cost both ends CPU while idle.
                        if multiplexed {
                            continue;
                        }
                        let ping = ClientFrame::new(inflight.next_id(), quip_protocol::family::session::Ping { nonce: 0 });
                        if let Err(WriteError::Io(e)) = write_frame(&mut control_send, &ping, max_frame).await {
                            break SessionEnd::lost(format!("heartbeat: {e}"));
                        }
                    }
                }
            },
        };

        let end = match end {
            SessionEnd::ClientClosed => {
                say_goodbye(&mut control_send, &mut closed, max_frame).await;
                close(0, "client closed");
                SessionEnd::ClientClosed
            }
            SessionEnd::Lost { detail, info } => {
                // What the broker wrote before the connection went is still readable, above all a Goodbye
                // saying not to come back (`Replaced`, `Kicked`); messages in it reach the app too.
                let goodbye = if events_ended {
                    None
                } else {
                    match tokio::time::timeout(DRAIN_GRACE, &mut event_loop).await {
                        Ok(SessionEnd::Goodbye(goodbye)) => Some(goodbye),
                        _ => None,
                    }
                };
                // The streams may fail a moment before the connection reports its close code.
                let info = match info {
                    Some(info) => Some(info),
                    None => tokio::time::timeout(DRAIN_GRACE, &mut closed).await.ok(),
                };
                close(0, "reconnecting");
                match goodbye.or_else(|| info.as_ref().and_then(goodbye_from_close)) {
                    Some(goodbye) => SessionEnd::Goodbye(goodbye),
                    None => SessionEnd::Lost { detail, info },
                }
            }
            goodbye => {
                close(0, "goodbye");
                goodbye
            }
        };
        // Sends go around again (they are idempotent), ahead of any the outbox still holds (those were not
        // written yet, so they came later); everything else was possibly lost with the session.
        let mut resend = Vec::new();
        for request in inflight.drain_in_order() {
            if request.abandoned() {
                continue;
            }
            if request.is_resendable() && !matches!(end, SessionEnd::ClientClosed) {
                resend.push(request);
            } else {
                request.answer(Err(Error::Disconnected));
            }
        }
        resend.append(&mut self.outbox);
        self.outbox = resend;
        end
    }

    /// A frame from the control stream: a reply, or (request id 0) something addressed to nobody.
    fn on_control(&mut self, frame: ServerFrame, inflight: &mut InFlight) -> Option<SessionEnd> {
        let ServerFrame { request_id, body } = frame;
        if request_id == 0 {
            match body {
                ServerBody::Goodbye(goodbye) => return Some(SessionEnd::Goodbye(goodbye)),
                ServerBody::ErrorReply(e) => {
                    tracing::warn!(code = %e.code, message = %e.message, "broker error not tied to a request");
                    // Rare; dropped rather than stall replies when the app is behind on events.
                    let _ = self.events.try_send(Box::new(Event::Other(ServerBody::ErrorReply(e))));
                }
                other => {
                    tracing::debug!(body = other.name(), "event on the control stream");
                    let _ = self.events.try_send(Box::new(Event::Other(other)));
                }
            }
            return None;
        }
        let result = match body {
            ServerBody::ErrorReply(e) => Err(Error::from(e)),
            other => Ok(other),
        };
        if !inflight.resolve(request_id, result) {
            tracing::trace!(request_id, "reply nobody waits for (heartbeat or abandoned request)");
        }
        None
    }

    fn classify(&self, end: SessionEnd) -> (DisconnectReason, Next) {
        match end {
            SessionEnd::ClientClosed => (DisconnectReason::Closed, Next::Stop(Error::Closed)),
            SessionEnd::Goodbye(goodbye) => {
                let next = match goodbye.reason {
                    CloseReason::TokenExpired | CloseReason::Revoked | CloseReason::Kicked | CloseReason::Replaced => {
                        Next::Stop(Error::Goodbye { reason: goodbye.reason, message: goodbye.message.clone() })
                    }
                    _ => Next::Reconnect(Duration::from_millis(u64::from(goodbye.reconnect_after_ms))),
                };
                (DisconnectReason::Goodbye(goodbye), next)
            }
            SessionEnd::Lost { detail, .. } => {
                (DisconnectReason::ConnectionLost(detail), Next::Reconnect(Duration::ZERO))
            }
        }
    }

    /// Tries to open a new session, resuming, with exponential backoff.
    async fn reconnect(&mut self, mut min_delay: Duration) -> Result<Live, Error> {
        let policy = self.config.reconnect.clone();
        let mut last = Error::Disconnected;
        let mut attempt = 0;
        while policy.allows(attempt) {
            let delay = policy.delay(attempt, jitter()).max(min_delay);
            attempt += 1;
            tracing::debug!(attempt, ?delay, "reconnecting after a delay");
            self.offline(tokio::time::sleep(delay)).await.ok_or(Error::Closed)?;
            let hello = {
                let token = lock(&self.shared.token).clone();
                let tracker = lock(&self.shared.tracker);
                crate::handshake::hello(token, self.config.device_id.clone(), Some(&tracker), None)
            };
            let (transport, config) = (self.transport.clone(), self.config.clone());
            match self.offline(async move { open(&*transport, &config, hello).await }).await {
                None => return Err(Error::Closed),
                Some(Ok(live)) => return Ok(live),
                Some(Err(e)) if e.is_permanent() => return Err(e),
                Some(Err(e)) => {
                    tracing::info!(attempt, error = %e, "reconnect attempt failed");
                    min_delay = e.retry_after().unwrap_or_default();
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// Runs `fut` while answering commands the way an offline client does. `None` when the client is
    /// closed meanwhile (`fut` is then dropped).
    async fn offline<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.closing {
                return None;
            }
            tokio::select! {
                out = &mut fut => return Some(out),
                command = self.commands.recv(), if !self.commands_done => match command {
                    Some(Command::Request(request)) if request.is_resendable() => self.outbox.push(*request),
                    Some(Command::Request(request)) => request.answer(Err(Error::Disconnected)),
                    Some(Command::Close(done)) => {
                        self.close_waiters.push(done);
                        self.closing = true;
                    }
                    None => {
                        self.commands_done = true;
                        self.closing = true;
                    }
                },
            }
        }
    }

    /// The client is finished: fail whatever waits, release `close()` callers, send the last event.
    async fn finish(mut self, reason: DisconnectReason, error: Error) {
        tracing::info!(?reason, %error, "client finished");
        *lock(&self.shared.terminal) = Some(error.clone());
        self.shared.state.send_replace(ConnectionState::Closed);
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Request(request) => request.answer(Err(error.clone())),
                Command::Close(done) => self.close_waiters.push(done),
            }
        }
        for request in self.outbox.drain(..) {
            request.answer(Err(error.clone()));
        }
        for done in self.close_waiters.drain(..) {
            let _ = done.send(());
        }
        // Waits for room if the app is behind; returns at once if it dropped its EventStream.
        let _ = self.events.send(Box::new(Event::Disconnected { reason, will_reconnect: false })).await;
    }
}

/// Writes one request and files it as pending. A frame too large is answered at once; a broken stream
/// ends the session (the request is then handled with the others in flight).
async fn submit(
    out: &mut BoxWrite,
    inflight: &mut InFlight,
    request: Request,
    max_frame: u32,
) -> Result<(), SessionEnd> {
    if request.abandoned() {
        return Ok(());
    }
    let id = inflight.next_id();
    let frame = ClientFrame::new(id, request.body.clone());
    match write_frame(out, &frame, max_frame).await {
        Ok(()) => {
            inflight.insert(id, request);
            Ok(())
        }
        Err(WriteError::TooLarge(e)) => {
            request.answer(Err(e));
            Ok(())
        }
        Err(WriteError::Io(e)) => {
            inflight.insert(id, request);
            Err(SessionEnd::lost(format!("control stream: {}", crate::error::with_causes(&e))))
        }
    }
}

/// Tells the broker which messages reached the app: one `MarkDelivered` per conversation, request id 0
/// (the broker answers only if it refuses). What cannot be written is kept for the next session.
async fn report_delivered(out: &mut BoxWrite, reports: &DeliveryReports, max_frame: u32) -> Result<(), SessionEnd> {
    let all = reports.take();
    for (i, &(conversation_id, up_to_seq)) in all.iter().enumerate() {
        let mark = quip_protocol::family::receipts::MarkDelivered { conversation_id, up_to_seq };
        if let Err(WriteError::Io(e)) = write_frame(out, &ClientFrame::new(0, mark), max_frame).await {
            reports.restore(all[i..].iter().copied());
            return Err(SessionEnd::lost(format!("control stream: {}", crate::error::with_causes(&e))));
        }
    }
    Ok(())
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Tells the broker we are leaving and gives it a moment to close its side.
async fn say_goodbye(out: &mut BoxWrite, closed: &mut BoxFuture<'static, CloseInfo>, max_frame: u32) {
    let goodbye = Goodbye { reason: CloseReason::Normal, message: "client closed".into(), reconnect_after_ms: 0 };
    if write_frame(out, &ClientFrame::new(0, goodbye), max_frame).await.is_ok() {
        let _ = out.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_millis(500), closed).await;
    }
}

/// Pings at half the broker's heartbeat interval (it closes sessions silent for three intervals).
fn heartbeat_period(heartbeat_ms: u32) -> Duration {
    let ms = if heartbeat_ms == 0 { 15_000 } else { heartbeat_ms.max(2_000) };
    Duration::from_millis(u64::from(ms / 2))
}

/// A random number in `[0, 1]` for backoff jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_is_half_the_broker_interval_within_bounds() {
        assert_eq!(heartbeat_period(15_000), Duration::from_millis(7_500));
        assert_eq!(heartbeat_period(0), Duration::from_millis(7_500));
        assert_eq!(heartbeat_period(10), Duration::from_secs(1));
    }

    #[test]
    fn jitter_is_a_fraction() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..=1.0).contains(&j));
        }
    }
}
