//! The app's handle: typed requests over one generic [`Client::request`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quip_protocol::family::conversations::{
    ConversationContext, ConversationInfo, ConversationPage, CreateGroup, GetConversation, ListConversations,
    OpenDirect,
};
use quip_protocol::family::messages::{
    Direction, GetHistory, GetMessage, HistoryPage, Message, MessageAck, SendMessage, SyncDone, SyncRequest,
};
use quip_protocol::family::receipts::{GetReceipts, GetUnreadCounts, MarkRead, MessageReceipts, UnreadCounts};
use quip_protocol::family::session::{GetUsers, Ping, Pong, RefreshToken, TokenRefreshed, UpdateProfile, Welcome};
use quip_protocol::{ClientBody, ResumePoint, ServerBody, UserProfile};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::Instrument;

use crate::connection::{Command, Driver};
use crate::cursors::MAX_RESUME_CURSORS;
use crate::events::EventStream;
use crate::requests::Request;
use crate::shared::{ConnectionState, Shared};
use crate::sync::lock;
use crate::transport::{QuicTransport, Transport};
use crate::{ClientConfig, Error};

/// Requests in flight at once per client (waiting for a slot counts against the request's timeout).
const MAX_IN_FLIGHT: usize = 1024;
/// Commands queued between the app and the connection task.
const COMMAND_QUEUE: usize = 64;
/// Bytes of the device id kept in generated `client_msg_id`s (the protocol allows 64 in all).
const MSG_ID_DEVICE_PREFIX: usize = 24;

/// A connection to the broker, shared by cloning (all clones use the same connection; dropping the last
/// one closes it).
///
/// Every method is a request with a reply, bounded by `ClientConfig::request_timeout`. While the client is
/// reconnecting, sends are queued and go out (with their original `client_msg_id`) once it is back; other
/// requests fail with [`Error::Disconnected`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    request_timeout: Duration,
    slots: Arc<Semaphore>,
    msg_ids: MsgIds,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("state", &self.state()).finish_non_exhaustive()
    }
}

macro_rules! expect_reply {
    ($reply:expr, $variant:ident) => {
        match $reply {
            ServerBody::$variant(v) => Ok(v),
            other => Err(Error::Protocol(format!("expected {} in reply, got {}", stringify!($variant), other.name()))),
        }
    };
}

impl Client {
    /// Connects over QUIC ([`QuicTransport`]). The first connection is not retried: its failure (an
    /// unreachable broker, a refused token) is returned here. Later disconnections are handled by the
    /// client (see [`crate::ReconnectPolicy`]). Must be called within a Tokio runtime.
    pub async fn connect(config: ClientConfig) -> Result<(Client, EventStream), Error> {
        Self::connect_with(QuicTransport::new(), config).await
    }

    /// Connects over any [`Transport`].
    pub async fn connect_with<T: Transport>(
        transport: T,
        config: ClientConfig,
    ) -> Result<(Client, EventStream), Error> {
        config.validate()?;
        let config = Arc::new(config);
        let transport = Arc::new(transport);
        let shared = Arc::new(Shared::new(&config));
        let hello =
            crate::handshake::hello(config.token.clone(), config.device_id.clone(), None, config.resume.clone());
        let live = crate::handshake::open(&*transport, &config, hello).await?;
        // Known before this returns, so `welcome()` (the user id, limits) is never `None` for a caller.
        *lock(&shared.welcome) = Some(live.welcome.clone());

        let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
        let (events, event_rx) = mpsc::channel(config.event_buffer);
        let span = tracing::info_span!("quip_client", device = %config.device_id, server = %config.server);
        let driver = Driver::new(transport, config.clone(), shared.clone(), command_rx, events);
        tokio::spawn(driver.run(live).instrument(span));

        let inner = Inner {
            commands,
            shared,
            request_timeout: config.request_timeout,
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            msg_ids: MsgIds::new(&config.device_id),
        };
        let reports = config.report_delivered.then(|| inner.shared.reports.clone());
        Ok((Client { inner: Arc::new(inner) }, EventStream::new(event_rx, reports)))
    }

    /// Sends any request and returns the broker's reply; an `ErrorReply` becomes [`Error::Server`].
    /// `Hello` and `Goodbye` belong to the SDK (use [`close`](Self::close)) and are refused.
    pub async fn request(&self, body: impl Into<ClientBody>) -> Result<ServerBody, Error> {
        let body = body.into();
        if matches!(body, ClientBody::Hello(_) | ClientBody::Goodbye(_)) {
            return Err(Error::Config(format!("{} is sent by the SDK itself", body.name())));
        }
        let inner = &self.inner;
        let exchange = async {
            let permit = inner.slots.clone().acquire_owned().await.map_err(|_| Error::Closed)?;
            let (reply, answer) = oneshot::channel();
            let command = Command::Request(Box::new(Request { body, reply, permit }));
            inner.commands.send(command).await.map_err(|_| inner.shared.terminal_error())?;
            answer.await.map_err(|_| inner.shared.terminal_error())?
        };
        tokio::time::timeout(inner.request_timeout, exchange).await.map_err(|_| Error::Timeout)?
    }

