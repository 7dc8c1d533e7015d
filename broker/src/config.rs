//! quipd configuration: defaults, then a TOML file, then `QUIP_*` environment variables, then command
//! line flags; validated once at start with a message that names the setting.
//!
//! Every setting has an environment variable made of `QUIP_` and its path in upper case with `_`
//! between the parts: `store.durability` is `QUIP_STORE_DURABILITY`.

use std::net::SocketAddr;
use std::path::PathBuf;

pub use quip_store::config::{Durability, StoreConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// UDP address quipd listens on for QUIC.
    pub listen: SocketAddr,
    /// RocksDB store, dev certificate and dev secret live here.
    pub data_dir: PathBuf,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub store: StoreConfig,
    pub limits: LimitsConfig,
    pub shutdown: ShutdownConfig,
    pub log: LogConfig,
    pub rate_limits: crate::ratelimit::RateLimitConfig,
    pub admin: AdminConfig,
    pub webhook: crate::webhook::WebhookConfig,
    pub calls: CallsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallsConfig {
    /// An unanswered call is missed after this long, in milliseconds.
    pub ring_timeout_ms: u64,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self { ring_timeout_ms: 45_000 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// TCP address of the admin HTTP listener (health, readiness, server-side calls).
    pub listen: SocketAddr,
    /// Bearer token for the admin calls (at least 32 bytes). Empty: a random dev token generated once
    /// into the data directory (`dev-admin-token`) and printed at start.
    pub token: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9480)), token: String::new() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain. Empty: a self-signed dev certificate kept in the data directory.
    pub cert: String,
    /// PEM private key (with `cert`).
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 shared secret. Empty: a random dev secret generated once into the data directory.
    pub hs256_secret: String,
    /// PEM public key for RS256 tokens (empty: RS256 not accepted).
    pub rs256_public_key: String,
    /// PEM public key for ES256 tokens.
    pub es256_public_key: String,
    /// PEM public key for EdDSA tokens.
    pub eddsa_public_key: String,
    /// Required `iss` (empty: not checked).
    pub issuer: String,
    /// Required `aud` (empty: not checked).
    pub audience: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Token claims copied into profile fields at every connect: `"field=claim"`, or `"name"` for a
    /// field named as its claim (e.g. `["userType=role"]`). Presence answers and events carry them.
    pub profile_claims: Vec<String>,
}

impl AuthConfig {
    /// The (profile field, claim) pairs of `profile_claims`.
    pub fn profile_claims(&self) -> impl Iterator<Item = (&str, &str)> {
        self.profile_claims.iter().map(|entry| entry.split_once('=').unwrap_or((entry.as_str(), entry.as_str())))
    }
}

/// Most claims `auth.profile_claims` may copy.
const MAX_PROFILE_CLAIMS: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest frame accepted and announced to clients, in bytes.
    pub max_frame_size: u32,
    /// Longest message text, in bytes.
    pub max_text_bytes: usize,
    /// Frames queued for one session before it is switched to catch-up from the store.
    pub outbound_queue: usize,
    /// Interval the client must ping within, in milliseconds.
    pub heartbeat_ms: u32,
    /// Most messages in one history page.
    pub max_page: u32,
    /// Most members in a group.
    pub max_group_members: usize,
    /// Most attachments on one message.
    pub max_attachments: usize,
    /// Largest attachment a message may announce (its `size`), in bytes.
    pub max_attachment_bytes: u64,
    /// Attachment kinds accepted: any of image, video, audio, file, pdf, doc.
    pub attachment_kinds: Vec<String>,
    /// Receive and send buffer asked for the QUIC UDP socket, in bytes. Every connection shares that one
    /// socket: with the kernel's default (~208 KiB, about a hundred datagrams) a burst overflows it and
    /// the dropped packets wait for QUIC's loss timers. Linux caps it at `net.core.rmem_max` /
    /// `wmem_max`; quipd logs the size it got.
    pub udp_buffer_bytes: usize,
    /// Conversations up to this many members show every receipt to every member; in larger ones a
    /// receipt goes to the marking user and to the senders of the messages it covers (see
    /// docs/PROTOCOL.md, "Receipts").
    pub receipt_broadcast_max_members: usize,
    /// Connections held at once (a gateway's counts once, whatever it carries); past it a new
    /// connection is refused before its handshake.
    pub max_connections: usize,
    /// Connections in their handshake (TLS, then Hello and the token check) at once; past it a new
    /// connection is refused, so a connect storm cannot queue unbounded work.
    pub max_handshakes: usize,
    /// Shortest time between two QUIC stateless resets, in microseconds; 0 (the default) sends one for
    /// every packet that earns it. After a restart each client's next packet for its old connection is
    /// answered with a reset, which tells the client to reconnect at once; a packet refused one is
    /// dropped, and its client retries after a growing loss timer or waits out its idle timeout. quinn
    /// stamps a whole receive batch with one time, so any interval above 0 lets one reset out per batch.
    /// A reset is smaller than the packet that caused it: it amplifies nothing.
    pub min_stateless_reset_interval_us: u64,
}

