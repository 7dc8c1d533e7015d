//! `quipd`: run the broker, mint a dev token, or print an example configuration.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use quip_broker::Server;
use quip_broker::auth::{Authenticator, dev_claims};
use quip_broker::config::{self, Config};

#[derive(Debug, Parser)]
#[command(name = "quipd", version, about = "Quip chat broker")]
struct Cli {
    /// TOML configuration file (`quipd config example` prints one).
    #[arg(long, short, global = true, env = "QUIP_CONFIG")]
    config: Option<PathBuf>,
    /// UDP address to listen on (overrides `listen`).
    #[arg(long, global = true)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the broker (the default).
    Run,
    /// Mint a token signed with the configured HS256 secret (or the dev secret in the data directory).
    Token {
        /// The user id (`sub`).
        #[arg(long)]
        user: String,
        /// Display name (`name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: u64,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print every setting with its default and a comment.
    Example,
    /// Load and validate the configuration, then print it.
    Check,
}

fn load(cli: &Cli) -> anyhow::Result<Config> {
    let mut cfg = Config::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(listen) = cli.listen {
        cfg.listen = listen;
    }
    if let Some(dir) = &cli.data_dir {
        cfg.data_dir = dir.clone();
    }
    cfg.validate()?;
    Ok(cfg)
}

fn mint(cfg: &Config, user: &str, name: Option<&str>, ttl: u64) -> anyhow::Result<String> {
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    let secret = if cfg.auth.hs256_secret.is_empty() {
        quip_broker::tls::dev_secret(&cfg.data_dir)?
    } else {
        cfg.auth.hs256_secret.as_bytes().to_vec()
    };
    let auth = Authenticator::new(&cfg.auth, Some(&secret))?;
    let now = quip_broker::now_ms() / 1000;
    auth.mint(&dev_claims(user, name, now, ttl, &cfg.auth)).context("cannot sign the token")
}

/// SIGHUP reloads the TLS certificate and key from disk (new connections get them; none is dropped).
fn reload_tls_on_sighup(reloader: quip_broker::TlsReloader) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
        while hup.recv().await.is_some() {
            match reloader.reload() {
                Ok(fingerprint) => println!("certificate reloaded; SHA-256 fingerprint: {fingerprint}"),
                Err(e) => tracing::error!(error = %e, "TLS reload failed; the current certificate stays"),
            }
        }
    });
    #[cfg(not(unix))]
    drop(reloader);
}

/// jemalloc for the Rust heap: glibc's per-thread arenas kept freed memory and quipd's RSS grew by a
/// sixth over a 20-minute soak while its heap in use did not (BENCHMARKS.md, "Soak"). Prefixed, so
/// RocksDB's C++ keeps glibc's `malloc`: jemalloc as the process's `malloc` cannot start under
/// libfaketime (the clock harness), whose start-up allocates and reads the clock.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Config { what: ConfigCommand::Example }) => {
            print!("{}", config::EXAMPLE);
            return Ok(());
        }
        Some(Command::Config { what: ConfigCommand::Check }) => {
            let cfg = load(&cli)?;
            print!("{}", toml::to_string_pretty(&cfg)?);
            return Ok(());
        }
        Some(Command::Token { user, name, ttl }) => {
            let cfg = load(&cli)?;
            println!("{}", mint(&cfg, user, name.as_deref(), *ttl)?);
            return Ok(());
        }
        Some(Command::Run) | None => {}
    }

    let cfg = load(&cli)?;
    quip_service::logs::init(&cfg.log);
    let dev_token =
        if cfg.auth.hs256_secret.is_empty() { Some(mint(&cfg, "alice", Some("Alice"), 86_400)?) } else { None };
    let server = Server::bind(cfg.clone())?;
    let addr = server.local_addr()?;
    println!("quipd listening on {addr} (QUIC, ALPN quip/1), data in {}", cfg.data_dir.display());
    println!("certificate SHA-256 fingerprint: {}", server.fingerprint());
    println!(
        "admin API on http://{} (/healthz, /readyz, /metrics; /v1/stats, /v1/users/..., /v1/broadcast, /v1/notifications with the admin token)",
        server.admin_addr()?
    );
    if cfg.admin.token.is_empty() {
        println!("dev admin token: {}", server.admin_token());
    }
    if let Some(token) = dev_token {
        println!("dev token for user alice (24 h): {token}");
        let exe = std::env::current_exe().map_or_else(|_| "quipd".to_owned(), |p| p.display().to_string());
        println!("more tokens: {exe} token --data-dir {} --user bob --name Bob", cfg.data_dir.display());
        println!(
            "chat (another terminal): cargo run --release -p quip-sdk --example chat -- --server {addr} --fingerprint {} --token <token>",
            server.fingerprint()
        );
    }
    reload_tls_on_sighup(server.tls_reloader());
    server.run(quip_service::signal::shutdown()).await?;
    Ok(())
}
