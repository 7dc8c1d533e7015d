//! The real `quipd` binary as a child process: a config file and a data directory that outlive it,
//! start (on a given port, to come back where the clients expect it), readiness, SIGKILL.

use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How long a start may take before the harness gives up (a liveness bound, not a measurement).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where quipd's files live across its restarts.
#[derive(Debug)]
pub struct Setup {
    pub bin: PathBuf,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    /// Extra environment for the process (not `QUIP_*` settings: those stay in the file).
    pub env: Vec<(String, String)>,
}

/// One quipd process.
#[derive(Debug)]
pub struct Quipd {
    child: Child,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub fingerprint: String,
}

impl Setup {
    /// Writes the configuration: loopback QUIC and admin listeners (the OS picks the ports on the first
    /// start), `store.durability`, a 1 s heartbeat (so clients notice a killed broker within ~3 s: a
    /// SIGKILLed process sends no CONNECTION_CLOSE, the QUIC idle timeout is what tells), and rate limits
    /// far above what the harness sends.
    pub fn new(bin: PathBuf, root: &Path, durability: &str) -> Self {
        let data_dir = root.join("data");
        let config = root.join("quipd.toml");
        let text = format!(
            r#"listen = "127.0.0.1:0"
data_dir = "{data}"

[store]
durability = "{durability}"

[admin]
listen = "127.0.0.1:0"

[limits]
heartbeat_ms = 1000

[shutdown]
drain_timeout_ms = 1000

[log]
filter = "warn"

[rate_limits.native]
messages_per_minute = 10000000
conversations_per_hour = 1000000
"#,
            data = data_dir.display()
        );
        std::fs::write(&config, text).unwrap();
        Self { bin, config, log: root.join("quipd.log"), data_dir, env: Vec::new() }
    }

    /// Starts quipd (`listen`: the address of the previous run, or `None` for a fresh port) and waits
    /// until `/readyz` answers 200. A bind that fails right after a kill (the port not yet released) is
    /// retried.
    pub async fn start(&self, listen: Option<SocketAddr>, generation: u32) -> Result<Quipd, String> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_start(listen, generation, deadline).await {
                Ok(q) => return Ok(q),
                Err(e) if tokio::time::Instant::now() < deadline && attempt < 20 => {
                    eprintln!("quipd start {generation} attempt {attempt} failed: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(format!("{e}\n--- quipd log (tail) ---\n{}", self.log_tail())),
            }
        }
    }

    async fn try_start(
        &self,
        listen: Option<SocketAddr>,
        generation: u32,
        deadline: tokio::time::Instant,
    ) -> Result<Quipd, String> {
        let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        std::io::Write::write_all(&mut log, format!("=== quipd start {generation}\n").as_bytes()).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(&self.config);
        if let Some(addr) = listen {
            cmd.arg("--listen").arg(addr.to_string());
        }
        // quipd reads every QUIP_* variable as a setting: the harness's own must not reach it.
        for (key, _) in std::env::vars() {
            if key.starts_with("QUIP_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(log)).kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut addr, mut admin, mut fingerprint) = (None, None, None);
        while addr.is_none() || admin.is_none() || fingerprint.is_none() {
            let line = tokio::time::timeout_at(deadline, lines.next_line())
                .await
                .map_err(|_| "quipd printed no address in time".to_owned())?
                .map_err(|e| e.to_string())?;
            let Some(line) = line else {
                let status = child.wait().await.map_err(|e| e.to_string())?;
                return Err(format!("quipd exited before it was up ({status})"));
            };
            if let Some(rest) = line.strip_prefix("quipd listening on ") {
                addr = rest.split_whitespace().next().and_then(|a| a.parse::<SocketAddr>().ok());
            } else if let Some(rest) = line.strip_prefix("certificate SHA-256 fingerprint: ") {
                fingerprint = Some(rest.trim().to_owned());
            } else if let Some(rest) = line.strip_prefix("admin API on http://") {
                admin = rest.split_whitespace().next().and_then(|a| a.parse::<SocketAddr>().ok());
            }
        }
        // Keep draining stdout so quipd never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let q = Quipd {
            child,
            addr: addr.ok_or("no address")?,
            admin: admin.ok_or("no admin address")?,
            fingerprint: fingerprint.ok_or("no fingerprint")?,
        };
        q.wait_ready(deadline).await?;
        Ok(q)
    }

    /// A token for `user`, signed with the dev secret quipd keeps in the data directory.
    pub fn token(&self, user: &str) -> String {
        self.token_at(user, quip_broker::now_ms() / 1000)
    }

    /// A token for `user`, issued at `now_secs` (a clock other than this process's) for an hour.
    pub fn token_at(&self, user: &str, now_secs: u64) -> String {
        let auth_cfg = quip_broker::config::AuthConfig::default();
        let secret = quip_broker::tls::dev_secret(&self.data_dir).unwrap();
        let auth = quip_broker::auth::Authenticator::new(&auth_cfg, Some(&secret)).unwrap();
        auth.mint(&quip_broker::auth::dev_claims(user, Some(user), now_secs, 3600, &auth_cfg)).unwrap()
    }

    /// Rewrites the `[log]` settings of the configuration (for the next start).
    pub fn log_as(&self, filter: &str, format: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let text =
            text.replace("[log]\nfilter = \"warn\"", &format!("[log]\nfilter = \"{filter}\"\nformat = \"{format}\""));
        std::fs::write(&self.config, text).unwrap();
    }

    /// The last lines quipd logged (for a failure message).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Quipd {
    /// Polls `/readyz` until it answers 200.
    async fn wait_ready(&self, deadline: tokio::time::Instant) -> Result<(), String> {
        loop {
            if get_status(self.admin, "/readyz").await == Some(200) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err("quipd never became ready".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (a graceful stop), then reap it; fails unless quipd exits with status 0.
    pub async fn terminate(mut self) -> Result<(), String> {
        let pid = self.child.id().ok_or("quipd already reaped")?;
        let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        sent.map_err(|e| format!("kill -TERM: {e}"))?;
        let status = tokio::time::timeout(START_TIMEOUT, self.child.wait())
            .await
            .map_err(|_| "quipd did not stop after SIGTERM".to_owned())?
            .map_err(|e| e.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("quipd ended with {status}")) }
    }

    /// SIGKILL, then reap it. Fails if quipd had already died on its own.
    pub async fn kill(mut self) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(format!("quipd died before the kill: {status}"));
        }
        self.child.start_kill().map_err(|e| format!("kill: {e}"))?;
        let status = self.child.wait().await.map_err(|e| e.to_string())?;
        match status.signal() {
            Some(9) => Ok(()),
            _ => Err(format!("quipd ended with {status}, not by SIGKILL")),
        }
    }
}

/// The status code of a plain HTTP/1.1 GET, or None when the listener does not answer.
async fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let io = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        String::from_utf8_lossy(&out).split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(5), io).await.ok().flatten()
}
