//! What every session shares: the configuration and a handle to each service. Sessions, requests and the
//! admin API hold it; the services themselves (`calls.rs`, `presence.rs`, `notify.rs`, fan-out) are
//! given only the parts they use, so they never reach back into it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{auth, calls, config, hub, notify, presence, ratelimit, stats};

/// What every session shares.
pub(crate) struct Broker {
    pub cfg: Arc<config::Config>,
    pub limits: quip_protocol::Limits,
    pub store: quip_store::Store,
    pub writer: quip_store::Writer,
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
    pub calls: Arc<calls::Calls>,
    /// Live counters for the admin API (`stats.rs`).
    pub stats: Arc<stats::Stats>,
    /// The QUIC endpoint (its TLS configuration is replaced on reload).
    pub(crate) endpoint: quinn::Endpoint,
    pub(crate) next_session: AtomicU64,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Broker {
    pub(crate) fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.shutdown.drain_timeout_ms)
    }

    /// Refuses (TokenRevoked) a token issued before an administrator revoked its user's tokens. A token
    /// without `iat` cannot show it is newer, so it is refused too once its user has a revocation.
    pub(crate) async fn check_revoked(&self, id: &auth::Identity) -> Result<(), quip_protocol::ErrorReply> {
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
