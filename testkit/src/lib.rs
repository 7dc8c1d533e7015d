//! Quip's test kit (dev-only, never published): a real quipd on 127.0.0.1:0 with a real RocksDB in a
//! temp dir, on a thread and runtime of its own ([`BackgroundServer`]), and what tests do with it: mint
//! tokens with its dev secret, call its admin API, stop it gracefully, restart it on the same data. The
//! broker's, the bridge's and the load generator's tests share it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quip_broker::auth::{Authenticator, Claims, dev_claims};
use quip_broker::config::Config;
use quip_broker::{BackgroundServer, PresenceConfig};

/// How long a test waits for what should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

/// quipd's configuration for tests: loopback, port 0, its data under `data_dir`.
pub fn config(data_dir: &Path) -> Config {
    Config::local(data_dir)
}

/// A valid token for `user` (display name: the id in upper case), for an hour, signed with the dev secret
/// of the quipd configured by `cfg` (in this process or not; once it started, the secret is on disk).
pub fn token(cfg: &Config, user: &str) -> String {
    let secret = quip_broker::tls::dev_secret(&cfg.data_dir).unwrap();
    let now = quip_broker::now_ms() / 1000;
    let claims = dev_claims(user, Some(&user.to_uppercase()), now, 3600, &cfg.auth);
    Authenticator::new(&cfg.auth, Some(&secret)).unwrap().mint(&claims).unwrap()
}

/// A running quipd.
#[allow(missing_debug_implementations)] // holds the server and a temp dir; nothing worth printing
pub struct Quipd {
    pub addr: SocketAddr,
    pub fingerprint: String,
    /// The admin HTTP listener and its bearer token.
    pub admin_addr: SocketAddr,
    pub admin_token: String,
    pub data_dir: PathBuf,
    pub config: Config,
    /// Reloads the TLS certificate and key from disk, as SIGHUP does in quipd.
    pub tls_reloader: quip_broker::TlsReloader,
    /// quipd on a thread and runtime of its own: dropping it drains quipd and waits until RocksDB is
    /// closed, whatever becomes of the test's runtime.
    server: Option<BackgroundServer>,
    dir: Option<tempfile::TempDir>,
}

impl Quipd {
    /// quipd with the test configuration in a fresh temp dir.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let mut b = Self::start_with(cfg).await;
        b.dir = Some(dir);
        b
    }

    /// quipd with `cfg` (its data dir is the caller's).
    pub async fn start_with(cfg: Config) -> Self {
        Self::start_with_config_and_presence(cfg, PresenceConfig::default()).await
    }

    /// Starts quipd with `cfg` and `presence` settings.
    pub async fn start_with_config_and_presence(cfg: Config, presence: PresenceConfig) -> Self {
        let server = BackgroundServer::start(cfg.clone(), presence).unwrap();
        let started = server.started().clone();
        Self {
            addr: started.addr,
            fingerprint: started.fingerprint,
            admin_addr: started.admin_addr,
            admin_token: started.admin_token,
            data_dir: cfg.data_dir.clone(),
            config: cfg,
            tls_reloader: started.tls_reloader,
            server: Some(server),
            dir: None,
        }
    }

    /// An HTTP/1.1 request to the admin listener; returns the status code and the body.
    pub async fn admin_call(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        http_call(self.admin_addr, method, path, token, body).await
    }

    /// Graceful stop (as on SIGTERM); waits until quipd has flushed and exited.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            let stopped = tokio::task::spawn_blocking(move || server.stop());
            tokio::time::timeout(Duration::from_secs(20), stopped).await.expect("quipd did not stop").unwrap().unwrap();
        }
    }

    /// Stops and starts again on the same data directory (a new port).
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let dir = self.dir.take();
        let mut cfg = self.config.clone();
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        let mut b = Self::start_with(cfg).await;
        b.dir = dir;
        b
    }

    /// Stops quipd, hands its store to `edit` (e.g. to put rows that no request writes yet, through
    /// `Store::raw_db`), then starts it again on the same data directory (a new port).
    pub async fn restart_editing_store(mut self, edit: impl FnOnce(&quip_store::Store)) -> Self {
        self.stop().await;
        {
            let store = quip_store::Store::open(&self.data_dir.join("store"), &self.config.store).unwrap();
            edit(&store);
            store.flush().unwrap();
        }
        self.restart().await
    }

    /// Verifies and mints tokens with this quipd's dev secret.
    pub fn authenticator(&self) -> Authenticator {
        let secret = quip_broker::tls::dev_secret(&self.data_dir).unwrap();
        Authenticator::new(&self.config.auth, Some(&secret)).unwrap()
    }

    /// A valid token for `user` (display name: the id in upper case), for an hour.
    pub fn token(&self, user: &str) -> String {
        token(&self.config, user)
    }

    /// A token with exactly these claims.
    pub fn token_with(&self, claims: &Claims) -> String {
        self.authenticator().mint(claims).unwrap()
    }

    /// The dev signing secret.
    pub fn secret(&self) -> Vec<u8> {
        quip_broker::tls::dev_secret(&self.data_dir).unwrap()
    }

    /// The dev certificate (PEM).
    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.data_dir.join("dev-cert.pem")).unwrap()
    }
}

// quipd with presence settings other than the defaults (e.g. a short grace period).
impl Quipd {
    /// Starts quipd in a fresh temp dir with `presence` settings.
    pub async fn start_with_presence(presence: PresenceConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let mut b = Self::start_with_config_and_presence(cfg, presence).await;
        b.dir = Some(dir);
        b
    }

    /// Stops and starts again on the same data directory (a new port) with `presence` settings.
    pub async fn restart_with_presence(mut self, presence: PresenceConfig) -> Self {
        self.stop().await;
        let dir = self.dir.take();
        let mut cfg = self.config.clone();
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        let mut b = Self::start_with_config_and_presence(cfg, presence).await;
        b.dir = dir;
        b
    }
}

/// An HTTP/1.1 request (JSON body, `Connection: close`) to `addr`; returns the status code and the body.
pub async fn http_call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}
