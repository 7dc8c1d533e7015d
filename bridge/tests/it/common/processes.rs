//! quipd and the bridge as the real binaries, each a child process with a configuration file of its own
//! (the same settings `Env` gives them in this process). For a test whose assertions need a metrics
//! recorder to themselves: the recorder is process-wide, and every quipd and bridge the other tests of
//! this binary run in this process counts into this process's one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::Response;

/// How long a binary may take to print where it listens, or to stop after SIGTERM (liveness bounds).
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// quipd and a bridge in front of it, each a process of its own, in a temp dir.
pub struct Processes {
    pub bridge_addr: SocketAddr,
    /// The bridge's admin listener (`/metrics`).
    pub bridge_admin_addr: SocketAddr,
    /// quipd's admin listener (`/metrics`).
    pub quipd_admin_addr: SocketAddr,
    quipd_config: quip_broker::config::Config,
    bridge: Running,
    quipd: Running,
    _dir: tempfile::TempDir,
}

impl Processes {
    /// Starts `quipd` with the test configuration (`quip_testkit::config`), then `quip-bridge` in front of
    /// it with `Env`'s, and returns once both print their addresses.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let quipd_config = quip_testkit::config(&dir.path().join("quipd"));
        let quipd_prints = ["quipd listening on ", "certificate SHA-256 fingerprint: ", "admin API on http://"];
        let (quipd, printed) = Running::start(quipd_bin(), dir.path(), &to_toml(&quipd_config), &quipd_prints).await;
        let [addr, fingerprint, admin] = printed;

        let bridge_config =
            super::bridge_config(addr.parse().unwrap(), &fingerprint, &dir.path().join("media"), |_| {});
        let bridge_bin = PathBuf::from(env!("CARGO_BIN_EXE_quip-bridge"));
        let bridge_prints = ["quip-bridge listening on http://", "quip-bridge admin (/metrics) on http://"];
        let (bridge, printed) = Running::start(bridge_bin, dir.path(), &to_toml(&bridge_config), &bridge_prints).await;
        let [bridge_addr, bridge_admin] = printed;
        Self {
            bridge_addr: bridge_addr.parse().unwrap(),
            bridge_admin_addr: bridge_admin.parse().unwrap(),
            quipd_admin_addr: admin.parse().unwrap(),
            quipd_config,
            bridge,
            quipd,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.bridge_addr)
    }

    /// A valid token for `user` (an hour), signed with the dev secret quipd keeps in its data directory.
    pub fn token(&self, user: &str) -> String {
        quip_testkit::token(&self.quipd_config, user)
    }

    /// An HTTP/1.1 request to the bridge (as `Env::http`).
    pub async fn http(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        super::http(self.bridge_addr, method, path, token, body).await
    }

    /// Stops the bridge, then quipd, each gracefully (SIGTERM) and waited for.
    pub async fn stop(self) {
        self.bridge.stop().await;
        self.quipd.stop().await;
    }
}

/// quipd, built beside quip-bridge: the bridge's tests get no `CARGO_BIN_EXE_quipd` (quipd is another
/// package's binary); `cargo test --all-targets` at the workspace root builds every binary.
fn quipd_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_quip-bridge")).with_file_name("quipd");
    let hint = "build it with the workspace's `cargo test --release --all-targets` (or `cargo build --release`)";
    assert!(bin.exists(), "no quipd beside quip-bridge ({}): {hint}", bin.display());
    bin
}

fn to_toml(config: &impl serde::Serialize) -> String {
    toml::to_string(config).unwrap()
}

/// One child process; killed when dropped (a failed test), stopped gracefully by [`Running::stop`].
struct Running {
    child: Child,
    name: String,
    log: PathBuf,
}

impl Running {
    /// Writes `config` to `<dir>/<name>.toml` and runs `bin --config` it, its stderr (the log) to
    /// `<dir>/<name>.log`; returns once it printed a line starting with each of `prefixes`, with the word
    /// after each.
    async fn start<const N: usize>(
        bin: PathBuf,
        dir: &Path,
        config: &str,
        prefixes: &[&str; N],
    ) -> (Self, [String; N]) {
        let name = bin.file_name().unwrap().to_string_lossy().into_owned();
        let config_path = dir.join(format!("{name}.toml"));
        std::fs::write(&config_path, config).unwrap();
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(&bin);
        cmd.arg("--config").arg(&config_path);
        // Both read every QUIP_* (QUIP_BRIDGE_*) variable as a setting: the harness's own must not reach them.
        for (key, _) in std::env::vars() {
            if key.starts_with("QUIP_") {
                cmd.env_remove(key);
            }
        }
        let stderr = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while found.iter().any(Option::is_none) {
            let line = tokio::time::timeout_at(deadline, lines.next_line()).await;
            let Ok(Ok(Some(line))) = line else {
                panic!("{name} did not print where it listens; its log:\n{}", read_log(&log));
            };
            for (prefix, slot) in prefixes.iter().zip(found.iter_mut()) {
                if let Some(rest) = line.strip_prefix(prefix) {
                    *slot = rest.split_whitespace().next().map(str::to_owned);
                }
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (Self { child, name, log }, found.map(Option::unwrap))
    }

    /// SIGTERM, then wait until it exited (killed if it takes longer than [`STOP_TIMEOUT`]).
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            eprintln!("{} did not stop after SIGTERM; killed. Its log:\n{}", self.name, read_log(&self.log));
            let _ = self.child.kill().await;
        }
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
