//! quip-bridge configuration: defaults, then a TOML file, then `QUIP_BRIDGE_*` environment variables, then
//! command line flags; validated once at start with a message that names the setting.
//!
//! Every setting has an environment variable made of `QUIP_BRIDGE_` and its path in upper case with `_`
//! between the parts: `upstream.fingerprint` is `QUIP_BRIDGE_UPSTREAM_FINGERPRINT`. Lists (CORS origins,
//! media types) are comma-separated there.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The prefix of every environment variable the bridge reads.
pub const ENV_PREFIX: &str = "QUIP_BRIDGE";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// TCP address of the one HTTP listener (REST, Socket.IO, health, web page).
    pub listen: SocketAddr,
    pub upstream: UpstreamConfig,
    pub cors: CorsConfig,
    pub media: MediaConfig,
    pub log: LogConfig,
    pub admin: AdminConfig,
    pub limits: LimitsConfig,
    pub shutdown: ShutdownConfig,
    /// `[[dialects]]`: legacy apps served on listeners (or path prefixes) of their own.
    pub dialects: Vec<DialectListenerConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: UpstreamConfig::default(),
            cors: CorsConfig::default(),
            media: MediaConfig::default(),
            log: LogConfig::default(),
            admin: AdminConfig::default(),
            limits: LimitsConfig::default(),
            shutdown: ShutdownConfig::default(),
            dialects: Vec::new(),
        }
    }
}

/// One `[[dialects]]` entry: a legacy app's dialect (docs/DIALECTS.md) on a listener of its own
/// (`listen`) or under a path prefix of the main listener (`mount`) — exactly one of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectListenerConfig {
    /// A shipped dialect: `kaajkaam`, `jivbook`, `ulearn`, `kcs`, `marketplace` (or `canonical`).
    pub name: String,
    /// The TCP address of the dialect's own listener (the port the app's clients already use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// A path prefix on the main listener (`/jivbook`: REST under `/jivbook/api/...`, Socket.IO at
    /// `/jivbook/socket.io/`); empty: none.
    pub mount: String,
}

impl DialectListenerConfig {
    /// Parses the environment's form: `name@host:port` or `name@/prefix`.
    fn parse(item: &str) -> Result<Self, String> {
        let (name, place) =
            item.split_once('@').ok_or_else(|| format!("{item:?} is not name@address or name@/prefix"))?;
        let name = name.trim().to_owned();
        let place = place.trim();
        if place.starts_with('/') {
            return Ok(Self { name, listen: None, mount: place.to_owned() });
        }
        let listen = place.parse().map_err(|_| format!("{item:?}: {place:?} is not an address"))?;
        Ok(Self { name, listen: Some(listen), mount: String::new() })
    }
}

/// `[upstream]`: the quipd the bridge talks to, and how it trusts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// quipd's QUIC address.
    pub server: SocketAddr,
    /// TLS server name (SNI; checked against the certificate with `ca_pem`).
    pub server_name: String,
    /// SHA-256 fingerprint of quipd's certificate, as quipd prints it. One of `fingerprint` and `ca_pem`.
    pub fingerprint: String,
    /// Path of a PEM file with the CA certificate(s) that quipd's certificate chains to.
    pub ca_pem: String,
    /// How long one request to quipd may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Events buffered per web socket between quipd and the browser.
    pub event_buffer: usize,
    /// Idle seconds after which a REST caller's upstream session is closed.
    pub rest_idle_secs: u64,
    /// quipd's admin listener (`http://127.0.0.1:9090`), read by the legacy apps' admin routes (KCS
    /// `websocket-stats`); empty: those routes answer `Unavailable`.
    pub admin_url: String,
    /// quipd's admin bearer token: the bridge calls quipd's admin API with it, and serves a legacy admin
    /// route only to a caller whose bearer token is this same token.
    pub admin_token: String,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            server: SocketAddr::from(([127, 0, 0, 1], 4433)),
            server_name: "localhost".to_owned(),
            fingerprint: String::new(),
            ca_pem: String::new(),
            request_timeout_ms: 10_000,
            event_buffer: 256,
            rest_idle_secs: 60,
            admin_url: String::new(),
            admin_token: String::new(),
        }
    }
}

