//! Call signaling (WebRTC offer/answer/ICE relayed between devices; media never touches quipd).
//!
//! A call lives in memory from its invite to its end: every device of every callee rings; the first
//! device to accept wins and the others are told `AnsweredElsewhere`; an unanswered call becomes
//! `Missed` after `calls.ring_timeout_ms`. When a call ends, its record (type, outcome, duration) is
//! written into the conversation as a Call message through the writer, like any message.
//!
//! Concurrency: the table of calls is one `Mutex<HashMap>`, held only to read or change a call's state,
//! never across an `.await` and never while events are pushed: each transition copies what the events
//! need, unlocks, then delivers. Calls are ephemeral: a restart of quipd forgets calls in progress
//! (their media flows peer to peer and carries on; their record is not written).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use quip_protocol::family::calls::{Call, CallEvent, CallEventKind, CallState};
use quip_protocol::family::messages::{CallOutcome, CallType};
use quip_protocol::{ErrorCode, ErrorReply};

use crate::hub::{Hub, Outbound};
use crate::wire::frame;
use quip_store::model::{CallRec, ConvId, Sender, UserId};
use quip_store::{NewMessage, Writer};

/// How often an answered call checks that both ends still have a session.
const LIVENESS_CHECK: Duration = Duration::from_secs(30);

/// One call in progress.
#[derive(Debug, Clone)]
pub struct CallEntry {
    pub id: u64,
    pub conv: ConvId,
    pub call_type: CallType,
    pub caller: UserId,
    pub caller_device: Arc<str>,
    /// Every other member of the conversation at the time of the invite.
    pub callees: Vec<UserId>,
    pub declined: HashSet<UserId>,
    pub started_at_ms: u64,
    /// Set once a device accepted: who, from which device.
    pub answered: Option<(UserId, Arc<str>)>,
    pub answered_at_ms: u64,
}

impl CallEntry {
    pub fn wire(&self, state: CallState) -> Call {
        Call {
            id: self.id,
            conversation_id: self.conv,
            call_type: self.call_type,
            caller_id: self.caller.clone(),
            state,
            started_at_ms: self.started_at_ms,
            answered_at_ms: self.answered_at_ms,
            answered_by_device: self.answered.as_ref().map(|(_, d)| d.to_string()).unwrap_or_default(),
        }
    }

    pub fn state(&self) -> CallState {
        if self.answered.is_some() { CallState::Active } else { CallState::Ringing }
    }

    /// Whether `user` on `device` is one of the call's two ends (the caller, or the device that answered).
    pub fn is_party(&self, user: &str, device: &str) -> bool {
        (user == self.caller && device == &*self.caller_device)
            || self.answered.as_ref().is_some_and(|(u, d)| u == user && device == &**d)
    }
}

/// The calls in progress, and what a call needs to tell its devices and write its record: the hub and
/// the writer (nothing else of the broker).
#[derive(Debug)]
pub struct Calls {
    table: Mutex<HashMap<u64, CallEntry>>,
    next_id: AtomicU64,
    ring_timeout: Duration,
    hub: Arc<Hub>,
    writer: Writer,
}

fn err(code: ErrorCode, message: &str) -> ErrorReply {
    ErrorReply::new(code, message)
}

