//! Fan-out: turns what the writer committed into frames, encoded once, and hands them to the hub.
//! Runs on the writer thread right after each commit, so events leave in commit order, and never
//! waits: a full session queue is the hub's slow-consumer path, not the writer's problem.

use std::sync::Arc;

use quip_protocol::family::conversations::{ConversationChange, ConversationEvent};

use crate::hub::{Hub, Outbound};
use crate::session::{delivery_frame, frame};
use crate::store::{Committed, Publish, Store};

pub struct HubPublisher {
    pub hub: Arc<Hub>,
    pub store: Store,
}

impl Publish for HubPublisher {
    fn publish(&self, events: Vec<Committed>) {
        for event in events {
            match event {
                Committed::Message { msg, members } => {
                    let out = Outbound::Message { conv: msg.conv, seq: msg.seq, frame: delivery_frame(&msg) };
                    let n = self.hub.deliver(&members, &out);
                    metrics::histogram!("quip_fanout_sessions").record(n as f64);
                }
                Committed::ConvCreated { conv, members } => {
                    let Ok(Some(meta)) = self.store.conv_meta(conv) else { continue };
                    let head = self.store.conv_head(conv).unwrap_or_default();
                    let rows: Vec<_> = self
                        .store
                        .members(conv)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(u, rec)| {
                            let profile = self.store.profile(&u).ok().flatten();
                            (u, rec, profile)
                        })
                        .collect();
                    let conversation = crate::convert::conversation(&meta, &head, &rows, None);
                    let event = ConversationEvent {
                        change: ConversationChange::Created,
                        conversation,
                        actor_id: meta.created_by.clone(),
                        user_ids: members.to_vec(),
                        at_ms: meta.created_at_ms,
                    };
                    self.hub.deliver(&members, &Outbound::Event(frame(0, event)));
                }
            }
        }
    }
}
