//! Fan-out: turns what the writer committed into frames, encoded once, and hands them to the hub.
//! Runs on the writer thread right after each commit, so events leave in commit order, and never
//! waits: a full session queue is the hub's slow-consumer path, not the writer's problem.
//!
//! Unread counts come computed from the writer (`Committed::Unread`, right after the batch that moved a
//! read watermark), only for readers with a device online (`Publish::reaches`).

use std::sync::Arc;

use quip_protocol::family::conversations::{ConversationChange, ConversationEvent};
use quip_protocol::family::messages::{DeleteScope, MessageDeletedEvent, MessageEditedEvent, ReactionEvent};
use quip_protocol::family::receipts::{ReceiptEvent, ReceiptKind, UnreadEvent};

use crate::hub::{Hub, Outbound};
use crate::wire::{delivery_frame, frame};
use quip_store::model::{self, UserId};
use quip_store::{Committed, ConvChange, Publish, Store};

mod receipts;
pub use receipts::ReceiptAudience;

pub struct HubPublisher {
    pub hub: Arc<Hub>,
    pub store: Store,
    /// Told about members who had no device online for a message.
    pub webhook: crate::webhook::Webhook,
    /// Live counters for the admin API.
    pub stats: Arc<crate::stats::Stats>,
    /// Who sees a receipt (everyone in small conversations, the senders concerned in large ones).
    pub receipts: ReceiptAudience,
}

impl HubPublisher {
    /// Queues an offline notice for every member other than the sender with no session online.
    fn notify_offline(&self, msg: &model::StoredMessage, members: &[UserId]) {
        if !self.webhook.enabled() {
            return;
        }
        for member in members.iter().filter(|m| **m != msg.sender.id) {
            if self.hub.sessions_of(member).is_none() {
                self.webhook.push(crate::webhook::OfflineNotice {
                    user_id: member.clone(),
                    conversation_id: msg.conv,
                    message_id: msg.id,
                    seq: msg.seq,
                    sender_id: msg.sender.id.clone(),
                    sender_name: msg.sender.name.clone(),
                    preview: msg.text.chars().take(120).collect(),
                    created_at_ms: msg.created_at_ms,
                });
            }
        }
    }
}

impl Publish for HubPublisher {
    fn reaches(&self, user: &str) -> bool {
        self.hub.sessions_of(user).is_some()
    }

    fn publish(&self, events: Vec<Committed>) {
        for event in events {
            match event {
                Committed::Message { msg, members, received } => {
                    self.stats.note_message(msg.conv);
                    self.receipts.note_message(msg.conv, msg.seq, &msg.sender.id, members.len());
                    let out = Outbound::Message {
                        conv: msg.conv,
                        seq: msg.seq,
                        frame: delivery_frame(&msg),
                        since: received.unwrap_or_else(std::time::Instant::now),
                    };
                    let n = self.hub.deliver(&members, &out);
                    metrics::histogram!("quip_fanout_sessions").record(n as f64);
                    self.notify_offline(&msg, &members);
                }
                Committed::ConvCreated { conv, members } => {
                    let Some((conversation, created_by, at_ms)) = crate::wire::view::shared(&self.store, conv) else {
                        continue;
                    };
                    let event = ConversationEvent {
                        change: ConversationChange::Created,
                        conversation,
                        actor_id: created_by,
                        user_ids: members.to_vec(),
                        at_ms,
                    };
                    self.hub.deliver(&members, &Outbound::Event(frame(0, event)));
                }
                Committed::ConvChanged { conv, change, actor, users, at_ms, audience } => {
                    let change = match change {
                        ConvChange::Updated => ConversationChange::Updated,
                        ConvChange::MembersAdded => ConversationChange::MembersAdded,
                        ConvChange::MemberRemoved => ConversationChange::MemberRemoved,
                        ConvChange::RoleChanged => ConversationChange::RoleChanged,
                        ConvChange::MemberLeft => ConversationChange::MemberLeft,
                        ConvChange::SettingsChanged => ConversationChange::SettingsChanged,
                        ConvChange::BlockChanged => ConversationChange::BlockChanged,
                    };
                    // A user's own change carries their own view; a shared change the shared state.
                    let conversation =
                        if matches!(change, ConversationChange::SettingsChanged | ConversationChange::BlockChanged) {
                            match crate::wire::view::view(&self.store, conv, &actor) {
                                Ok(c) => c,
                                Err(e) => {
                                    tracing::warn!(error = %e, conv, "conversation event not published");
                                    continue;
                                }
                            }
                        } else {
                            let Some((c, _, _)) = crate::wire::view::shared(&self.store, conv) else { continue };
                            c
                        };
                    let event = ConversationEvent { change, conversation, actor_id: actor, user_ids: users, at_ms };
                    self.hub.deliver(&audience, &Outbound::Event(frame(0, event)));
                }
                Committed::Receipt { conv, user, kind, from, up_to, at_ms, members, by_device } => {
                    let audience = self.receipts.audience(&self.store, conv, &user, from, up_to, &members);
                    // The device that reported a delivery knows it already (the SDK reports by itself,
                    // one mark per batch of messages): only the user's other devices and the senders
                    // are told. A read is told to every device, the reader's own included, as the apps
                    // Quip replaces do.
                    let skip = by_device.filter(|_| kind == model::ReceiptKind::Delivered);
                    let skip = skip.as_deref().map(|device| (user.as_str(), device));
                    let event = ReceiptEvent {
                        conversation_id: conv,
                        user_id: user.clone(),
                        kind: match kind {
                            model::ReceiptKind::Delivered => ReceiptKind::Delivered,
                            model::ReceiptKind::Read => ReceiptKind::Read,
                        },
                        up_to_seq: up_to,
                        at_ms,
                        from_seq: from,
                    };
                    self.hub.deliver_except(&audience, &Outbound::Event(frame(0, event)), skip);
                }
                Committed::Unread { user, conv, unread, total } => {
                    // Every device of the reader: badges stay in step across devices.
                    let event = UnreadEvent { conversation_id: conv, unread, total };
                    self.hub.deliver(&[user], &Outbound::Event(frame(0, event)));
                }
                Committed::Edited { msg, members } => {
                    let event = MessageEditedEvent {
                        conversation_id: msg.conv,
                        message_id: msg.id,
                        seq: msg.seq,
                        text: msg.text.clone(),
                        edited_at_ms: msg.edited_at_ms,
                    };
                    self.hub.deliver(&members, &Outbound::Event(frame(0, event)));
                }
                Committed::Deleted { conv, msg_id, seq, for_everyone, by, at_ms, audience } => {
                    let event = MessageDeletedEvent {
                        conversation_id: conv,
                        message_id: msg_id,
                        seq,
                        scope: if for_everyone { DeleteScope::ForEveryone } else { DeleteScope::ForMe },
                        deleted_by: by,
                        at_ms,
                    };
                    self.hub.deliver(&audience, &Outbound::Event(frame(0, event)));
                }
                Committed::Reacted { conv, msg_id, user, emoji, removed, reactions, members } => {
                    let event = ReactionEvent {
                        conversation_id: conv,
                        message_id: msg_id,
                        user_id: user,
                        emoji,
                        removed,
                        reactions: crate::wire::convert::reactions(&reactions),
                    };
                    self.hub.deliver(&members, &Outbound::Event(frame(0, event)));
                }
            }
        }
    }
}