impl UpstreamConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// `[cors]`: which browser origins may call the REST API and open Socket.IO connections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Allowed origins (`https://app.example.com`); `*` allows any; empty allows none (same-origin only).
    pub origins: Vec<String>,
}

/// `[admin]`: the operators' listener, apart from client traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// TCP address serving `/metrics` (Prometheus), `/healthz` and `/readyz`.
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9481)) }
    }
}

/// `[limits]`: what the client listeners admit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// TCP connections held at once over every client listener; past it a new one is closed at once.
    pub max_connections: usize,
    /// Socket.IO connects being authenticated with quipd at once; past it a connect is refused with
    /// `Unavailable` (try again), so a connect storm cannot queue unbounded work upstream.
    pub max_handshakes: usize,
    /// TCP connections one client address may hold at once (0: no limit — behind a load balancer every
    /// client has its address).
    pub max_connections_per_address: usize,
    /// How long a client has to send a request's head (ms); one that drips headers, or sends nothing
    /// after connecting, is closed then.
    pub header_read_timeout_ms: u64,
    /// A connection with no byte in either direction for this long (ms) is closed. Longer than
    /// Socket.IO's ping interval plus its timeout (45 s), so live sockets never hit it.
    pub idle_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_connections: 50_000,
            max_handshakes: 512,
            max_connections_per_address: 0,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 120_000,
        }
    }
}

/// `[shutdown]`: how the bridge stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM/SIGINT: how long open client connections may take to finish (ms) before they are
    /// closed.
    pub drain_timeout_ms: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { drain_timeout_ms: 10_000 }
    }
}

/// `[media]`: uploads kept on local disk and served back through signed, expiring URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Where uploaded files are stored.
    pub dir: PathBuf,
    /// Largest upload in bytes.
    pub max_bytes: u64,
    /// Most files in one multipart request of a legacy route.
    pub max_files: usize,
    /// MIME types accepted (checked on the bytes, not on what the client claims).
    pub allowed_types: Vec<String>,
    /// Lifetime of a signed media URL, in seconds.
    pub url_ttl_secs: u64,
    /// Secret for signing media URLs (at least 32 bytes; every bridge instance needs the same). Empty: a
    /// random secret per process (URLs then only work on the instance that signed them).
    pub signing_secret: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/media"),
            max_bytes: 10 * 1024 * 1024,
            max_files: 10,
            allowed_types: ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "video/mp4"]
                .map(String::from)
                .to_vec(),
            url_ttl_secs: 3600,
            signing_secret: String::new(),
        }
    }
}

pub use quip_service::{ConfigError, LogConfig};