/// Every attachment kind the protocol knows, by its configuration name.
pub const ATTACHMENT_KINDS: &[&str] = &["file", "image", "video", "audio", "pdf", "doc"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// How long in-flight work may take to finish after SIGTERM, in milliseconds.
    pub drain_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4433)),
            data_dir: PathBuf::from("./data"),
            tls: TlsConfig::default(),
            auth: AuthConfig::default(),
            store: StoreConfig::default(),
            limits: LimitsConfig::default(),
            shutdown: ShutdownConfig::default(),
            log: LogConfig::default(),
            rate_limits: crate::ratelimit::RateLimitConfig::default(),
            admin: AdminConfig::default(),
            webhook: crate::webhook::WebhookConfig::default(),
            calls: CallsConfig::default(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            hs256_secret: String::new(),
            rs256_public_key: String::new(),
            es256_public_key: String::new(),
            eddsa_public_key: String::new(),
            issuer: String::new(),
            audience: String::new(),
            leeway_secs: 30,
            profile_claims: Vec::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_frame_size: 1024 * 1024,
            max_text_bytes: 16 * 1024,
            outbound_queue: 1024,
            heartbeat_ms: 15_000,
            max_page: 200,
            max_group_members: 1024,
            max_attachments: 10,
            max_attachment_bytes: 100 * 1024 * 1024,
            attachment_kinds: ATTACHMENT_KINDS.iter().map(|k| (*k).to_owned()).collect(),
            udp_buffer_bytes: 8 * 1024 * 1024,
            receipt_broadcast_max_members: 32,
            max_connections: 100_000,
            max_handshakes: 1024,
            min_stateless_reset_interval_us: 0,
        }
    }
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { drain_timeout_ms: 10_000 }
    }
}

pub use quip_service::{ConfigError, LogConfig};

impl Config {
    /// A broker for tests and benchmarks on this machine: loopback on ephemeral ports (QUIC and admin),
    /// fsync durability, rate limits lifted, a short drain.
    pub fn local(data_dir: &std::path::Path) -> Self {
        let mut cfg = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            ..Config::default()
        };
        cfg.store.durability = crate::config::Durability::Fsync;
        cfg.admin.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        for profile in [&mut cfg.rate_limits.native, &mut cfg.rate_limits.bridge] {
            profile.messages_per_minute = 1_000_000;
            profile.conversations_per_hour = 1_000_000;
            profile.typing_per_minute = 1_000_000;
            profile.presence_per_minute = 1_000_000;
        }
        cfg.shutdown.drain_timeout_ms = 2_000;
        cfg
    }

    /// Defaults, overlaid by the TOML file (if any), then by `QUIP_*` variables from `env`.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        quip_service::layered(&Config::default(), file, "QUIP", env, &[])
    }

    /// The admission limits (`limits.max_connections`, `limits.max_handshakes`).
    pub fn admission(&self) -> quip_service::AdmissionConfig {
        quip_service::AdmissionConfig {
            max_connections: self.limits.max_connections,
            max_handshakes: self.limits.max_handshakes,
        }
    }

    /// Checks every setting; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, reason: &str| Err(ConfigError::Invalid { setting, reason: reason.to_owned() });
        let limits = quip_protocol::Limits { max_frame_size: self.limits.max_frame_size, ..Default::default() };
        if let Err(e) = limits.validate() {
            return Err(ConfigError::Invalid { setting: "limits.max_frame_size", reason: e.to_string() });
        }
        if self.limits.max_text_bytes == 0 || self.limits.max_text_bytes > 64 * 1024 {
            return invalid("limits.max_text_bytes", "must be 1..=65536");
        }
        if self.limits.outbound_queue < 16 {
            return invalid("limits.outbound_queue", "must be at least 16");
        }
        if self.limits.udp_buffer_bytes < 64 * 1024 {
            return invalid("limits.udp_buffer_bytes", "must be at least 65536");
        }
        if let Err(e) = self.admission().validate() {
            let setting =
                if self.limits.max_connections == 0 { "limits.max_connections" } else { "limits.max_handshakes" };
            return Err(ConfigError::Invalid { setting, reason: e.to_string() });
        }
        if self.limits.min_stateless_reset_interval_us > 1_000_000 {
            return invalid("limits.min_stateless_reset_interval_us", "must be 0..=1000000");
        }
        if self.limits.heartbeat_ms < 1000 {
            return invalid("limits.heartbeat_ms", "must be at least 1000");
        }
        if self.limits.max_page == 0 || self.limits.max_page > 1000 {
            return invalid("limits.max_page", "must be 1..=1000");
        }
        if self.limits.max_group_members < 2 {
            return invalid("limits.max_group_members", "must be at least 2");
        }
        if let Some(k) = self.limits.attachment_kinds.iter().find(|k| !ATTACHMENT_KINDS.contains(&k.as_str())) {
            return Err(ConfigError::Invalid {
                setting: "limits.attachment_kinds",
                reason: format!("{k:?} is not one of {}", ATTACHMENT_KINDS.join(", ")),
            });
        }
        if self.calls.ring_timeout_ms < 100 || self.calls.ring_timeout_ms > 600_000 {
            return invalid("calls.ring_timeout_ms", "must be 100..=600000");
        }
        if self.store.max_batch == 0 || self.store.queue == 0 {
            return invalid("store.max_batch", "store.max_batch and store.queue must be positive");
        }
        if !(8..=65_536).contains(&self.store.memtable_mib) {
            return invalid("store.memtable_mib", "must be 8..=65536");
        }
        if !(8..=1_048_576).contains(&self.store.block_cache_mib) {
            return invalid("store.block_cache_mib", "must be 8..=1048576");
        }
        if self.tls.cert.is_empty() != self.tls.key.is_empty() {
            return invalid("tls.cert", "tls.cert and tls.key must be given together");
        }
        if !self.auth.hs256_secret.is_empty() && self.auth.hs256_secret.len() < 32 {
            return invalid("auth.hs256_secret", "must be at least 32 bytes");
        }
        if self.auth.profile_claims.len() > MAX_PROFILE_CLAIMS
            || self.auth.profile_claims().any(|(f, c)| f.is_empty() || c.is_empty() || f.len() > 64 || c.len() > 64)
        {
            return invalid(
                "auth.profile_claims",
                "at most 16 entries, each \"field=claim\" or \"name\" (1..=64 bytes)",
            );
        }
        if let Err(reason) = self.webhook.validate() {
            return Err(ConfigError::Invalid { setting: "webhook", reason });
        }
        if !self.admin.token.is_empty() && self.admin.token.len() < 32 {
            return invalid("admin.token", "must be at least 32 bytes");
        }
        self.log.validate()
    }
}

