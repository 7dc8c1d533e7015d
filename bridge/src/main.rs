//! `quip-bridge`: Socket.IO v4 and REST for web clients, in front of quipd.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use quip_bridge::Bridge;
use quip_bridge::config::{self, Config};

#[derive(Debug, Parser)]
#[command(name = "quip-bridge", version, about = "Socket.IO v4 and REST bridge to the Quip broker")]
struct Cli {
    /// TOML configuration file (`quip-bridge config example` prints one).
    #[arg(long, short, global = true, env = "QUIP_BRIDGE_CONFIG")]
    config: Option<PathBuf>,
    /// HTTP address to listen on (overrides `listen`).
    #[arg(long, global = true)]
    listen: Option<std::net::SocketAddr>,
    /// quipd's QUIC address (overrides `upstream.server`).
    #[arg(long, global = true)]
    upstream: Option<std::net::SocketAddr>,
    /// quipd's certificate fingerprint (overrides `upstream.fingerprint`).
    #[arg(long, global = true, conflicts_with = "ca_pem")]
    fingerprint: Option<String>,
    /// CA certificate(s) quipd's certificate chains to (overrides `upstream.ca_pem`).
    #[arg(long, global = true)]
    ca_pem: Option<String>,
    /// Allowed CORS origin (repeatable; overrides `cors.origins`).
    #[arg(long = "cors-origin", global = true)]
    cors_origins: Vec<String>,
    /// Media directory (overrides `media.dir`).
    #[arg(long, global = true)]
    media_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the bridge (the default).
    Run,
    /// Serve the handlers the official Socket.IO and Engine.IO protocol test suites expect (no quipd
    /// needed): Socket.IO at /socket.io/ (namespaces / and /custom), raw Engine.IO echo at /engine.io/.
    Conformance {
        /// Where the suites look for the server.
        #[arg(long = "on", default_value = "127.0.0.1:3000")]
        on: std::net::SocketAddr,
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
    if let Some(server) = cli.upstream {
        cfg.upstream.server = server;
    }
    if let Some(fp) = &cli.fingerprint {
        cfg.upstream.fingerprint = fp.clone();
        cfg.upstream.ca_pem.clear();
    }
    if let Some(ca) = &cli.ca_pem {
        cfg.upstream.ca_pem = ca.clone();
        cfg.upstream.fingerprint.clear();
    }
    if !cli.cors_origins.is_empty() {
        cfg.cors.origins = cli.cors_origins.clone();
    }
    if let Some(dir) = &cli.media_dir {
        cfg.media.dir = dir.clone();
    }
    cfg.validate()?;
    Ok(cfg)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Config { what: ConfigCommand::Example }) => {
            print!("{}", config::EXAMPLE);
            return Ok(());
        }
        Some(Command::Config { what: ConfigCommand::Check }) => {
            let mut cfg = load(&cli)?;
            // Validated, then printed without its secrets.
            for secret in [&mut cfg.upstream.admin_token, &mut cfg.media.signing_secret] {
                if !secret.is_empty() {
                    *secret = "<set>".to_owned();
                }
            }
            print!("{}", toml::to_string_pretty(&cfg)?);
            return Ok(());
        }
        Some(Command::Conformance { on }) => {
            quip_service::logs::init(&config::LogConfig::default());
            let listener = tokio::net::TcpListener::bind(on).await?;
            println!("quip-bridge conformance mode on http://{}", listener.local_addr()?);
            quip_bridge::conformance::serve(listener, quip_service::signal::shutdown()).await?;
            return Ok(());
        }
        Some(Command::Run) | None => {}
    }
    let cfg = load(&cli)?;
    quip_service::logs::init(&cfg.log);
    let bridge = Bridge::new(cfg)?;
    let listeners = bridge.bind_all().await?;
    println!("quip-bridge listening on http://{}", listeners.main.local_addr()?);
    for d in &listeners.dialects {
        println!("quip-bridge dialect {} listening on http://{}", d.name, d.listener.local_addr()?);
    }
    println!("quip-bridge admin (/metrics) on http://{}", listeners.admin.local_addr()?);
    bridge.run_all(listeners, quip_service::signal::shutdown()).await?;
    Ok(())
}