impl Config {
    /// Defaults, overlaid by the TOML file (if any), then by `QUIP_BRIDGE_*` variables from `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let dialects = quip_service::EnvOverride { var: "QUIP_BRIDGE_DIALECTS", parse: dialects_from_env };
        quip_service::layered(&Config::default(), file, ENV_PREFIX, env, &[dialects])
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
        if let Err(e) = self.admission().validate() {
            let setting =
                if self.limits.max_connections == 0 { "limits.max_connections" } else { "limits.max_handshakes" };
            return Err(ConfigError::Invalid { setting, reason: e.to_string() });
        }
        if self.limits.header_read_timeout_ms < 100 {
            return invalid("limits.header_read_timeout_ms", "must be at least 100");
        }
        if self.limits.idle_timeout_ms < 1000 {
            return invalid("limits.idle_timeout_ms", "must be at least 1000");
        }
        let up = &self.upstream;
        if up.server.ip().is_unspecified() || up.server.port() == 0 {
            return invalid("upstream.server", "must be a connectable address (not 0.0.0.0, not port 0)");
        }
        if up.server_name.is_empty() {
            return invalid("upstream.server_name", "must not be empty");
        }
        match (up.fingerprint.is_empty(), up.ca_pem.is_empty()) {
            (true, true) => return invalid("upstream.fingerprint", "or upstream.ca_pem must be set"),
            (false, false) => return invalid("upstream.fingerprint", "and upstream.ca_pem are exclusive"),
            _ => {}
        }
        if !up.fingerprint.is_empty() {
            let hex: String = up.fingerprint.chars().filter(|c| *c != ':').collect();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return invalid("upstream.fingerprint", "must be a SHA-256 fingerprint (64 hex digits)");
            }
        }
        if up.request_timeout_ms == 0 {
            return invalid("upstream.request_timeout_ms", "must be positive");
        }
        if up.event_buffer == 0 {
            return invalid("upstream.event_buffer", "must be at least 1");
        }
        if !up.admin_url.is_empty() {
            if !up.admin_url.starts_with("http://") || up.admin_url.parse::<hyper::Uri>().is_err() {
                return invalid("upstream.admin_url", "must be an http:// URL of quipd's admin listener");
            }
            if up.admin_token.len() < 32 {
                return invalid("upstream.admin_token", "must be quipd's admin token (at least 32 bytes)");
            }
        }
        if up.rest_idle_secs == 0 {
            return invalid("upstream.rest_idle_secs", "must be positive");
        }
        for origin in &self.cors.origins {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/')
                    && axum::http::HeaderValue::from_str(origin).is_ok());
            if !ok {
                return invalid(
                    "cors.origins",
                    &format!("{origin:?} is not `*` or an origin like https://host[:port]"),
                );
            }
        }
        let media = &self.media;
        if media.max_bytes == 0 {
            return invalid("media.max_bytes", "must be positive");
        }
        if media.url_ttl_secs == 0 {
            return invalid("media.url_ttl_secs", "must be positive");
        }
        if !media.signing_secret.is_empty() && media.signing_secret.len() < 32 {
            return invalid("media.signing_secret", "must be at least 32 bytes");
        }
        if let Some(t) = media.allowed_types.iter().find(|t| !crate::media::KNOWN_TYPES.contains(&t.as_str())) {
            let known = crate::media::KNOWN_TYPES.join(", ");
            return invalid("media.allowed_types", &format!("{t:?} is not one the bridge can recognise ({known})"));
        }
        self.log.validate()?;
        self.validate_dialects()
    }

    fn validate_dialects(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| Err(ConfigError::Invalid { setting: "dialects", reason });
        let mut mounts: Vec<&str> = Vec::new();
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for d in &self.dialects {
            if !crate::dialects::is_shipped(&d.name) {
                return invalid(format!("no dialect named {:?} (shipped: {})", d.name, shipped_dialects()));
            }
            match (d.listen, d.mount.as_str()) {
                (Some(_), m) if !m.is_empty() => {
                    return invalid(format!("{:?}: set listen or mount, not both", d.name));
                }
                (None, "") => return invalid(format!("{:?}: needs listen or mount", d.name)),
                (Some(addr), _) => {
                    if addr.port() != 0 && (addr == self.listen || addrs.contains(&addr)) {
                        return invalid(format!("{:?}: {addr} is already used by another listener", d.name));
                    }
                    addrs.push(addr);
                }
                (None, mount) => {
                    let ok = mount.starts_with('/')
                        && !mount.ends_with('/')
                        && !matches!(mount, "/api" | "/socket.io" | "/healthz" | "/readyz")
                        && !mount.contains(['{', '}', '*', ':', '?', '#']);
                    if !ok {
                        return invalid(format!("{:?}: mount {mount:?} must be a path like /jivbook", d.name));
                    }
                    if mounts.contains(&mount) {
                        return invalid(format!("{:?}: mount {mount:?} is used twice", d.name));
                    }
                    mounts.push(mount);
                }
            }
        }
        Ok(())
    }

    /// How the SDK should trust quipd (reads the CA file when one is configured).
    pub fn trust(&self) -> Result<quip_sdk::Trust, ConfigError> {
        if !self.upstream.fingerprint.is_empty() {
            return Ok(quip_sdk::Trust::Fingerprint(self.upstream.fingerprint.clone()));
        }
        let path = PathBuf::from(&self.upstream.ca_pem);
        let pem = std::fs::read(&path).map_err(|source| ConfigError::Read { path, source })?;
        Ok(quip_sdk::Trust::CaPem(pem))
    }
}

