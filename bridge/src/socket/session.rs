//! One socket's upstream session and what the socket remembers between events (the conversations it
//! joined, the call in each conversation, display names looked up), kept in the socket's extensions.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use quip_sdk::{Client, EventStream};

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
    /// Conversations this socket joined (`conversation:join`): a dialect's conversation-room events
    /// reach only these.
    pub(crate) joined: Arc<Mutex<HashSet<String>>>,
    /// The call last seen in each conversation (legacy clients name calls by their conversation).
    pub(crate) calls: Arc<Mutex<HashMap<u64, u64>>>,
    /// Display names already looked up (typing events of legacy dialects carry them).
    pub(crate) names: Arc<Mutex<HashMap<String, String>>>,
}

impl SocketSession {
    pub(crate) fn join(&self, conversation_id: u64) {
        if let Ok(mut joined) = self.joined.lock() {
            joined.insert(conversation_id.to_string());
        }
    }

    pub(crate) fn leave(&self, conversation_id: u64) {
        if let Ok(mut joined) = self.joined.lock() {
            joined.remove(&conversation_id.to_string());
        }
    }

    pub(crate) fn has_joined(&self, conversation_id: &str) -> bool {
        self.joined.lock().is_ok_and(|joined| joined.contains(conversation_id))
    }

    pub(crate) fn set_call(&self, conversation_id: u64, call_id: Option<u64>) {
        if let Ok(mut calls) = self.calls.lock() {
            match call_id {
                Some(id) => calls.insert(conversation_id, id),
                None => calls.remove(&conversation_id),
            };
        }
    }

    pub(crate) fn call_in(&self, conversation_id: u64) -> Option<u64> {
        self.calls.lock().ok()?.get(&conversation_id).copied()
    }

    pub(crate) fn cached_name(&self, user_id: &str) -> Option<String> {
        self.names.lock().ok()?.get(user_id).cloned()
    }

    pub(crate) fn cache_name(&self, user_id: &str, name: &str) {
        if let Ok(mut names) = self.names.lock() {
            if names.len() < 1024 {
                names.insert(user_id.to_owned(), name.to_owned());
            }
        }
    }
}

impl fmt::Debug for SocketSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSession").field("device_id", &self.device_id).finish_non_exhaustive()
    }
}
