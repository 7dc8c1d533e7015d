//! Requests waiting for their reply, keyed by request id.

use std::collections::HashMap;

use quip_protocol::{ClientBody, ServerBody};
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::Error;
use crate::handshake::HELLO_REQUEST_ID;

/// One request from the app: its body, where its answer goes, and its slot among the requests in flight
/// (released when the request is answered or abandoned, which bounds the pending map).
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) body: ClientBody,
    pub(crate) reply: oneshot::Sender<Result<ServerBody, Error>>,
    pub(crate) permit: OwnedSemaphorePermit,
}

impl Request {
    /// Sends are re-sent after a reconnect (the broker deduplicates them by `client_msg_id`); every other
    /// request fails with [`Error::Disconnected`].
    pub(crate) fn is_resendable(&self) -> bool {
        matches!(self.body, ClientBody::SendMessage(_))
    }

    /// The caller stopped waiting (timed out or dropped the future).
    pub(crate) fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    pub(crate) fn answer(self, result: Result<ServerBody, Error>) {
        let Request { reply, permit, .. } = self;
        // The caller may have given up meanwhile; nobody else wants the answer.
        let _ = reply.send(result);
        drop(permit);
    }
}

/// The requests of one session that were written and await their reply.
#[derive(Debug)]
pub(crate) struct InFlight {
    next_id: u64,
    pending: HashMap<u64, Request>,
}

impl InFlight {
    pub(crate) fn new() -> Self {
        Self { next_id: HELLO_REQUEST_ID + 1, pending: HashMap::new() }
    }

    /// A fresh request id of this session.
    pub(crate) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn insert(&mut self, id: u64, request: Request) {
        self.pending.insert(id, request);
    }

    /// Answers request `id`; false when nobody waits for it (a heartbeat, or a request already dropped).
    pub(crate) fn resolve(&mut self, id: u64, result: Result<ServerBody, Error>) -> bool {
        match self.pending.remove(&id) {
            Some(request) => {
                request.answer(result);
                true
            }
            None => false,
        }
    }

    /// Forgets requests whose callers stopped waiting, releasing their slots.
    pub(crate) fn sweep(&mut self) {
        self.pending.retain(|_, r| !r.abandoned());
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Every pending request, in the order it was sent.
    pub(crate) fn drain_in_order(&mut self) -> Vec<Request> {
        let mut all: Vec<(u64, Request)> = self.pending.drain().collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        all.into_iter().map(|(_, r)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use quip_protocol::family::messages::SendMessage;
    use quip_protocol::family::session::{Ping, Pong};
    use tokio::sync::Semaphore;

    use super::*;

    fn request(
        body: impl Into<ClientBody>,
        slots: &Arc<Semaphore>,
    ) -> (Request, oneshot::Receiver<Result<ServerBody, Error>>) {
        let (reply, rx) = oneshot::channel();
        let permit = slots.clone().try_acquire_owned().unwrap();
        (Request { body: body.into(), reply, permit }, rx)
    }

    #[test]
    fn replies_reach_their_request_in_any_order_and_free_the_slot() {
        let slots = Arc::new(Semaphore::new(2));
        let mut inflight = InFlight::new();
        let (a, mut rx_a) = request(Ping { nonce: 1 }, &slots);
        let (b, mut rx_b) = request(Ping { nonce: 2 }, &slots);
        let (id_a, id_b) = (inflight.next_id(), inflight.next_id());
        assert_eq!((id_a, id_b), (2, 3));
        inflight.insert(id_a, a);
        inflight.insert(id_b, b);
        assert_eq!(slots.available_permits(), 0);

        assert!(inflight.resolve(id_b, Ok(Pong { nonce: 2, server_time_ms: 0 }.into())));
        assert!(!inflight.resolve(id_b, Err(Error::Timeout)), "answered once only");
        assert!(!inflight.resolve(99, Err(Error::Timeout)));
        assert!(matches!(rx_b.try_recv(), Ok(Ok(ServerBody::Pong(p))) if p.nonce == 2));
        assert!(rx_a.try_recv().is_err());
        assert_eq!(slots.available_permits(), 1);
    }

    #[test]
    fn abandoned_requests_are_swept_and_sends_are_resendable() {
        let slots = Arc::new(Semaphore::new(4));
        let mut inflight = InFlight::new();
        let (send, _keep) = request(SendMessage { conversation_id: 1, ..Default::default() }, &slots);
        let (ping, dropped) = request(Ping { nonce: 1 }, &slots);
        assert!(send.is_resendable() && !ping.is_resendable());
        let send_id = inflight.next_id();
        inflight.insert(send_id, send);
        let ping_id = inflight.next_id();
        inflight.insert(ping_id, ping);
        drop(dropped);
        inflight.sweep();
        assert_eq!(inflight.len(), 1);
        assert_eq!(slots.available_permits(), 3);
        let left = inflight.drain_in_order();
        assert_eq!(left.len(), 1);
        assert!(left[0].is_resendable());
    }

    #[test]
    fn drained_requests_keep_their_sending_order() {
        let slots = Arc::new(Semaphore::new(10));
        let mut inflight = InFlight::new();
        let mut receivers = Vec::new();
        for n in 0..5u64 {
            let (r, rx) = request(SendMessage { conversation_id: n, ..Default::default() }, &slots);
            receivers.push(rx);
            let id = inflight.next_id();
            inflight.insert(id, r);
        }
        let order: Vec<u64> = inflight
            .drain_in_order()
            .iter()
            .map(|r| match &r.body {
                ClientBody::SendMessage(m) => m.conversation_id,
                _ => u64::MAX,
            })
            .collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }
}
