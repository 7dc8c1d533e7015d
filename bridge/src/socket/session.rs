//! One socket's upstream session and what the socket remembers between events (the conversations it
//! joined, the call in each conversation, display names looked up, the messages it was given), kept in
//! the socket's extensions.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use quip_sdk::{Client, EventStream};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::ops::Connection;

/// Most display names a socket keeps.
const MAX_NAMES: usize = 1024;
/// Most recent messages (conversation, seq → id) a socket keeps for its receipts.
const MAX_RECENT: usize = 256;

/// One socket's upstream session, kept in the socket's extensions.
#[derive(Clone)]
pub(crate) struct SocketSession {
    pub(crate) client: Client,
    /// Taken by the pump task once the socket is connected.
    pub(crate) events: Arc<Mutex<Option<EventStream>>>,
    pub(crate) device_id: String,
    /// The token's user.
    pub(crate) user_id: String,
    /// The transport the socket connected with (a metrics label).
    pub(crate) transport: &'static str,
    /// What the socket remembers; shared with its lookup task.
    pub(crate) memory: Arc<Memory>,
    /// The lookup task's queue, once the socket needed one (`socket::enrich`). Only the session holds
    /// the sender: when the socket is gone, the task drains what is queued and ends.
    pub(crate) lookups: Arc<Mutex<Option<mpsc::Sender<Deferred>>>>,
}

/// A canonical event waiting in the lookup task's queue.
#[derive(Debug)]
pub(crate) struct Deferred {
    pub(crate) name: &'static str,
    pub(crate) payload: Value,
}

impl SocketSession {
    pub(crate) fn new(
        client: Client,
        events: EventStream,
        device_id: String,
        user_id: String,
        transport: &'static str,
    ) -> Self {
        Self {
            client,
            events: Arc::new(Mutex::new(Some(events))),
            device_id,
            user_id,
            transport,
            memory: Arc::default(),
            lookups: Arc::default(),
        }
    }
}

impl fmt::Debug for SocketSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSession").field("device_id", &self.device_id).finish_non_exhaustive()
    }
}

/// What a socket remembers between events. Every map is bounded.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    state: Mutex<State>,
    /// Events handed to the lookup task and not yet emitted: while there are any, the events that may
    /// need a lookup queue behind them, so that those keep their order.
    pending: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    /// Conversations this socket joined (`conversation:join`): a dialect's conversation-room events
    /// reach only these.
    joined: HashSet<String>,
    /// The call last seen in each conversation (legacy clients name calls by their conversation).
    calls: HashMap<u64, u64>,
    /// Display names already looked up (typing events of legacy dialects carry them).
    names: HashMap<String, String>,
    /// The newest messages given to the socket, `(conversation, seq, message id)`, oldest first: the
    /// message a receipt's `upToSeq` names is nearly always one of them.
    recent: VecDeque<(u64, u64, u64)>,
}

impl Memory {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn has_joined(&self, conversation_id: &str) -> bool {
        self.state().joined.contains(conversation_id)
    }

    pub(crate) fn cached_name(&self, user_id: &str) -> Option<String> {
        self.state().names.get(user_id).cloned()
    }

    pub(crate) fn cache_name(&self, user_id: &str, name: &str) {
        let mut state = self.state();
        if state.names.len() < MAX_NAMES {
            state.names.insert(user_id.to_owned(), name.to_owned());
        }
    }

    /// Remembers that message `message_id` is number `seq` of its conversation.
    pub(crate) fn remember_message(&self, conversation_id: u64, seq: u64, message_id: u64) {
        let mut state = self.state();
        if state.recent.iter().any(|&(c, s, _)| c == conversation_id && s == seq) {
            return;
        }
        if state.recent.len() == MAX_RECENT {
            state.recent.pop_front();
        }
        state.recent.push_back((conversation_id, seq, message_id));
    }

    /// Forgets a message (deleted: what quipd's history gives for its seq may no longer be it).
    pub(crate) fn forget_message(&self, message_id: u64) {
        self.state().recent.retain(|&(_, _, id)| id != message_id);
    }

    /// The id of message `seq` of a conversation, when the socket was given it.
    pub(crate) fn message_at(&self, conversation_id: u64, seq: u64) -> Option<u64> {
        self.state().recent.iter().rev().find(|&&(c, s, _)| c == conversation_id && s == seq).map(|&(_, _, id)| id)
    }

    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    pub(crate) fn add_pending(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn done_pending(&self) {
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connection for Memory {
    fn join(&self, conversation_id: u64) {
        self.state().joined.insert(conversation_id.to_string());
    }

    fn leave(&self, conversation_id: u64) {
        self.state().joined.remove(&conversation_id.to_string());
    }

    fn call_in(&self, conversation_id: u64) -> Option<u64> {
        self.state().calls.get(&conversation_id).copied()
    }

    fn remember_call(&self, conversation_id: u64, call_id: u64) {
        let mut state = self.state();
        let slot = state.calls.entry(conversation_id).or_insert(call_id);
        *slot = (*slot).max(call_id);
    }

    fn forget_call(&self, conversation_id: u64, call_id: u64) {
        let mut state = self.state();
        if state.calls.get(&conversation_id) == Some(&call_id) {
            state.calls.remove(&conversation_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_messages_are_bounded_and_forgotten_on_delete() {
        let m = Memory::default();
        for seq in 1..=(MAX_RECENT as u64 + 10) {
            m.remember_message(7, seq, 1000 + seq);
        }
        assert_eq!(m.message_at(7, 1), None, "the oldest went first");
        assert_eq!(m.message_at(7, 11), Some(1011));
        assert_eq!(m.message_at(8, 11), None);
        m.forget_message(1011);
        assert_eq!(m.message_at(7, 11), None);
        m.remember_message(7, 12, 1012);
        assert_eq!(m.state().recent.len(), MAX_RECENT - 1);
    }
}
