//! What chat and fan-out share: the target to drive, its servers, the harness, and one run (a fixed
//! rate or a sweep) on a topology.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use super::sweep::{self, SweepOpts};
use crate::cpu::Probe;
use crate::load::{self, LoadSpec};
use crate::report::{Record, durability_of};
use crate::servers::{Postgres, Quipd, ServerOpts, TcpServer};
use crate::stats::Recorder;
use crate::transport::jetstream::JetStreamHarness;
use crate::transport::nats::NatsHarness;
use crate::transport::quip::QuipHarness;
use crate::transport::socketio::{Flavor, SioHarness};
use crate::transport::{Harness, Topology};

/// The system driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetKind {
    /// quipd over QUIC with the Rust SDK.
    Quip,
    /// The same with quipd's `store.durability = "wal"` (whatever --durability says).
    QuipWal,
    /// quip-bridge (in front of quipd) with Socket.IO clients.
    Bridge,
    /// nats-server, core pub/sub, with async-nats.
    Nats,
    /// nats-server with JetStream: a file-backed stream, publish with ack, a push consumer per receiver;
    /// nats-server's default sync (every 2 minutes).
    Jetstream,
    /// The same with `sync_interval: always` (an fsync per write).
    JetstreamFsync,
    /// The Node Socket.IO 4 room-broadcast app, with Socket.IO clients.
    Node,
    /// The seeds' shape: Express + Socket.IO 4 saving every message to PostgreSQL before broadcasting it.
    NodePg,
}

impl TargetKind {
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Quip => "quip",
            TargetKind::QuipWal => "quip-wal",
            TargetKind::Bridge => "bridge",
            TargetKind::Nats => "nats",
            TargetKind::Jetstream => "jetstream",
            TargetKind::JetstreamFsync => "jetstream-fsync",
            TargetKind::Node => "node",
            TargetKind::NodePg => "node-pg",
        }
    }
}

