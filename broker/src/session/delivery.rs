//! What one session has been sent, per conversation, and how it catches up.
//!
//! `delivered[conv]` is the highest sequence number written to the client's event stream. A live
//! message is written only if it is the next one; an older one is a duplicate (already replayed from
//! the store) and is dropped; a newer one means the session missed some (its queue overflowed) and
//! the gap is filled from the store first. Because every message is durable before it is published,
//! the store always holds what the hub may have dropped: no gap, no duplicate.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use quip_protocol::ResumePoint;
use quip_protocol::family::messages::SyncDone;

use super::sink::EventSink;
use crate::Broker;
use crate::hub::Outbound;
use crate::wire::{frame, message_frame};
use quip_store::StoreError;
use quip_store::model::{ConvId, Seq};

/// Messages read from the store per page while replaying.
const PAGE: usize = 256;
/// Replayed frames are written to the stream in chunks of about this size.
const WRITE_CHUNK: usize = 64 * 1024;

pub struct Delivery {
    broker: Arc<Broker>,
    user: String,
    delivered: HashMap<ConvId, Seq>,
    /// Frames queued for the next write (`flush`), and their bytes.
    parts: Vec<Bytes>,
    buffered: usize,
    /// Metric handles, resolved once per session rather than on every delivery.
    deliveries: metrics::Counter,
    latency: metrics::Histogram,
}

impl Delivery {
    pub fn new(broker: Arc<Broker>, user: String) -> Self {
        Self {
            broker,
            user,
            delivered: HashMap::new(),
            parts: Vec::new(),
            buffered: 0,
            deliveries: metrics::counter!("quip_deliveries_total"),
            latency: metrics::histogram!("quip_send_deliver_seconds"),
        }
    }

    /// The highest seq sent per conversation.
    pub fn delivered(&self) -> &HashMap<ConvId, Seq> {
        &self.delivered
    }

    /// Takes over the watermarks kept while the hub sent this session's events itself (`crate::lane`).
    pub fn resume_from(&mut self, delivered: HashMap<ConvId, Seq>) {
        self.delivered = delivered;
    }

