//! Test harness: a real quipd (quip-testkit: RocksDB in a temp dir) and a real bridge, both on 127.0.0.1:0
//! in this process; an HTTP/1.1 client for REST; the Node and Python end-to-end scripts as child
//! processes. `processes` runs both as the real binaries instead, for the metrics test.

pub mod processes;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use quip_bridge::config::DialectListenerConfig;
use quip_bridge::{Bridge, Config};
use quip_broker::PresenceConfig;
use quip_broker::auth::dev_claims;
use quip_testkit::{Quipd, WAIT};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest a child script may run.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// quipd and a bridge in front of it.
pub struct Env {
    pub bridge_addr: SocketAddr,
    /// The listeners of the bridge's dialects: name and address.
    pub dialect_addrs: Vec<(String, SocketAddr)>,
    media_dir: PathBuf,
    bridge_stop: Option<oneshot::Sender<()>>,
    bridge_task: Option<JoinHandle<()>>,
    /// quipd on a thread and runtime of its own: dropping it drains quipd and waits until RocksDB is
    /// closed, whatever becomes of the test's runtime.
    quipd: Quipd,
    _dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts quipd (its configuration changed by `tweak`) and a bridge in front of it.
    pub async fn start_with(tweak: impl FnOnce(&mut quip_broker::config::Config)) -> Self {
        Self::start_full(tweak, PresenceConfig::default(), |_| {}).await
    }

    /// Starts quipd with a short presence grace and a bridge serving every shipped legacy dialect on a
    /// listener of its own (127.0.0.1:0 each; see `dialect_url`), whose REST sessions close after 1 s idle
    /// (so that a user whose socket closes goes offline soon after).
    pub async fn start_with_dialects() -> Self {
        Self::start_full(
            // KCS's online lists name a user type: the seed tokens carry it as a `userType` claim.
            |cfg| cfg.auth.profile_claims = vec!["userType".into()],
            PresenceConfig { presence_grace_ms: 500 },
            |cfg| {
                cfg.upstream.rest_idle_secs = 1;
                cfg.dialects = ["kaajkaam", "jivbook", "ulearn", "kcs", "marketplace"]
                    .iter()
                    .map(|name| DialectListenerConfig {
                        name: (*name).to_owned(),
                        listen: Some("127.0.0.1:0".parse().unwrap()),
                        mount: String::new(),
                    })
                    .collect();
            },
        )
        .await
    }

    /// Where the bridge keeps uploads.
    pub fn media_dir(&self) -> &Path {
        &self.media_dir
    }

    /// The URL of dialect `name`'s listener.
    pub fn dialect_url(&self, name: &str) -> String {
        let (_, addr) = self.dialect_addrs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
        format!("http://{addr}")
    }

    /// Starts quipd as it comes and a bridge whose configuration `bridge_tweak` changes.
    pub async fn with_bridge(bridge_tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_full(|_| {}, PresenceConfig::default(), bridge_tweak).await
    }