    /// Sends a text message to a conversation (with a generated `client_msg_id`) and returns its ack,
    /// which comes once the message is durable.
    pub async fn send_message(&self, conversation_id: u64, text: impl Into<String>) -> Result<MessageAck, Error> {
        self.send(SendMessage { conversation_id, text: text.into(), ..SendMessage::default() }).await
    }

    /// Sends a message. An empty `client_msg_id` is filled in; to retry safely yourself after an error,
    /// set one (e.g. from [`new_client_msg_id`](Self::new_client_msg_id)) and reuse it.
    pub async fn send(&self, mut message: SendMessage) -> Result<MessageAck, Error> {
        if message.client_msg_id.is_empty() {
            message.client_msg_id = self.new_client_msg_id();
        }
        expect_reply!(self.request(message).await?, MessageAck)
    }

    /// A fresh, unique `client_msg_id`: device id prefix, a random per-client part and a counter.
    pub fn new_client_msg_id(&self) -> String {
        self.inner.msg_ids.next()
    }

    /// Opens (or finds) the direct conversation with `peer`, optionally about an app object.
    pub async fn open_direct(
        &self,
        peer: impl Into<String>,
        context: Option<ConversationContext>,
    ) -> Result<ConversationInfo, Error> {
        let reply = self.request(OpenDirect { peer_user_id: peer.into(), context }).await?;
        expect_reply!(reply, ConversationInfo)
    }