/// `QUIP_BRIDGE_DIALECTS="jivbook@0.0.0.0:3010,kcs@/kcs"`: comma-separated `name@listen-or-mount`.
fn dialects_from_env(raw: &str) -> Result<toml::Value, String> {
    let mut items = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = DialectListenerConfig::parse(item)?;
        items.push(toml::Value::try_from(parsed).map_err(|e| e.to_string())?);
    }
    Ok(toml::Value::Array(items))
}

fn shipped_dialects() -> String {
    crate::dialects::BUILTIN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// `quip-bridge config example`: every setting with its default and a comment.
pub const EXAMPLE: &str = r#"# quip-bridge configuration. Every setting is optional; shown with its default.
# Each can also be set from the environment: QUIP_BRIDGE_ + its path in upper case, e.g.
# QUIP_BRIDGE_UPSTREAM_FINGERPRINT=aa:bb:...; lists are comma-separated there.

# The main HTTP listener: REST (/api/v1), Socket.IO (/socket.io/), /healthz, /readyz and the web page (/),
# in the canonical vocabulary (docs/BRIDGE.md).
listen = "127.0.0.1:8080"

# Legacy apps' dialects (docs/DIALECTS.md), none by default. Each entry serves one app's clients unchanged,
# on a listener of its own (`listen`, the port the app's clients already use) or under a path prefix of
# the main listener (`mount`: REST under /<prefix>/api/..., Socket.IO at /<prefix>/socket.io/). Shipped:
# kaajkaam, jivbook, ulearn, kcs, marketplace. From the environment:
# QUIP_BRIDGE_DIALECTS="jivbook@0.0.0.0:3010,kcs@/kcs".
dialects = []
#   [[dialects]]
#   name = "jivbook"
#   listen = "0.0.0.0:3010"
#   [[dialects]]
#   name = "kcs"
#   mount = "/kcs"

[upstream]
# quipd's QUIC address and TLS server name.
server = "127.0.0.1:4433"
server_name = "localhost"
# Trust quipd by its certificate fingerprint (as quipd prints it) or by a CA file: exactly one of them.
fingerprint = ""
ca_pem = ""
request_timeout_ms = 10000
# Events buffered per web socket between quipd and the browser.
event_buffer = 256
# Idle seconds after which a REST caller's upstream session is closed.
rest_idle_secs = 60
# quipd's admin listener and admin token, for the legacy apps' admin routes (KCS websocket-stats, served
# to a caller whose bearer token is this admin token); empty: those routes answer Unavailable.
admin_url = ""
admin_token = ""

[limits]
# TCP connections held at once over every client listener (past it a new one is closed at once), and
# Socket.IO connects being authenticated with quipd at once (past it a connect is refused with
# Unavailable). Refusals count in quip_admission_refused_total{limit}. Both at least 1.
max_connections = 50000
max_handshakes = 512
# Connections one client address may hold at once (0: no limit; behind a load balancer every client has
# its address). Refusals count as limit="connections_per_address".
max_connections_per_address = 0
# A client has this long to send a request's head (ms): one that drips headers or sends nothing is closed.
header_read_timeout_ms = 10000
# A connection silent both ways this long (ms) is closed (quip_bridge_idle_closed_total); live Socket.IO
# sockets ping every 25 s.
idle_timeout_ms = 120000

[shutdown]
# After SIGTERM/SIGINT: how long open client connections may take to finish (ms) before they are closed.
drain_timeout_ms = 10000

[cors]
# Browser origins allowed to call the API ("*" for any); empty: same-origin only.
origins = []

[media]
# Uploads (POST /api/v1/media, and the legacy apps' multipart routes) are kept here, one file per upload
# under a random id, and served back at /media/<id> through signed URLs only.
dir = "data/media"
# Largest file, in bytes (enforced while it streams in).
max_bytes = 10485760
# Most files in one multipart request of a legacy route.
max_files = 10
# Accepted types, judged on the file's first bytes (magic numbers), never on its name or claimed type.
allowed_types = ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "video/mp4"]
# How long a signed media URL works, in seconds. Messages keep the unsigned path; every rendering signs
# it afresh.
url_ttl_secs = 3600
# HMAC key for media URLs: at least 32 bytes, the same on every instance; empty: random per process.
signing_secret = ""