/// `quipd config example`: every setting with its default and a comment.
pub const EXAMPLE: &str = r#"# quipd configuration. Every setting is optional; shown with its default.
# Each can also be set from the environment: QUIP_ + its path in upper case, e.g. QUIP_STORE_DURABILITY=wal.

# UDP address for QUIC (ALPN quip/1).
listen = "127.0.0.1:4433"
# RocksDB store, dev certificate (dev-cert.pem, dev-key.pem) and dev secret (dev-secret) live here.
data_dir = "./data"

[tls]
# PEM certificate chain and private key. Both empty: a self-signed dev certificate kept in data_dir,
# its SHA-256 fingerprint printed at start so clients can pin it.
cert = ""
key = ""

[auth]
# HS256 shared secret (at least 32 bytes). Empty: a random dev secret generated once into data_dir.
hs256_secret = ""
# PEM public keys; a token is verified only by the key of its own algorithm. Empty: not accepted.
rs256_public_key = ""
es256_public_key = ""
eddsa_public_key = ""
# Required `iss` and `aud` claims. Empty: not checked.
issuer = ""
audience = ""
# Clock skew allowed on exp and nbf, in seconds.
leeway_secs = 30
# Token claims copied into profile fields at every connect, "field=claim" or "name" (field and claim
# named alike), at most 16; presence answers and events carry them. From the environment: comma-separated.
profile_claims = []

[store]
# "fsync" (survives power loss), "wal" (survives a crash of quipd) or "none" (benchmarks only).
durability = "fsync"
# Most concurrent sends grouped into one RocksDB write batch.
max_batch = 512
# Writes that may wait for the writer before senders are pushed back.
queue = 8192
# MiB all of RocksDB's memtables (unflushed writes) may take together; past it the largest is flushed.
memtable_mib = 64
# MiB of RocksDB's block cache: table blocks read, and every table file's index and filter blocks.
block_cache_mib = 64