/// Options of the chat and fan-out scenarios.
#[derive(Debug, Clone, clap::Args)]
pub struct PubSubOpts {
    /// What to drive (repeat or comma-separate for several, one after the other).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "quip")]
    pub target: Vec<TargetKind>,
    #[command(flatten)]
    pub load: LoadSpec,
    #[command(flatten)]
    pub sweep: SweepOpts,
    /// Client-side QUIC endpoints (UDP sockets) the Quip connections are spread over.
    #[arg(long, default_value_t = 4)]
    pub endpoints: usize,
    /// Let the SDK report deliveries (`MarkDelivered`, which quipd fans out as receipts to every member).
    #[arg(long)]
    pub receipts: bool,
    #[command(flatten)]
    pub servers: ServerOpts,
    /// Also write the records as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The servers a target needs, kept alive for the run (dropping them stops them: the TCP servers first,
/// then PostgreSQL, then quipd).
#[derive(Default)]
struct Servers {
    tcp: Option<TcpServer>,
    pg: Option<Postgres>,
    quipd: Option<Quipd>,
}

impl Servers {
    /// Whose CPU time is the target's: every process started for it (unknown for a quipd not started here).
    fn probe(&self) -> Probe {
        let pids = [
            self.tcp.as_ref().map(TcpServer::pid),
            self.pg.as_ref().map(Postgres::pid),
            self.quipd.as_ref().map(Quipd::pid),
        ];
        Probe::new(pids.into_iter().flatten().collect())
    }
}

async fn setup(
    kind: TargetKind,
    opts: &PubSubOpts,
    topology: &Topology,
    recorder: Arc<Recorder>,
) -> anyhow::Result<(Servers, Harness)> {
    Ok(match kind {
        TargetKind::Quip | TargetKind::QuipWal => {
            let mut servers = opts.servers.clone();
            if kind == TargetKind::QuipWal {
                servers.durability = "wal".into();
            }
            let quipd = Quipd::start(&servers).await?;
            let h = QuipHarness::setup(&quipd, topology, recorder, opts.endpoints, opts.receipts).await?;
            (Servers { quipd: Some(quipd), ..Servers::default() }, Harness::Quip(h))
        }
        TargetKind::Bridge => {
            let quipd = Quipd::start(&opts.servers).await?;
            let bridge = TcpServer::bridge(&opts.servers, &quipd).await?;
            let h = SioHarness::setup(bridge.addr, Flavor::Bridge, topology, recorder, |u| quipd.token(u)).await?;
            (Servers { quipd: Some(quipd), tcp: Some(bridge), pg: None }, Harness::SocketIo(h))
        }
        TargetKind::Nats => {
            let nats = TcpServer::nats(&opts.servers).await?;
            let h = NatsHarness::setup(nats.addr, topology, recorder).await?;
            (Servers { tcp: Some(nats), ..Servers::default() }, Harness::Nats(h))
        }
        TargetKind::Jetstream | TargetKind::JetstreamFsync => {
            let nats = TcpServer::jetstream(&opts.servers, kind == TargetKind::JetstreamFsync).await?;
            let h = JetStreamHarness::setup(nats.addr, topology, recorder).await?;
            (Servers { tcp: Some(nats), ..Servers::default() }, Harness::JetStream(h))
        }
        TargetKind::Node => {
            let node = TcpServer::node(&opts.servers).await?;
            let h = SioHarness::setup(node.addr, Flavor::Node, topology, recorder, |u| Ok(u.to_owned())).await?;
            (Servers { tcp: Some(node), ..Servers::default() }, Harness::SocketIo(h))
        }
        TargetKind::NodePg => {
            let pg = opts.servers.postgres().await?;
            let node = TcpServer::node_pg(&opts.servers, &pg).await?;
            let h = SioHarness::setup(node.addr, Flavor::Node, topology, recorder, |u| Ok(u.to_owned())).await?;
            (Servers { tcp: Some(node), pg: Some(pg), quipd: None }, Harness::SocketIo(h))
        }
    })
}

/// Runs `scenario` on `topology` against every target asked: one load point, or a sweep.
pub async fn run(
    scenario: &str,
    params: serde_json::Value,
    topology: &Topology,
    opts: &PubSubOpts,
) -> anyhow::Result<Vec<Record>> {
    let mut records = Vec::new();
    for &kind in &opts.target {
        records.push(run_one(scenario, params.clone(), topology, kind, opts, None).await?);
    }
    Ok(records)
}

/// One target: start its servers, set up, load (a point at `rate`, the load spec's rate, or a sweep),
/// close.
pub async fn run_one(
    scenario: &str,
    mut params: serde_json::Value,
    topology: &Topology,
    kind: TargetKind,
    opts: &PubSubOpts,
    rate: Option<f64>,
) -> anyhow::Result<Record> {
    let recorder = Arc::new(Recorder::new()?);
    eprintln!("{scenario} / {}: setting up {} users", kind.name(), topology.users);
    let (servers, harness) = setup(kind, opts, topology, recorder.clone()).await?;
    let senders = harness.senders();
    let probe = servers.probe();
    let per_message = topology.receivers_per_message();
    params["payload"] = json!(opts.load.payload);
    params["receipts"] = json!(opts.receipts && matches!(kind, TargetKind::Quip | TargetKind::QuipWal));
    let durability = if kind == TargetKind::QuipWal { "wal" } else { opts.servers.durability.as_str() };
    let mut record = Record {
        scenario: scenario.to_owned(),
        target: kind.name().to_owned(),
        mode: opts.servers.mode().to_owned(),
        durability: durability_of(kind.name(), durability),
        params,
        load: None,
        points: Vec::new(),
        metrics: json!({}),
    };
    if opts.sweep.sweep && rate.is_none() {
        record.scenario = format!("{scenario}-sweep");
        let (points, max) = sweep::run(&senders, per_message, &opts.load, &opts.sweep, &recorder, &probe).await?;
        let best = points.iter().filter(|p| sweep::good(p, &opts.sweep)).map(|p| p.throughput).fold(0.0, f64::max);
        record.metrics = json!({
            "max_sustainable_rate": max,
            "max_sustainable_deliveries_per_s": best,
            "p99_bound_us": opts.sweep.p99_bound_us,
        });
        record.points = points;
    } else {
        let spec = LoadSpec { rate: rate.unwrap_or(opts.load.rate), ..opts.load };
        let outcome = load::run(&senders, per_message, &spec, &recorder, &probe).await?;
        eprintln!("  {}", sweep::describe(&outcome));
        record.load = Some(outcome);
    }
    harness.close().await;
    drop(servers);
    Ok(record)
}
