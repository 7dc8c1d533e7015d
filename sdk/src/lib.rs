//! The Rust client for the Quip chat broker (`quipd`).
//!
//! [`Client::connect`] opens a QUIC connection (TLS 1.3, ALPN `quip/1`), authenticates with a JWT and
//! returns a [`Client`] for requests and an [`EventStream`] of typed [`Event`]s. The client then keeps
//! itself connected: when the connection drops it reconnects with exponential backoff and resumes, so the
//! event stream carries every message of every conversation once, in `seq` order, with no gap and no
//! duplicate across the reconnect; sends in flight at the time are re-sent (the broker deduplicates them
//! by `client_msg_id`) and their callers get the ack.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use quip_sdk::{Client, ClientConfig, Event, Trust};
//!
//! # async fn run() -> Result<(), quip_sdk::Error> {
//! let trust = Trust::Fingerprint("3a:5f:...:9c".into()); // as printed by quipd at start
//! let config = ClientConfig::new("127.0.0.1:4433".parse().unwrap(), trust, "<jwt>", "laptop");
//! let (client, mut events) = Client::connect(config).await?;
//!
//! let chat = client.open_direct("bob", None).await?;
//! let ack = client.send_message(chat.conversation.id, "hello").await?;
//! println!("stored as #{} of conversation {}", ack.seq, ack.conversation_id);
//!
//! while let Some(event) = events.next_event().await {
//!     match event {
//!         Event::Message { message, .. } => {
//!             println!("[conv {} #{}] {}: {}", message.conversation_id, message.seq, message.sender.id, message.text)
//!         }
//!         Event::Disconnected { reason, will_reconnect: false } => {
//!             println!("finished: {reason:?}");
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! # let _ = events.next_event_timeout(Duration::from_secs(1)).await;
//! client.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`config`](ClientConfig) (what to connect to and how to trust it), [`Transport`] (the one
//! network seam; [`QuicTransport`] is the real one, one connection per client; [`SharedQuicTransport`]
//! carries many clients' sessions over a few connections, for gateways), [`Client`] (typed requests over
//! [`Client::request`]), [`EventStream`] (typed events, bounded), [`Error`].
//!
//! Concurrency: each client runs one background task that owns the connection; [`Client`] handles talk to
//! it through a bounded channel and each request waits on its own oneshot, so replies may arrive in any
//! order. Every queue between the network and the app is bounded: a slow app slows the event stream (QUIC
//! flow control, then the broker's catch-up from its store), it never grows memory.

mod client;
mod config;
mod connection;
mod cursors;
mod delivery;
mod error;
mod event_source;
mod events;
mod gateway;
mod handshake;
mod receipts;
mod requests;
mod session_end;
mod shared;
mod shared_events;
mod sync;
mod tls;
mod transport;
mod wire;

pub use client::Client;
pub use config::{ClientConfig, ReconnectPolicy};
pub use error::Error;
pub use events::{DisconnectReason, Event, EventStream};
pub use gateway::{PoolConfig, SharedQuicTransport};
pub use shared::ConnectionState;
pub use tls::{Trust, fingerprint};
pub use transport::{
    BoxRead, BoxWrite, CloseInfo, QuicTransport, Session, Transport, UDP_RECEIVE_BUFFER, client_endpoint,
};

/// The protocol crate, for every request and event type.
pub use quip_protocol as protocol;
pub use quip_protocol::family::conversations::{
    Conversation, ConversationContext, ConversationEvent, ConversationInfo, ConversationPage,
};
pub use quip_protocol::family::messages::{Direction, HistoryPage, Message, MessageAck, SendMessage, SyncDone};
pub use quip_protocol::family::receipts::{
    MemberReceipt, MessageReceipts, ReceiptEvent, ReceiptKind, UnreadCount, UnreadCounts, UnreadEvent,
};
pub use quip_protocol::family::session::{CloseReason, Goodbye, UpdateProfile, Welcome};
pub use quip_protocol::{ConversationCursor, ErrorCode, ResumePoint, ServerBody, UserProfile, UserRef};