impl Calls {
    pub fn new(ring_timeout: Duration, hub: Arc<Hub>, writer: Writer) -> Self {
        // Ids start from the clock so that they do not repeat across restarts.
        let next_id = AtomicU64::new(crate::now_ms() * 1000);
        Self { table: Mutex::new(HashMap::new()), next_id, ring_timeout, hub, writer }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, CallEntry>> {
        // A panic while holding the lock cannot leave a call half-changed (each change is one insert or
        // field write), so a poisoned table is still sound.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn ring_timeout(&self) -> Duration {
        self.ring_timeout
    }

    /// Registers a new ringing call; Conflict when the conversation already has one.
    pub fn start(
        &self,
        conv: ConvId,
        call_type: CallType,
        caller: UserId,
        caller_device: Arc<str>,
        callees: Vec<UserId>,
    ) -> Result<CallEntry, ErrorReply> {
        let mut table = self.lock();
        if table.values().any(|c| c.conv == conv) {
            return Err(err(ErrorCode::Conflict, "a call is already in progress in this conversation"));
        }
        let entry = CallEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            conv,
            call_type,
            caller,
            caller_device,
            callees,
            declined: HashSet::new(),
            started_at_ms: crate::now_ms(),
            answered: None,
            answered_at_ms: 0,
        };
        table.insert(entry.id, entry.clone());
        metrics::gauge!("quip_calls_active").set(table.len() as f64);
        Ok(entry)
    }

    /// A copy of a call `user` takes part in (NotFound otherwise: calls of others are not visible).
    pub fn get(&self, id: u64, user: &str) -> Result<CallEntry, ErrorReply> {
        let table = self.lock();
        match table.get(&id) {
            Some(c) if c.caller == user || c.callees.iter().any(|u| u == user) => Ok(c.clone()),
            _ => Err(err(ErrorCode::NotFound, "no such call")),
        }
    }

    /// `user` answers from `device`: the first answer wins.
    pub fn accept(&self, id: u64, user: &str, device: Arc<str>) -> Result<CallEntry, ErrorReply> {
        let mut table = self.lock();
        let call = table.get_mut(&id).filter(|c| c.callees.iter().any(|u| u == user));
        let Some(call) = call else { return Err(err(ErrorCode::NotFound, "no such call")) };
        if call.answered.is_some() {
            return Err(err(ErrorCode::Conflict, "the call was already answered"));
        }
        call.answered = Some((user.to_owned(), device));
        call.answered_at_ms = crate::now_ms();
        Ok(call.clone())
    }

    /// `user` declines; returns the call and whether every callee has now declined (the call is over).
    pub fn decline(&self, id: u64, user: &str) -> Result<(CallEntry, bool), ErrorReply> {
        let mut table = self.lock();
        let call = table.get_mut(&id).filter(|c| c.callees.iter().any(|u| u == user));
        let Some(call) = call else { return Err(err(ErrorCode::NotFound, "no such call")) };
        if call.answered.is_some() {
            return Err(err(ErrorCode::Conflict, "the call was already answered"));
        }
        call.declined.insert(user.to_owned());
        let all = call.callees.iter().all(|u| call.declined.contains(u));
        Ok((call.clone(), all))
    }

    /// Takes the call out of the table; None when it already ended (so each call ends once).
    pub fn finish(&self, id: u64) -> Option<CallEntry> {
        let mut table = self.lock();
        let call = table.remove(&id);
        metrics::gauge!("quip_calls_active").set(table.len() as f64);
        call
    }
}

impl Calls {
    /// Pushes `event` to every session of `users`, except the session of `skip` (user, device).
    pub fn tell(&self, users: &[UserId], event: &CallEvent, skip: Option<(&str, &str)>) {
        self.push_to(users, &frame(0, event.clone()), skip);
    }

    /// Pushes an encoded frame to every session of `users`, except the session of `skip` (user, device).
    pub fn push_to(&self, users: &[UserId], bytes: &bytes::Bytes, skip: Option<(&str, &str)>) {
        for user in users {
            let Some(sessions) = self.hub.sessions_of(user) else { continue };
            for s in sessions.iter() {
                if skip.is_some_and(|(u, d)| u == user && d == &*s.device_id) {
                    continue;
                }
                s.push(Outbound::Event(bytes.clone()));
            }
        }
    }

    /// Pushes a frame to the sessions of `user` on `device` only.
    pub fn tell_device(&self, user: &str, device: &str, bytes: bytes::Bytes) {
        if let Some(sessions) = self.hub.sessions_of(user) {
            for s in sessions.iter().filter(|s| &*s.device_id == device) {
                s.push(Outbound::Event(bytes.clone()));
            }
        }
    }