    /// Whether enough is queued that the next frames should wait for a write.
    pub fn buffered_enough(&self) -> bool {
        self.buffered >= WRITE_CHUNK
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&quip_store::Store) -> Result<T, StoreError> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = self.broker.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
    }

    /// The head of every conversation of the user.
    async fn heads(&self) -> anyhow::Result<Vec<(ConvId, quip_store::model::ConvHead)>> {
        let user = self.user.clone();
        self.blocking(move |s| s.user_convs(&user)?.into_iter().map(|c| Ok((c, s.conv_head(c)?))).collect()).await
    }

    /// Called once the session is registered with the hub. When the client resumes, what it missed
    /// since its resume point is replayed; otherwise everything committed after the Welcome's global
    /// cursor is sent (it may have been published before the session was registered). Then SyncDone.
    pub async fn start(
        &mut self,
        events: &mut EventSink,
        resume: Option<&ResumePoint>,
        welcome_cursor: u64,
    ) -> anyhow::Result<()> {
        let heads = self.heads().await?;
        for (conv, head) in &heads {
            self.delivered.insert(*conv, head.last_seq);
        }
        let replayed = match resume {
            Some(point) => self.replay_since(events, point, true).await?,
            None => {
                let since_welcome = ResumePoint { cursors: Vec::new(), global_cursor: welcome_cursor };
                self.replay_since(events, &since_welcome, false).await?;
                0
            }
        };
        // The event stream always opens with SyncDone: "you are live from here".
        let done = SyncDone { global_cursor: self.broker.store.global_cursor(), replayed };
        self.push(frame(0, done));
        self.flush(events).await
    }

    /// A SyncRequest: replay since `since`, then report.
    pub async fn sync(&mut self, events: &mut EventSink, since: &ResumePoint) -> anyhow::Result<SyncDone> {
        let replayed = self.replay_since(events, since, true).await?;
        Ok(SyncDone { global_cursor: self.broker.store.global_cursor(), replayed })
    }

    async fn replay_since(&mut self, events: &mut EventSink, point: &ResumePoint, replay: bool) -> anyhow::Result<u32> {
        let cursors: HashMap<ConvId, Seq> = point.cursors.iter().map(|c| (c.conversation_id, c.seq)).collect();
        let heads = self.heads().await?;
        let mut replayed = 0u32;
        for (conv, head) in heads {
            if let Some(&seen) = cursors.get(&conv) {
                replayed += self.replay_range(events, conv, seen, head.last_seq, replay).await?;
            } else if head.last_lsn > point.global_cursor {
                let lsn = point.global_cursor;
                let first = self.blocking(move |s| Ok(s.since_lsn(conv, lsn, 1)?.first().map(|m| m.seq))).await?;
                if let Some(first) = first {
                    replayed += self.replay_range(events, conv, first - 1, head.last_seq, replay).await?;
                }
            }
            let d = self.delivered.entry(conv).or_insert(0);
            *d = (*d).max(head.last_seq);
        }
        self.flush(events).await?;
        Ok(replayed)
    }

    /// Writes messages `after < seq <= up_to` of `conv` from the store (buffered; call `flush`).
    async fn replay_range(
        &mut self,
        events: &mut EventSink,
        conv: ConvId,
        after: Seq,
        up_to: Seq,
        replay: bool,
    ) -> anyhow::Result<u32> {
        let mut next = after;
        let mut count = 0u32;
        while next < up_to {
            let from = next;
            let user = self.user.clone();
            let (page, last) = self.blocking(move |s| s.visible_range(&user, conv, from, up_to, PAGE)).await?;
            let Some(last) = last else { break };
            next = last;
            for m in &page {
                self.push(message_frame(m, replay));
                count += 1;
                if self.buffered_enough() {
                    self.flush(events).await?;
                }
            }
            self.delivered.insert(conv, next);
        }
        Ok(count)
    }

    fn push(&mut self, frame: Bytes) {
        self.buffered += frame.len();
        self.parts.push(frame);
    }

    /// Writes what is queued, in one stream write.
    pub async fn flush(&mut self, events: &mut EventSink) -> anyhow::Result<()> {
        if !self.parts.is_empty() {
            events.write(&mut self.parts).await?;
            self.buffered = 0;
        }
        Ok(())
    }

    /// Queues a frame from the hub for the next `flush` (a gap is filled from the store first, in order).
    pub async fn deliver(&mut self, events: &mut EventSink, out: Outbound) -> anyhow::Result<()> {
        match out {
            Outbound::Message { conv, seq, frame, since } => {
                match self.delivered.get(&conv).copied() {
                    Some(d) if seq <= d => return Ok(()),
                    Some(d) if seq > d + 1 => {
                        // Rare (a gap): boxed so that the session's task is not as large as a replay.
                        Box::pin(self.replay_range(events, conv, d, seq - 1, false)).await?;
                    }
                    _ => {}
                }
                self.push(frame);
                self.delivered.insert(conv, seq);
                self.deliveries.increment(1);
                self.latency.record(since.elapsed().as_secs_f64());
            }
            Outbound::Event(frame) => self.push(frame),
            Outbound::Close(_) => {}
        }
        Ok(())
    }

    /// After the session's queue overflowed: bring every conversation up to date from the store.
    pub async fn catch_up(&mut self, events: &mut EventSink) -> anyhow::Result<()> {
        let heads = self.heads().await?;
        for (conv, head) in heads {
            let d = self.delivered.get(&conv).copied().unwrap_or(0);
            if head.last_seq > d {
                self.replay_range(events, conv, d, head.last_seq, false).await?;
            }
        }
        self.flush(events).await
    }
}