    pub async fn start_full(
        tweak: impl FnOnce(&mut quip_broker::config::Config),
        presence: PresenceConfig,
        bridge_tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = quip_testkit::config(&dir.path().join("quipd"));
        tweak(&mut cfg);
        let quipd = Quipd::start_with_config_and_presence(cfg, presence).await;

        let media_dir = dir.path().join("media");
        let bridge_cfg = bridge_config(quipd.addr, &quipd.fingerprint, &media_dir, |cfg| {
            // quipd's admin API, for the legacy admin routes (KCS websocket-stats).
            cfg.upstream.admin_url = format!("http://{}", quipd.admin_addr);
            cfg.upstream.admin_token = quipd.admin_token.clone();
            bridge_tweak(cfg);
        });
        let bridge = Bridge::new(bridge_cfg).unwrap();
        let listeners = bridge.bind_all().await.unwrap();
        let bridge_addr = listeners.main.local_addr().unwrap();
        let dialect_addrs =
            listeners.dialects.iter().map(|d| (d.name.clone(), d.listener.local_addr().unwrap())).collect();
        let (bridge_stop, bridge_stopped) = oneshot::channel::<()>();
        let bridge_task = tokio::spawn(async move {
            bridge
                .run_all(listeners, async move {
                    let _ = bridge_stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            bridge_addr,
            dialect_addrs,
            media_dir,
            bridge_stop: Some(bridge_stop),
            bridge_task: Some(bridge_task),
            quipd,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.bridge_addr)
    }

    /// A valid token for `user` (an hour).
    pub fn token(&self, user: &str) -> String {
        self.quipd.token(user)
    }

    /// A token for `user` (display name: the id in upper case) with a `userType` claim.
    pub fn typed_token(&self, user: &str, user_type: &str) -> String {
        let now = quip_broker::now_ms() / 1000;
        let mut claims = dev_claims(user, Some(&user.to_uppercase()), now, 3600, &self.quipd.config.auth);
        claims.extra.insert("userType".into(), user_type.into());
        self.quipd.token_with(&claims)
    }

    /// A token for `user` that expired an hour ago.
    pub fn expired_token(&self, user: &str) -> String {
        let now = quip_broker::now_ms() / 1000;
        self.quipd.token_with(&dev_claims(user, None, now - 7200, 3600, &self.quipd.config.auth))
    }

    /// Stops the bridge gracefully (as on SIGTERM) and waits until it returned.
    /// A native SDK client of `user` straight to quipd (not through the bridge).
    pub async fn native(&self, user: &str) -> quip_sdk::Client {
        let trust = quip_sdk::Trust::Fingerprint(self.quipd.fingerprint.clone());
        let cfg = quip_sdk::ClientConfig::new(self.quipd.addr, trust, self.token(user), "native");
        quip_sdk::Client::connect(cfg).await.unwrap().0
    }

    pub async fn stop_bridge(&mut self) {
        if let Some(stop) = self.bridge_stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.bridge_task.take() {
            tokio::time::timeout(Duration::from_secs(20), task).await.expect("the bridge did not stop").unwrap();
        }
    }

    /// An HTTP/1.1 request to the bridge: status, headers and the body as JSON (Null when not JSON).
    pub async fn http(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        http(self.bridge_addr, method, path, token, body).await
    }

    /// Runs `node bridge/tests/js/<script>` with the bridge URL and `env`; returns its last stdout line as
    /// JSON (the script exits non-zero on failure, which fails the test with its output).
    pub async fn node(&self, script: &str, env: &[(&str, String)]) -> Value {
        setup_tools();
        let path = tests_dir().join("js").join(script);
        self.script("node", &[path.to_str().unwrap()], env).await
    }

    /// Runs `node bridge/tests/seeds/<name>.mjs` against dialect `name`'s listener with two users' tokens
    /// (docs in bridge/tests/seeds/README.md); the script exits 0 when the seed's whole flow worked.
    pub async fn seed(&self, name: &str, script: &str) -> Value {
        setup_tools();
        let path = tests_dir().join("seeds").join(script);
        let env = [
            ("BRIDGE_URL", self.dialect_url(name)),
            ("TOKEN_A", self.typed_token("alice", "Teacher")),
            ("TOKEN_B", self.typed_token("bob", "Student")),
            ("USER_A", "alice".to_owned()),
            ("USER_B", "bob".to_owned()),
            ("NAME_A", "ALICE".to_owned()),
            ("NAME_B", "BOB".to_owned()),
            ("TYPE_A", "Teacher".to_owned()),
            ("TYPE_B", "Student".to_owned()),
            ("ADMIN_TOKEN", self.quipd.admin_token.clone()),
            ("ADMIN_URL", format!("http://{}", self.quipd.admin_addr)),
        ];
        self.script("node", &[path.to_str().unwrap()], &env).await
    }

    /// Runs `bridge/tests/py/<script>` with the venv's Python.
    pub async fn python(&self, script: &str, env: &[(&str, String)]) -> Value {
        setup_tools();
        let python = tools_dir().join("bridge-venv").join("bin").join("python");
        let path = tests_dir().join("py").join(script);
        self.script(python.to_str().unwrap(), &[path.to_str().unwrap()], env).await
    }

    async fn script(&self, program: &str, args: &[&str], env: &[(&str, String)]) -> Value {
        run_script(program, args, &self.url(), env).await
    }
}

/// The bridge's configuration in front of the quipd at `upstream` (certificate `fingerprint`): loopback,
/// port 0 (main and admin listeners), uploads under `media_dir`, any CORS origin, then `tweak`.
pub fn bridge_config(
    upstream: SocketAddr,
    fingerprint: &str,
    media_dir: &Path,
    tweak: impl FnOnce(&mut Config),
) -> Config {
    let mut cfg = Config { listen: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
    cfg.upstream.server = upstream;
    cfg.upstream.fingerprint = fingerprint.to_owned();
    cfg.media.dir = media_dir.to_owned();
    cfg.cors.origins = vec!["*".into()];
    tweak(&mut cfg);
    cfg.admin.listen = "127.0.0.1:0".parse().unwrap();
    cfg
}

/// Runs `node bridge/tests/js/<script>` against `url` (as BRIDGE_URL); returns its last stdout line as JSON.
pub async fn node_script(script: &str, url: &str, env: &[(&str, String)]) -> Value {
    setup_tools();
    let path = tests_dir().join("js").join(script);
    run_script("node", &[path.to_str().unwrap()], url, env).await
}

/// Runs `bridge/tests/py/<script>` with the venv's Python and command-line `args` (BRIDGE_URL: `url`).
pub async fn python_args(script: &str, url: &str, args: &[String]) -> Value {
    setup_tools();
    let python = tools_dir().join("bridge-venv").join("bin").join("python");
    let path = tests_dir().join("py").join(script);
    let mut all = vec![path.to_str().unwrap()];
    all.extend(args.iter().map(String::as_str));
    run_script(python.to_str().unwrap(), &all, url, &[]).await
}

async fn run_script(program: &str, args: &[&str], url: &str, env: &[(&str, String)]) -> Value {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("BRIDGE_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{args:?} did not finish in time"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{args:?} printed no JSON result ({e}):\n{stdout}\n{stderr}"))
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(stop) = self.bridge_stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client: Client<_, Full<hyper::body::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder().method(method).uri(format!("http://{addr}{path}"));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(hyper::body::Bytes::from(payload))).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(20), client.request(req)).await.expect("HTTP timeout").unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response { status, headers, body, text }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn tools_dir() -> PathBuf {
    match std::env::var_os("QUIP_TOOLS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache").join("quip-tools"),
    }
}

/// Installs the Node and Python clients once per test binary (scripts/setup-bridge-tests; quiet and fast
/// when they are there).
pub fn setup_tools() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let status = std::process::Command::new(repo_root().join("scripts").join("setup-bridge-tests"))
            .env("QUIP_TOOLS_DIR", tools_dir())
            .status()
            .expect("cannot run scripts/setup-bridge-tests");
        assert!(status.success(), "scripts/setup-bridge-tests failed");
    });
}

/// Whether `check` turns true within [`WAIT`] (polled every 50 ms).
pub async fn until<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
