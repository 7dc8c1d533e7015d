//! Who sends where, and what a receiver records: shared by every peer's harness.

use std::sync::Arc;

use crate::stats::{Recorder, channel_of};

/// Who sends where: users `0..users`, each channel one sender and its receivers (user indexes). Chat:
/// a channel per user, to its partner. Fan-out: one channel, to the group.
#[derive(Debug, Clone)]
pub struct Topology {
    pub users: usize,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub sender: usize,
    pub receivers: Vec<usize>,
}

impl Topology {
    /// `users` (rounded up to even) in pairs; each user sends to its partner.
    pub fn chat(users: usize) -> Self {
        let users = users.max(2).next_multiple_of(2);
        let channels = (0..users).map(|u| Channel { sender: u, receivers: vec![u ^ 1] }).collect();
        Self { users, channels }
    }

    /// User 0 sends to a group of `members` others.
    pub fn fanout(members: usize) -> Self {
        let members = members.max(1);
        Self { users: members + 1, channels: vec![Channel { sender: 0, receivers: (1..=members).collect() }] }
    }

    /// Deliveries expected per message sent on each channel.
    pub fn receivers_per_message(&self) -> f64 {
        let total: usize = self.channels.iter().map(|c| c.receivers.len()).sum();
        total as f64 / self.channels.len().max(1) as f64
    }

    /// The channels each user receives on.
    pub fn inbound(&self) -> Vec<Vec<usize>> {
        let mut inbound = vec![Vec::new(); self.users];
        for (i, c) in self.channels.iter().enumerate() {
            for &r in &c.receivers {
                inbound[r].push(i);
            }
        }
        inbound
    }

    /// The user name of index `u` (the same in every peer).
    pub fn user(u: usize) -> String {
        format!("u{u}")
    }
}

/// What a receiver does with a message text: records it when it came on one of its channels (a user's
/// own messages echoed back to it, and anything else, are ignored).
#[derive(Debug, Clone)]
pub struct Sink {
    pub user: usize,
    channels: Arc<[usize]>,
    recorder: Arc<Recorder>,
}

impl Sink {
    pub fn new(user: usize, channels: Vec<usize>, recorder: Arc<Recorder>) -> Self {
        Self { user, channels: channels.into(), recorder }
    }

    pub fn deliver(&self, text: &str) {
        if channel_of(text).is_some_and(|c| self.channels.contains(&c)) {
            self.recorder.delivered(self.user, text);
        }
    }
}
