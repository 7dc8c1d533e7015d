//! The event stream of one session: frames in, typed events out to the app, duplicates dropped.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use quip_protocol::ServerBody;
use quip_protocol::family::conversations::ConversationChange;
use quip_protocol::family::messages::MessageEvent;

use crate::Error;
use crate::cursors::Admit;
use crate::event_source::EventSource;
use crate::events::{Event, EventTx};
use crate::session_end::SessionEnd;
use crate::shared::Shared;
use crate::sync::lock;

/// Reads the event stream of one session and hands events to the app, dropping duplicates.
pub(crate) async fn event_loop(
    stream: BoxFuture<'static, Result<EventSource, Error>>,
    shared: Arc<Shared>,
    tx: EventTx,
    resumed: bool,
) -> SessionEnd {
    // A send error means the app dropped its EventStream: events are then discarded, cursors still kept.
    let _ = tx.send(Box::new(Event::Connected { resumed })).await;
    let mut reader = match stream.await {
        Ok(source) => source,
        Err(e) => return SessionEnd::lost(e.to_string()),
    };
    loop {
        let frame = match reader.next().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return SessionEnd::lost("the broker closed the event stream"),
            Err(e) => return SessionEnd::lost(format!("event stream: {e}")),
        };
        let event = match frame.body {
            ServerBody::MessageEvent(event) => {
                deliver_message(&shared, &tx, event).await;
                continue;
            }
            ServerBody::Goodbye(goodbye) => return SessionEnd::Goodbye(goodbye),
            // Names the session the stream belongs to (routing is the transport's business).
            ServerBody::EventStreamOpen(_) => continue,
            ServerBody::SyncDone(done) => {
                // On the event stream it ends the replay of a resume: every replayed message is in by now.
                lock(&shared.tracker).advance_global(done.global_cursor);
                Event::SyncDone(done)
            }
            ServerBody::ConversationEvent(event) => {
                if matches!(event.change, ConversationChange::Created | ConversationChange::MembersAdded) {
                    lock(&shared.tracker).note_conversation(event.conversation.id);
                }
                Event::Conversation(event)
            }
            ServerBody::ReceiptEvent(event) => Event::Receipt(event),
            ServerBody::UnreadEvent(event) => Event::Unread(event),
            other => Event::Other(other),
        };
        let _ = tx.send(Box::new(event)).await;
    }
}

/// Hands one message to the app unless it already has it, then records it as delivered.
async fn deliver_message(shared: &Shared, tx: &EventTx, event: MessageEvent) {
    let (conv, seq) = (event.message.conversation_id, event.message.seq);
    let admit = lock(&shared.tracker).admit(conv, seq);
    match admit {
        Admit::Duplicate => {
            tracing::trace!(conv, seq, "dropping a message already delivered");
            return;
        }
        Admit::Gap { expected } => tracing::warn!(conv, seq, expected, "messages missing before this one"),
        Admit::Next => {}
    }
    // Waiting here is the backpressure: the broker's stream is not read while the app is behind.
    let permit = tx.reserve().await;
    {
        let mut tracker = lock(&shared.tracker);
        tracker.delivered(conv, seq);
        // Replayed messages come per conversation, not in cursor order: only live ones (and SyncDone) may
        // raise the global cursor, or an interrupted replay could skip a conversation on the next resume.
        if !event.replay {
            tracker.advance_global(event.cursor);
        }
    }
    if let Ok(permit) = permit {
        permit.send(Box::new(Event::Message { message: event.message, replay: event.replay }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;

    #[tokio::test]
    async fn messages_are_delivered_once_and_cursors_follow() {
        let server = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let cfg = ClientConfig::new(server, crate::Trust::Fingerprint(String::new()), "t", "d");
        let shared = Shared::new(&cfg);
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let msg = |seq: u64, cursor: u64, replay: bool| MessageEvent {
            message: quip_protocol::family::messages::Message { conversation_id: 5, seq, ..Default::default() },
            cursor,
            replay,
        };
        for (seq, cursor, replay) in [(1, 10, false), (2, 11, false), (2, 11, true), (3, 40, true), (1, 10, true)] {
            deliver_message(&shared, &tx, msg(seq, cursor, replay)).await;
        }
        let mut seqs = Vec::new();
        while let Some(Event::Message { message, .. }) = rx.try_recv().ok().map(|e| *e) {
            seqs.push(message.seq);
        }
        assert_eq!(seqs, vec![1, 2, 3]);
        let tracker = lock(&shared.tracker);
        assert_eq!(tracker.seq(5), Some(3));
        assert_eq!(tracker.global(), 11, "a replayed cursor does not move the global cursor");
    }

    #[tokio::test]
    async fn cursors_still_advance_when_the_app_dropped_its_stream() {
        let server = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let cfg = ClientConfig::new(server, crate::Trust::Fingerprint(String::new()), "t", "d");
        let shared = Shared::new(&cfg);
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let event = MessageEvent {
            message: quip_protocol::family::messages::Message { conversation_id: 1, seq: 4, ..Default::default() },
            cursor: 9,
            replay: false,
        };
        deliver_message(&shared, &tx, event).await;
        assert_eq!(lock(&shared.tracker).seq(1), Some(4));
        assert_eq!(shared.terminal_error(), Error::Closed);
    }
}
