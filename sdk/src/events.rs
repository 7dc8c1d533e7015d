//! What the app is told: typed events, in order, through one bounded stream.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use quip_protocol::ServerBody;
use quip_protocol::family::conversations::ConversationEvent;
use quip_protocol::family::messages::{Message, SyncDone};
use quip_protocol::family::receipts::{ReceiptEvent, UnreadEvent};
use quip_protocol::family::session::Goodbye;
use tokio::sync::mpsc;

use crate::Error;
use crate::receipts::DeliveryReports;

/// One thing that happened, in the order it happened.
///
/// Messages of one conversation arrive in `seq` order with no gap and no duplicate, across reconnects
/// too. The last event before the stream ends is always `Disconnected { will_reconnect: false, .. }`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A session is up: the first one, or a new one after a reconnect (`resumed: true` when the broker
    /// accepted the resume point and replays what was missed).
    Connected { resumed: bool },
    /// A message stored in one of the user's conversations (the user's own included). `replay` is true for
    /// messages sent while this device was away (or caught up after falling behind).
    Message { message: Message, replay: bool },
    /// A conversation the user is in was created or changed.
    Conversation(ConversationEvent),
    /// A member's delivered or read watermark moved (the user's own included, from any device).
    Receipt(ReceiptEvent),
    /// The user's unread count of a conversation changed (e.g. they read it on another device).
    Unread(UnreadEvent),
    /// The replay after a resume is complete (`replayed` counts what the broker sent, duplicates the SDK
    /// dropped included).
    SyncDone(SyncDone),
    /// The session ended. With `will_reconnect` the SDK is reconnecting (an `Event::Connected` follows on
    /// success); without it the client is finished and the stream ends.
    Disconnected { reason: DisconnectReason, will_reconnect: bool },
    /// Any other event (typing, presence, ... as the broker adds them).
    Other(ServerBody),
}

/// Why a session ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The broker said goodbye (token expired, shutdown, replaced by a newer session of this device, ...).
    Goodbye(Goodbye),
    /// The connection was lost (network, idle timeout, broker stopped without a goodbye).
    ConnectionLost(String),
    /// Reconnecting failed for good: the token was refused, or the attempts ran out.
    Failed(Error),
    /// The app closed the client.
    Closed,
}

/// The driver's side of the event channel. Events are boxed: a bounded tokio channel allocates its first
/// block of 32 slots when it is made, and an `Event` is a few hundred bytes, so every idle session would
/// otherwise hold ~12 KB of empty slots (a bridge holds a session per browser socket).
pub(crate) type EventTx = mpsc::Sender<Box<Event>>;
/// The app's side of [`EventTx`].
pub(crate) type EventRx = mpsc::Receiver<Box<Event>>;

/// The app's side of the event channel.
///
/// The channel is bounded (`ClientConfig::event_buffer`): while it is full the SDK stops reading the
/// broker's event stream, so QUIC flow control (and then the broker's slow-consumer catch-up) holds the
/// backlog, never an unbounded queue in the app. Requests keep working meanwhile.
///
/// A message taken from the stream counts as delivered: unless `ClientConfig::report_delivered` is off,
/// the SDK tells the broker (coalesced per conversation, see `MarkDelivered`).
#[derive(Debug)]
pub struct EventStream {
    rx: EventRx,
    reports: Option<Arc<DeliveryReports>>,
}

impl EventStream {
    pub(crate) fn new(rx: EventRx, reports: Option<Arc<DeliveryReports>>) -> Self {
        Self { rx, reports }
    }

    /// Notes a message handed to the app as delivered.
    fn taken(&self, event: Option<Event>) -> Option<Event> {
        if let (Some(Event::Message { message, .. }), Some(reports)) = (&event, &self.reports) {
            reports.note(message.conversation_id, message.seq, &message.sender.id);
        }
        event
    }

    /// The next event, or `None` once the client is finished and every event was read.
    pub async fn next_event(&mut self) -> Option<Event> {
        let event = self.rx.recv().await;
        self.taken(event.map(|e| *e))
    }

    /// The next event within `timeout`: [`Error::Timeout`] if none came, [`Error::Closed`] if the stream
    /// ended.
    pub async fn next_event_timeout(&mut self, timeout: Duration) -> Result<Event, Error> {
        match tokio::time::timeout(timeout, self.rx.recv()).await {
            Ok(Some(event)) => self.taken(Some(*event)).ok_or(Error::Closed),
            Ok(None) => Err(Error::Closed),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// The next message within `timeout`, skipping other events. Handy in tests.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<Message, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await.map(|e| e.map(|e| *e)) {
                Ok(Some(Event::Message { message, .. })) => {
                    if let Some(reports) = &self.reports {
                        reports.note(message.conversation_id, message.seq, &message.sender.id);
                    }
                    return Ok(message);
                }
                Ok(Some(_)) => continue,
                Ok(None) => return Err(Error::Closed),
                Err(_) => return Err(Error::Timeout),
            }
        }
    }

    /// An event already waiting, without waiting.
    pub fn try_next_event(&mut self) -> Option<Event> {
        let event = self.rx.try_recv().ok();
        self.taken(event.map(|e| *e))
    }
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(event) => Poll::Ready(self.taken(event.map(|e| *e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn stream_and_helpers_read_the_same_channel() {
        let (tx, rx) = mpsc::channel(4);
        let reports = Arc::new(DeliveryReports::default());
        let mut events = EventStream::new(rx, Some(reports.clone()));
        tx.send(Box::new(Event::Connected { resumed: false })).await.unwrap();
        tx.send(Box::new(Event::Message { message: Message { seq: 1, ..Message::default() }, replay: false }))
            .await
            .unwrap();
        assert!(matches!(events.next().await, Some(Event::Connected { resumed: false })));
        assert!(matches!(events.try_next_event(), Some(Event::Message { .. })));
        assert!(events.try_next_event().is_none());
        let waited = events.next_event_timeout(Duration::from_millis(10)).await;
        assert_eq!(waited.unwrap_err(), Error::Timeout);

        tx.send(Box::new(Event::SyncDone(SyncDone::default()))).await.unwrap();
        tx.send(Box::new(Event::Message { message: Message { seq: 2, ..Message::default() }, replay: true }))
            .await
            .unwrap();
        assert_eq!(events.next_message(Duration::from_secs(1)).await.unwrap().seq, 2);
        // Every message the app took is to be reported as delivered, once per conversation.
        assert_eq!(reports.take(), vec![(0, 2)]);
        drop(tx);
        assert_eq!(events.next_message(Duration::from_secs(1)).await.unwrap_err(), Error::Closed);
        assert!(events.next_event().await.is_none());
    }
}
