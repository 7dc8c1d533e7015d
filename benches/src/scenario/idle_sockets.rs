//! Idle Socket.IO sockets: N authenticated browsers' sockets held open and silent, against quip-bridge
//! (with its quipd) or the Node Socket.IO peer. Reports the servers' resident memory per socket (RSS
//! after minus RSS before, over N, for each server process) and the CPU they use while nothing is sent,
//! over a window longer than Socket.IO's 25 s ping interval, so that the heartbeats are in it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

use crate::cpu::{CpuUsage, Probe};
use crate::report::{self, Record, durability_of};
use crate::scenario::pubsub::TargetKind;
use crate::servers::{Quipd, ServerOpts, TcpServer, rss_bytes};
use crate::transport::socketio::SioClient;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleSocketsArgs {
    /// What serves the sockets: `bridge` (quip-bridge in front of quipd) or `node`.
    #[arg(long, value_enum, default_value = "bridge")]
    pub target: TargetKind,
    /// Sockets to hold (each its own user, authenticated).
    #[arg(long, default_value_t = 5_000)]
    pub sockets: usize,
    /// Handshakes in progress at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds to hold the sockets idle before reading the RSS.
    #[arg(long, default_value_t = 10.0)]
    pub settle: f64,
    /// Seconds over which the idle CPU is measured, after the settle time.
    #[arg(long, default_value_t = 30.0)]
    pub cpu_window: f64,
    #[command(flatten)]
    pub servers: ServerOpts,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The servers under test: every process whose memory and CPU count.
struct Target {
    name: &'static str,
    addr: std::net::SocketAddr,
    /// (process name, pid), the one that takes the sockets first.
    pids: Vec<(&'static str, u32)>,
    quipd: Option<Quipd>,
    _server: TcpServer,
}

impl Target {
    async fn start(kind: TargetKind, opts: &ServerOpts) -> anyhow::Result<Self> {
        let pid = |p: Option<u32>| p.context("the idle-sockets scenario reads the servers' /proc: it starts them");
        match kind {
            TargetKind::Bridge => {
                let quipd = Quipd::start(opts).await?;
                let bridge = TcpServer::bridge(opts, &quipd).await?;
                let pids = vec![("quip-bridge", pid(bridge.pid())?), ("quipd", pid(quipd.pid())?)];
                Ok(Self { name: "bridge", addr: bridge.addr, pids, quipd: Some(quipd), _server: bridge })
            }
            TargetKind::Node => {
                let node = TcpServer::node(opts).await?;
                let pids = vec![("node", pid(node.pid())?)];
                Ok(Self { name: "node", addr: node.addr, pids, quipd: None, _server: node })
            }
            other => bail!("idle-sockets drives Socket.IO servers (bridge, node), not {other:?}"),
        }
    }

    /// The handshake auth of `user`: a token quipd signed, or (Node) the user id the peer takes as is.
    fn auth(&self, user: &str) -> anyhow::Result<Value> {
        let token = match &self.quipd {
            Some(quipd) => quipd.token(user)?,
            None => user.to_owned(),
        };
        Ok(json!({ "token": token, "deviceId": format!("idle-{user}") }))
    }

    fn rss(&self) -> anyhow::Result<Vec<u64>> {
        self.pids.iter().map(|&(_, pid)| rss_bytes(pid)).collect()
    }

    async fn connect(&self, prefix: &str, count: usize, concurrency: usize) -> anyhow::Result<Vec<SioClient>> {
        let auths = (0..count).map(|i| self.auth(&format!("{prefix}{i}"))).collect::<anyhow::Result<Vec<_>>>()?;
        futures_util::stream::iter(auths)
            .map(|auth| SioClient::connect(self.addr, auth, |_, _| {}))
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await
    }
}

pub async fn run(args: &IdleSocketsArgs) -> anyhow::Result<Vec<Record>> {
    let target = Target::start(args.target, &args.servers).await?;
    // A few sockets first, so that what each process allocates once (pools, caches, first-use buffers)
    // is in the baseline rather than charged to the sockets.
    let warm = target.connect("w", 100, 32).await?;
    for c in &warm {
        c.close().await;
    }
    drop(warm);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = target.rss()?;
    eprintln!("idle-sockets: {} RSS {:?} MiB; opening {} sockets", target.name, mib(&before), args.sockets);
    let started = std::time::Instant::now();
    let clients = target.connect("i", args.sockets, args.concurrency).await?;
    let connect_s = started.elapsed().as_secs_f64();
    eprintln!("idle-sockets: {} connected in {connect_s:.1} s; holding {} s", clients.len(), args.settle);
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let after = target.rss()?;
    let probe = Probe::new(target.pids.iter().map(|&(_, pid)| Some(pid)).collect());
    let a = probe.sample();
    tokio::time::sleep(Duration::from_secs_f64(args.cpu_window)).await;
    let cpu = CpuUsage::between(&a, &probe.sample(), 1);
    let held = clients.len().max(1) as f64;
    let mut per_process = serde_json::Map::new();
    let mut total = 0.0;
    for (i, &(name, _)) in target.pids.iter().enumerate() {
        let per = after[i].saturating_sub(before[i]) as f64 / held;
        total += per;
        per_process.insert(
            name.to_owned(),
            json!({
                "rss_before_bytes": before[i],
                "rss_after_bytes": after[i],
                "rss_per_socket_bytes": per.round(),
            }),
        );
    }
    let idle_core_pct = cpu.server_us.map(|us| 100.0 * us as f64 / (cpu.window_s.max(1e-9) * 1e6));
    eprintln!(
        "idle-sockets: {} — {:.1} KB per socket (all server processes), idle CPU {} % of a core over {:.0} s",
        target.name,
        total / 1024.0,
        idle_core_pct.map_or("?".to_owned(), |p| format!("{p:.2}")),
        cpu.window_s
    );
    let record = Record {
        scenario: "idle-sockets".into(),
        target: target.name.into(),
        mode: args.servers.mode().into(),
        durability: durability_of(target.name, &args.servers.durability),
        params: json!({ "sockets": args.sockets, "settle_s": args.settle, "cpu_window_s": args.cpu_window }),
        load: None,
        points: Vec::new(),
        metrics: json!({
            "held": clients.len(),
            "connect_seconds": connect_s,
            "rss_per_socket_bytes": total.round(),
            "processes": per_process,
            "idle_server_cpu_us": cpu.server_us,
            "idle_server_core_pct": idle_core_pct,
            "idle_window_s": cpu.window_s,
        }),
    };
    for c in &clients {
        c.close().await;
    }
    let records = vec![record];
    report::emit(&records, args.json.as_deref())?;
    Ok(records)
}

fn mib(bytes: &[u64]) -> Vec<u64> {
    bytes.iter().map(|b| b >> 20).collect()
}
