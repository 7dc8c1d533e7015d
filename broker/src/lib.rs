//! quipd, the Quip broker.
//!
//! Entry point: [`Server::bind`] then [`Server::run`] with a shutdown future. Data flow (see
//! docs/ARCHITECTURE.md): a session (`session/`) reads requests and runs them (`cmd/`); writes go to
//! the single writer (`store/writer.rs`), which commits them to RocksDB in batches and then hands what
//! it committed to `fanout.rs`, which encodes each event once and pushes it through the routing table
//! (`hub.rs`) into every recipient session's bounded queue.

mod admin;
pub mod auth;
mod background;
pub mod calls;
mod cmd;
pub mod config;
mod convert;
mod fanout;
pub mod hub;
mod io;
pub mod model;
pub mod notify;
pub mod presence;
pub mod ratelimit;
mod server;
mod session;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod webhook;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use background::{BackgroundServer, Started};
pub use presence::PresenceConfig;
pub use server::{Server, ServerError, TlsReloader};

/// What every session shares.
pub struct Broker {
    pub cfg: Arc<config::Config>,
    pub limits: quip_protocol::Limits,
    pub store: store::Store,
    pub writer: store::Writer,
    pub hub: Arc<hub::Hub>,
    pub auth: Arc<auth::Authenticator>,
    /// Per-user limits for native (QUIC) clients.
    pub rate: ratelimit::RateLimiter,
    /// Per-user limits for sessions through a gateway (quip-bridge's web clients).
    pub rate_bridge: ratelimit::RateLimiter,
    /// The notification feeds.
    pub notifier: notify::Notifier,
    /// Set when shutdown begins (readiness goes false).
    pub draining: std::sync::atomic::AtomicBool,
    /// Who is online and who is typing (`presence.rs`).
    pub presence: presence::Presence,
    /// Calls in progress (`calls.rs`).
    pub calls: calls::Calls,
    /// Live counters for the admin API (`stats.rs`).
    pub stats: Arc<stats::Stats>,
    /// The QUIC endpoint (its TLS configuration is replaced on reload).
    endpoint: quinn::Endpoint,
    next_session: AtomicU64,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Broker {
    fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.shutdown.drain_timeout_ms)
    }

    /// Refuses (TokenRevoked) a token issued before an administrator revoked its user's tokens. A token
    /// without `iat` cannot show it is newer, so it is refused too once its user has a revocation.
    async fn check_revoked(&self, id: &auth::Identity) -> Result<(), quip_protocol::ErrorReply> {
        use quip_protocol::{ErrorCode, ErrorReply};
        let store = self.store.clone();
        let user = id.user_id.clone();
        let revoked = tokio::task::spawn_blocking(move || store.revoked_before(&user))
            .await
            .map_err(|e| ErrorReply::new(ErrorCode::Internal, e.to_string()))?
            .map_err(|e| ErrorReply::new(e.code(), e.to_string()))?;
        match revoked {
            Some(before_ms) if id.issued_at.is_none_or(|iat| iat.saturating_mul(1000) < before_ms) => {
                Err(ErrorReply::new(ErrorCode::TokenRevoked, "this token was revoked; sign in again"))
            }
            _ => Ok(()),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
