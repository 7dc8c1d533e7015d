//! `quip-bench`: the load generator. Each scenario is a subcommand (`quip-bench <scenario> --help`);
//! `suite` runs them all side by side against Quip, quip-bridge, NATS core, NATS JetStream, Node Socket.IO
//! and Node Socket.IO + PostgreSQL (scripts/bench-load). Results are printed as tables and, with `--json`, written as JSON. The criterion
//! micro-benchmarks live in benches/benches/ (`cargo bench -p quip-bench`).
//!
//! Layout: `servers` starts the systems under test as child processes; `transport/` drives each (Quip
//! through the SDK, Socket.IO, NATS, JetStream); `load` is the open-loop driver; `stats` the clock, payload
//! and HDR histograms; `cpu` the CPU accounting and the pinned mode's affinity; `report` the JSON records
//! and tables; `scenario/` one file per scenario.

mod cpu;
mod load;
mod report;
mod scenario;
mod servers;
mod stats;
mod transport;

use clap::{Parser, Subcommand};

use scenario::pubsub::TargetKind;

#[derive(Debug, Parser)]
#[command(name = "quip-bench", version, about = "Quip load generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 1:1 conversations: N users each sending to a partner, at a set total rate (open loop).
    Chat(scenario::chat::ChatArgs),
    /// Group fan-out: one sender to a group of M members, at a set rate (open loop).
    Fanout(scenario::fanout::FanoutArgs),
    /// Connect storm: QUIC + TLS + JWT authentications per second.
    Connect(scenario::connect::ConnectArgs),
    /// N idle authenticated connections: quipd RSS per connection.
    Idle(scenario::idle::IdleArgs),
    /// N idle Socket.IO sockets on quip-bridge (with quipd) or Node: RSS per socket and idle CPU.
    IdleSockets(scenario::idle_sockets::IdleSocketsArgs),
    /// A device that missed K messages reconnects: time until it has them all.
    Resume(scenario::resume::ResumeArgs),
    /// The chat and fan-out scenarios through quip-bridge with Socket.IO clients.
    Bridge(BridgeArgs),
    /// Everything, side by side with NATS core and JetStream, Node Socket.IO and Node + PostgreSQL (what
    /// scripts/bench-load runs).
    Suite(scenario::suite::SuiteArgs),
    /// A fault harness: quipd's disk fills under sends (scripts/fault-disk-full).
    DiskFull(scenario::disk_full::DiskFullArgs),
    /// A fault harness: N clients reconnect and resume after quipd is killed and restarted.
    RestartStorm(scenario::restart_storm::RestartStormArgs),
    /// A fault harness: mixed traffic for a long time, a stalled reader, RSS sampled (scripts/fault-soak).
    Soak(scenario::soak::SoakArgs),
}

#[derive(Debug, clap::Args)]
struct BridgeArgs {
    /// Users of the chat scenario.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Group sizes of the fan-out scenario.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    members: Vec<usize>,
    #[command(flatten)]
    opts: scenario::pubsub::PubSubOpts,
}

impl Command {
    fn servers(&self) -> &servers::ServerOpts {
        match self {
            Command::Chat(a) => &a.opts.servers,
            Command::Fanout(a) => &a.opts.servers,
            Command::Bridge(a) => &a.opts.servers,
            Command::Connect(a) => &a.servers,
            Command::Idle(a) => &a.servers,
            Command::IdleSockets(a) => &a.servers,
            Command::Resume(a) => &a.servers,
            Command::Suite(a) => &a.servers,
            Command::DiskFull(a) => &a.servers,
            Command::RestartStorm(a) => &a.servers,
            Command::Soak(a) => &a.servers,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    stats::now_us();
    let command = Cli::parse().command;
    if command.servers().pinned {
        cpu::pin_generator()?;
    }
    // On SIGINT or SIGTERM the run is dropped, and with it every server it started (each stops on drop).
    let outcome = tokio::select! {
        result = run(command) => Ok(result),
        signal = interrupted() => Err(signal),
    };
    match outcome {
        Ok(result) => result,
        Err(signal) => {
            tracing::error!("stopped by {}", signal?);
            // A load point's ticker thread would hold the runtime's shutdown until its point ends.
            std::process::exit(1);
        }
    }
}

async fn interrupted() -> anyhow::Result<&'static str> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT").map_err(Into::into),
        _ = term.recv() => Ok("SIGTERM"),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Chat(args) => {
            scenario::chat::run(&args).await?;
        }
        Command::Fanout(args) => {
            scenario::fanout::run(&args).await?;
        }
        Command::Connect(args) => {
            scenario::connect::run(&args).await?;
        }
        Command::Idle(args) => {
            scenario::idle::run(&args).await?;
        }
        Command::IdleSockets(args) => {
            scenario::idle_sockets::run(&args).await?;
        }
        Command::Resume(args) => {
            scenario::resume::run(&args).await?;
        }
        Command::Bridge(mut args) => {
            args.opts.target = vec![TargetKind::Bridge];
            let chat = scenario::chat::ChatArgs { users: args.users, opts: args.opts.clone() };
            scenario::chat::run(&chat).await?;
            let fanout = scenario::fanout::FanoutArgs { members: args.members, opts: args.opts };
            scenario::fanout::run(&fanout).await?;
        }
        Command::Suite(args) => scenario::suite::run(&args).await?,
        Command::DiskFull(args) => scenario::disk_full::run(args).await?,
        Command::RestartStorm(args) => scenario::restart_storm::run(args).await?,
        Command::Soak(args) => scenario::soak::run(args).await?,
    }
    Ok(())
}
