//! The one place the bridge opens SDK clients to quipd.
//!
//! Every web socket gets its own [`quip_sdk::Client`] (its own quipd session: the user's token, a device id
//! of its own, its own event stream), and REST callers share one client per token ([`crate::rest_clients`]).
//! Which transport carries those sessions is decided here only: the SDK's [`SharedQuicTransport`], so that
//! every web user's session rides one of a few QUIC connections to quipd (no handshake per web client;
//! quipd still verifies each user's own token, see docs/ARCHITECTURE.md, "Gateways").

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quip_sdk::{
    Client, ClientConfig, EventStream, PoolConfig, ReconnectPolicy, ResumePoint, SharedQuicTransport, Trust,
};

use crate::config::Config;

/// The transport every upstream session goes through.
type UpstreamTransport = SharedQuicTransport;

/// How often `connect` looks whether the SDK has stored the session's Welcome.
const WELCOME_POLL: Duration = Duration::from_millis(2);

/// Longest device id the protocol accepts.
const MAX_DEVICE_ID: usize = 64;

/// Opens SDK clients to quipd for web users. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: UpstreamTransport,
    server: SocketAddr,
    server_name: String,
    trust: Trust,
    request_timeout: Duration,
    event_buffer: usize,
}

/// What one upstream session is for.
#[derive(Debug, Clone)]
pub struct SessionParams {
    pub token: String,
    pub device_id: String,
    pub resume: Option<ResumePoint>,
    /// Report messages as delivered when they reach the web client (sockets yes, REST no).
    pub report_delivered: bool,
    /// Reconnect (and resume) when the QUIC connection drops.
    pub reconnect: bool,
    /// No live client behind it (REST callers): the session does not make the user online.
    pub passive: bool,
}

impl Upstream {
    pub fn new(config: &Config, trust: Trust) -> Self {
        let up = &config.upstream;
        Self {
            inner: Arc::new(Inner {
                transport: SharedQuicTransport::new(PoolConfig::default()),
                server: up.server,
                server_name: up.server_name.clone(),
                trust,
                request_timeout: up.request_timeout(),
                event_buffer: up.event_buffer,
            }),
        }
    }

    /// Connects and authenticates one session: quipd verifies the token (an invalid one fails here with
    /// the broker's error code).
    pub async fn connect(&self, params: SessionParams) -> Result<(Client, EventStream), quip_sdk::Error> {
        let inner = &self.inner;
        let mut config = ClientConfig::new(inner.server, inner.trust.clone(), params.token, params.device_id);
        config.server_name = inner.server_name.clone();
        config.request_timeout = inner.request_timeout;
        config.event_buffer = inner.event_buffer;
        config.resume = params.resume;
        config.report_delivered = params.report_delivered;
        config.passive = params.passive;
        if !params.reconnect {
            config.reconnect = ReconnectPolicy::disabled();
        }
        let (client, events) = Client::connect_with(inner.transport.clone(), config).await?;
        // The SDK stores the session's Welcome (the user's id and profile) from its driver task, which may
        // not have run yet when `connect_with` returns; the bridge needs the user from the start.
        let deadline = tokio::time::Instant::now() + inner.request_timeout;
        while client.welcome().is_none() && tokio::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
            tokio::time::sleep(WELCOME_POLL).await;
        }
        Ok((client, events))
    }
}

/// A device id for the protocol: `web-` and what the client gave (cut to the protocol's 64 bytes, only
/// `[A-Za-z0-9._:-]` kept) or else `fallback`.
pub fn device_id(given: Option<&str>, fallback: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')).collect()
    };
    let given = given.map(clean).filter(|s| !s.is_empty());
    let mut id = format!("web-{}", given.unwrap_or_else(|| clean(fallback)));
    id.truncate(MAX_DEVICE_ID);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_prefixed_cleaned_and_bounded() {
        assert_eq!(device_id(Some("tab 1/é"), "sid"), "web-tab1");
        assert_eq!(device_id(None, "AbC-123"), "web-AbC-123");
        assert_eq!(device_id(Some("   "), "x"), "web-x");
        assert_eq!(device_id(Some(&"a".repeat(100)), "x").len(), 64);
    }
}