[log]
# "human" or "json" (one object a line, with the socket's session id).
format = "human"
# tracing filter, e.g. "info" or "quip_bridge=debug,info".
filter = "info"

[admin]
# TCP address of the admin listener: /metrics (Prometheus), /healthz, /readyz. Keep it off the public
# network.
listen = "127.0.0.1:9481"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn example_is_the_default() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn file_then_env_override_defaults() {
        let dir = std::env::temp_dir().join(format!("quip-bridge-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bridge.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n[upstream]\nevent_buffer = 7\n").unwrap();
        let cfg = Config::load(
            Some(&file),
            env(&[
                ("QUIP_BRIDGE_UPSTREAM_FINGERPRINT", FP),
                ("QUIP_BRIDGE_UPSTREAM_EVENT_BUFFER", "9"),
                ("QUIP_BRIDGE_CORS_ORIGINS", "https://a.example, http://localhost:3000"),
                ("QUIP_OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(cfg.upstream.event_buffer, 9);
        assert_eq!(cfg.cors.origins, vec!["https://a.example", "http://localhost:3000"]);
        assert!(cfg.validate().is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dialect_listeners_from_the_environment_and_their_checks() {
        let cfg = Config::load(
            None,
            env(&[
                ("QUIP_BRIDGE_UPSTREAM_FINGERPRINT", FP),
                ("QUIP_BRIDGE_DIALECTS", "jivbook@127.0.0.1:3010, kcs@/kcs"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.dialects.len(), 2);
        assert_eq!(cfg.dialects[0].listen, Some("127.0.0.1:3010".parse().unwrap()));
        assert_eq!((cfg.dialects[1].name.as_str(), cfg.dialects[1].mount.as_str()), ("kcs", "/kcs"));
        assert!(cfg.validate().is_ok());
        assert!(Config::load(None, env(&[("QUIP_BRIDGE_DIALECTS", "jivbook")])).is_err());
        let bad = [
            DialectListenerConfig { name: "nope".into(), listen: None, mount: "/x".into() },
            DialectListenerConfig { name: "kcs".into(), listen: None, mount: String::new() },
            DialectListenerConfig { name: "kcs".into(), listen: Some(cfg.listen), mount: String::new() },
            DialectListenerConfig { name: "kcs".into(), listen: None, mount: "/api".into() },
            DialectListenerConfig { name: "kcs".into(), listen: None, mount: "kcs/".into() },
        ];
        for entry in bad {
            let mut c = cfg.clone();
            c.dialects = vec![entry.clone()];
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains("dialects"), "{entry:?}: {err}");
        }
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Config::load(None, env(&[("QUIP_BRIDGE_UPSTREAM_EVENT_BUFFER", "lots")])).unwrap_err();
        assert!(err.to_string().contains("QUIP_BRIDGE_UPSTREAM_EVENT_BUFFER"), "{err}");
        type Mutation = fn(&mut Config);
        let cases: Vec<(&str, Mutation)> = vec![
            ("upstream.fingerprint", |c| c.upstream.fingerprint.clear()),
            ("upstream.fingerprint", |c| c.upstream.fingerprint = "zz".into()),
            ("upstream.fingerprint", |c| c.upstream.ca_pem = "ca.pem".into()),
            ("upstream.server", |c| c.upstream.server = "0.0.0.0:4433".parse().unwrap()),
            ("cors.origins", |c| c.cors.origins = vec!["example.com".into()]),
            ("media.signing_secret", |c| c.media.signing_secret = "short".into()),
            ("media.allowed_types", |c| c.media.allowed_types = vec!["text/x-unknown".into()]),
            ("log.format", |c| c.log.format = "xml".into()),
        ];
        for (setting, mutate) in cases {
            let mut cfg = Config::default();
            cfg.upstream.fingerprint = FP.into();
            mutate(&mut cfg);
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(setting), "{setting}: {err}");
        }
    }
}