    /// Ends a call that is still in the table: tells everyone `kind` and writes its record.
    pub async fn conclude(&self, id: u64, kind: CallEventKind, outcome: CallOutcome, by: &str, reason: &str) {
        let Some(call) = self.finish(id) else { return };
        let now = crate::now_ms();
        let event = CallEvent {
            kind,
            call: call.wire(CallState::Ended),
            from_user_id: by.to_owned(),
            sdp: String::new(),
            reason: reason.to_owned(),
            at_ms: now,
        };
        self.tell(&everyone(&call), &event, None);
        self.write_record(&call, outcome, now).await;
    }

    /// Writes the call's record into its conversation as a Call message from the caller.
    async fn write_record(&self, call: &CallEntry, outcome: CallOutcome, ended_at_ms: u64) {
        let duration_ms = if call.answered_at_ms > 0 { ended_at_ms.saturating_sub(call.answered_at_ms) } else { 0 };
        let kind = if call.call_type == CallType::Video { "Video call" } else { "Audio call" };
        let text = match outcome {
            CallOutcome::Completed => format!("{kind}, {} s", duration_ms / 1000),
            CallOutcome::Missed => format!("Missed {}", kind.to_lowercase()),
            CallOutcome::Declined => format!("{kind} declined"),
            CallOutcome::Cancelled => format!("{kind} cancelled"),
            _ => format!("{kind} failed"),
        };
        let record = CallRec {
            call_id: call.id,
            call_type: crate::wire::convert::call_type_to_rec(call.call_type),
            outcome: crate::wire::convert::call_outcome_to_rec(outcome),
            caller_id: call.caller.clone(),
            started_at_ms: call.started_at_ms,
            answered_at_ms: call.answered_at_ms,
            ended_at_ms,
            duration_ms,
        };
        let msg = NewMessage {
            conv: call.conv,
            sender: Sender { id: call.caller.clone(), ..Sender::default() },
            client_msg_id: format!("call:{}", call.id),
            kind: quip_store::model::MessageKind::Call,
            text,
            call: Some(record),
            ..NewMessage::default()
        };
        if let Err(e) = self.writer.send(msg, ended_at_ms).await {
            tracing::warn!(error = %e, call = call.id, conv = call.conv, "call record not written");
        }
    }
}

/// Everyone who hears about a call: the caller and every callee.
pub fn everyone(call: &CallEntry) -> Vec<UserId> {
    std::iter::once(call.caller.clone()).chain(call.callees.iter().cloned()).collect()
}

/// Watches one call from its invite: missed when nobody answers in time; once answered, ended when
/// one of its two ends has no session left (the app died without hanging up).
///
/// It holds the calls weakly while it sleeps, so a call in progress never keeps a stopped broker's writer
/// (and its store) alive.
pub async fn watch(calls: Weak<Calls>, ring_timeout: Duration, id: u64) {
    tokio::time::sleep(ring_timeout).await;
    loop {
        let Some(calls) = calls.upgrade() else { return };
        let call = {
            let table = calls.lock();
            match table.get(&id) {
                Some(c) => c.clone(),
                None => return,
            }
        };
        match &call.answered {
            None => {
                calls.conclude(id, CallEventKind::Missed, CallOutcome::Missed, "", "nobody answered").await;
                return;
            }
            Some((user, device)) => {
                let online =
                    |u: &str, d: &str| calls.hub.sessions_of(u).is_some_and(|s| s.iter().any(|h| &*h.device_id == d));
                if !online(&call.caller, &call.caller_device) || !online(user, device) {
                    calls.conclude(id, CallEventKind::Ended, CallOutcome::Completed, "", "connection lost").await;
                    return;
                }
            }
        }
        drop(calls);
        tokio::time::sleep(LIVENESS_CHECK).await;
    }
}