    /// Creates a group with the caller and `members`.
    pub async fn create_group<I>(&self, title: impl Into<String>, members: I) -> Result<ConversationInfo, Error>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let group = CreateGroup {
            title: title.into(),
            member_ids: members.into_iter().map(Into::into).collect(),
            ..CreateGroup::default()
        };
        expect_reply!(self.request(group).await?, ConversationInfo)
    }

    /// One conversation the caller is in.
    pub async fn get_conversation(&self, conversation_id: u64) -> Result<ConversationInfo, Error> {
        expect_reply!(self.request(GetConversation { conversation_id }).await?, ConversationInfo)
    }

    /// The caller's conversations, most recent activity first; pass `next_cursor` back for the next page.
    pub async fn list_conversations(&self, cursor: Option<String>, limit: u32) -> Result<ConversationPage, Error> {
        let reply = self.request(ListConversations { cursor, limit, include_archived: false }).await?;
        expect_reply!(reply, ConversationPage)
    }

    /// A page of history: `anchor_seq` 0 with [`Direction::Backward`] is the newest page; pass
    /// `next_anchor_seq` back in the same direction while `has_more`.
    pub async fn history(
        &self,
        conversation_id: u64,
        anchor_seq: u64,
        direction: Direction,
        limit: u32,
    ) -> Result<HistoryPage, Error> {
        let reply = self.request(GetHistory { conversation_id, anchor_seq, direction, limit }).await?;
        expect_reply!(reply, HistoryPage)
    }

    /// One message by id.
    pub async fn get_message(&self, message_id: u64) -> Result<Message, Error> {
        expect_reply!(self.request(GetMessage { message_id }).await?, MessageInfo).map(|info| info.message)
    }

    /// Marks a conversation read up to `up_to_seq` (the broker clamps it to the last message, and a read
    /// watermark never moves back). The members get a `ReceiptEvent`, the user's devices an
    /// [`Event::Unread`](crate::Event::Unread). Delivery is reported by the SDK itself.
    pub async fn mark_read(&self, conversation_id: u64, up_to_seq: u64) -> Result<(), Error> {
        let request = MarkRead { conversation_id, up_to_seq, message_ids: Vec::new() };
        expect_reply!(self.request(request).await?, Done).map(|_| ())
    }

    /// Marks messages of a conversation read by id: the read watermark moves to the highest of them (ids of
    /// other conversations are ignored; `InvalidArgument` when none belongs to this one).
    pub async fn mark_read_ids(&self, conversation_id: u64, message_ids: Vec<u64>) -> Result<(), Error> {
        let request = MarkRead { conversation_id, up_to_seq: 0, message_ids };
        expect_reply!(self.request(request).await?, Done).map(|_| ())
    }

    /// Unread counts of the given conversations (empty: all of the user's); the total is always over all.
    pub async fn unread_counts(&self, conversation_ids: Vec<u64>) -> Result<UnreadCounts, Error> {
        expect_reply!(self.request(GetUnreadCounts { conversation_ids }).await?, UnreadCounts)
    }

    /// Who of the other members got and read a message, and when.
    pub async fn receipts(&self, message_id: u64) -> Result<MessageReceipts, Error> {
        expect_reply!(self.request(GetReceipts { message_id }).await?, MessageReceipts)
    }

    /// Updates the caller's profile (`None` fields stay) and returns it.
    pub async fn update_profile(&self, update: UpdateProfile) -> Result<UserProfile, Error> {
        let users = expect_reply!(self.request(update).await?, Users)?;
        users.users.into_iter().next().ok_or_else(|| Error::Protocol("UpdateProfile reply holds no profile".into()))
    }

    /// Profiles of the given users (unknown ones are left out).
    pub async fn get_users<I>(&self, user_ids: I) -> Result<Vec<UserProfile>, Error>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let request = GetUsers { user_ids: user_ids.into_iter().map(Into::into).collect() };
        expect_reply!(self.request(request).await?, Users).map(|u| u.users)
    }

    /// Hands the broker a fresh token for this session (same user); later reconnects use it too.
    pub async fn refresh_token(&self, token: impl Into<String>) -> Result<TokenRefreshed, Error> {
        let token = token.into();
        let reply = self.request(RefreshToken { token: token.clone() }).await?;
        let refreshed = expect_reply!(reply, TokenRefreshed)?;
        *lock(&self.inner.shared.token) = token;
        Ok(refreshed)
    }

    /// Asks the broker to replay anything this client has not delivered (the replayed messages arrive on
    /// the event stream, duplicates dropped; the reply may come before the last of them).
    pub async fn sync(&self) -> Result<SyncDone, Error> {
        let since = lock(&self.inner.shared.tracker).resume_point(MAX_RESUME_CURSORS);
        expect_reply!(self.request(SyncRequest { since }).await?, SyncDone)
    }

    /// A round trip to the broker.
    pub async fn ping(&self) -> Result<Pong, Error> {
        let nonce = self.inner.msg_ids.counter.fetch_add(1, Ordering::Relaxed);
        let pong = expect_reply!(self.request(Ping { nonce }).await?, Pong)?;
        if pong.nonce != nonce {
            return Err(Error::Protocol(format!("Pong carries nonce {} instead of {nonce}", pong.nonce)));
        }
        Ok(pong)
    }

    /// What the app has been given so far, to save and pass back as `ClientConfig::resume` on the next
    /// start (then nothing is missed or repeated across restarts either).
    pub fn resume_point(&self) -> ResumePoint {
        lock(&self.inner.shared.tracker).resume_point(usize::MAX)
    }

    /// The `Welcome` of the current (or last) session: the user's profile, limits, token expiry.
    pub fn welcome(&self) -> Option<Welcome> {
        lock(&self.inner.shared.welcome).clone()
    }

    /// Whether the client is connected, reconnecting or finished.
    pub fn state(&self) -> ConnectionState {
        *self.inner.shared.state.borrow()
    }

    /// Says goodbye to the broker and closes the connection; returns when done. Requests still in flight
    /// fail with [`Error::Closed`] or [`Error::Disconnected`]; the event stream ends after a last
    /// `Disconnected { reason: Closed, .. }`.
    pub async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.inner.commands.send(Command::Close(done)).await.is_ok() {
            let _ = finished.await;
        }
    }
}

/// Generates `client_msg_id`s: `<device prefix>:<random per client>:<counter>`, at most 62 bytes.
struct MsgIds {
    prefix: String,
    counter: AtomicU64,
}

impl MsgIds {
    fn new(device_id: &str) -> Self {
        let mut end = device_id.len().min(MSG_ID_DEVICE_PREFIX);
        while !device_id.is_char_boundary(end) {
            end -= 1;
        }
        let mut random = [0u8; 8];
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).is_err() {
            // No system randomness: fall back to the clock, still unique enough per device.
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            random = (nanos.as_nanos() as u64).to_le_bytes();
        }
        Self {
            prefix: format!("{}:{:016x}", &device_id[..end], u64::from_le_bytes(random)),
            counter: AtomicU64::new(1),
        }
    }

    fn next(&self) -> String {
        format!("{}:{}", self.prefix, self.counter.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_client_msg_ids_are_unique_and_fit_the_protocol() {
        let ids = MsgIds::new(&"é".repeat(40));
        let a = ids.next();
        let b = ids.next();
        assert_ne!(a, b);
        assert!(a.len() <= 64, "{a}");
        let other = MsgIds::new("phone");
        assert!(other.next().starts_with("phone:"));
        assert_ne!(MsgIds::new("phone").prefix, other.prefix, "random part differs per client");
        let long = MsgIds::new(&"d".repeat(64));
        let id = long.next();
        assert!(id.len() <= 64 && id.starts_with(&"d".repeat(24)), "{id}");
    }
}