[limits]
# Largest frame accepted, in bytes (16384..=16777216).
max_frame_size = 1048576
# Longest message text, in bytes.
max_text_bytes = 16384
# Frames queued for one session before it is switched to catch-up from the store.
outbound_queue = 1024
# Clients ping at least this often (ms); a session silent for 3 intervals is closed.
heartbeat_ms = 15000
# Most messages in one history page.
max_page = 200
# Most members in a group.
max_group_members = 1024
# Most attachments on one message, the largest size one may announce (bytes), and the kinds accepted
# (any of "image", "video", "audio", "file", "pdf", "doc"; from the environment: comma-separated).
max_attachments = 10
max_attachment_bytes = 104857600
attachment_kinds = ["file", "image", "video", "audio", "pdf", "doc"]
# Receive and send buffer of the QUIC UDP socket, in bytes (at least 65536); Linux caps it at
# net.core.rmem_max / wmem_max: raise those (sysctl) for a busy server.
udp_buffer_bytes = 8388608
# Receipts go to every member in conversations up to this size; in larger ones, to the user who marked
# and the senders of the messages the receipt covers (everyone else can ask GetReceipts).
receipt_broadcast_max_members = 32
# Connections held at once (a gateway's counts once) and connections in their handshake at once; past
# either, a new connection is refused with QUIC's CONNECTION_REFUSED before any handshake work (metric
# quip_admission_refused_total{limit}). Both at least 1.
max_connections = 100000
max_handshakes = 1024
# Shortest time between two QUIC stateless resets (µs, 0..=1000000; 0: no limit). After a restart each
# client's next packet for its old connection gets one and the client reconnects at once; a client
# refused one waits for its own timers (up to its idle timeout). quinn times a whole receive batch
# once, so any value above 0 lets one reset out per batch.
min_stateless_reset_interval_us = 0

[shutdown]
# After SIGTERM/SIGINT: how long in-flight sends may take to finish (ms).
drain_timeout_ms = 10000

[log]
# "human" or "json".
format = "human"
# tracing filter, e.g. "info" or "quip_broker=debug,info".
filter = "info"

[admin]
# TCP address of the admin HTTP listener: /healthz, /readyz and the server-side calls under /v1/.
listen = "127.0.0.1:9480"
# Bearer token for /v1/ calls (at least 32 bytes). Empty: a random dev token kept in data_dir/dev-admin-token.
token = ""

[webhook]
# When a message arrives for a member with no device online, POST it here (http://host:port/path) so the
# app's backend can send a push notification. Empty: off. Batched, retried, never blocking delivery.
url = ""
# HMAC-SHA256 key: the body is signed in the X-Quip-Signature header ("sha256=<hex>"). Empty: unsigned.
secret = ""
# Most notices per POST, and how long (ms) a batch may wait to fill.
batch_max = 100
batch_wait_ms = 200
# Attempts per batch (exponential backoff from 200 ms) before it is dropped.
max_attempts = 5
# Notices waiting to be sent before new ones are dropped.
queue = 10000
# Per-request timeout (ms).
timeout_ms = 5000

[calls]
# An unanswered call is recorded as missed after this long (ms).
ring_timeout_ms = 45000

# Per-user token buckets: a user may burst a full period's allowance, then goes on at the steady rate;
# a refused request gets RateLimited with retry_after_ms. 0 refuses that class entirely.
[rate_limits.native]
# Native clients (quip-sdk over QUIC).
messages_per_minute = 600
conversations_per_hour = 200
typing_per_minute = 120
presence_per_minute = 60

[rate_limits.bridge]
# Web clients through quip-bridge: the legacy apps' limits.
messages_per_minute = 30
conversations_per_hour = 10
typing_per_minute = 60
presence_per_minute = 20
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
        assert!(parsed.validate().is_ok());
    }

    #[test]
    fn env_overrides_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quipd.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:5000\"\n[store]\ndurability = \"wal\"\nmax_batch = 7\n").unwrap();
        let env = vec![
            ("QUIP_STORE_MAX_BATCH".to_owned(), "9".to_owned()),
            ("QUIP_LOG_FORMAT".to_owned(), "json".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        let c = Config::load(Some(&path), env).unwrap();
        assert_eq!(c.listen, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(c.store.durability, Durability::Wal);
        assert_eq!(c.store.max_batch, 9);
        assert_eq!(c.log.format, "json");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let env = vec![("QUIP_LIMITS_OUTBOUND_QUEUE".to_owned(), "lots".to_owned())];
        let err = Config::load(None, env).unwrap_err().to_string();
        assert!(err.contains("QUIP_LIMITS_OUTBOUND_QUEUE"), "{err}");
        let c = Config { log: LogConfig { format: "xml".into(), ..LogConfig::default() }, ..Config::default() };
        assert!(c.validate().unwrap_err().to_string().contains("log.format"));
        let mut c = Config::default();
        c.limits.min_stateless_reset_interval_us = 2_000_000;
        assert!(c.validate().unwrap_err().to_string().contains("limits.min_stateless_reset_interval_us"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quipd.toml");
        std::fs::write(&path, "[store]\ndurabilty = \"wal\"\n").unwrap();
        assert!(Config::load(Some(&path), Vec::new()).unwrap_err().to_string().contains("durabilty"));
    }
}
