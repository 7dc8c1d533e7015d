//! The side-by-side suite (`scripts/bench-load`): chat and fan-out sweeps against Quip, the bridge, NATS
//! core, NATS JetStream (default sync and fsync per write), Node Socket.IO and Node Socket.IO saving to
//! PostgreSQL, Quip at half its maximum rate, the connect storm, idle memory and resume; one JSON file with
//! every record, the ratios and the targets of issue 8, and the tables on stdout.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use super::connect::{self, ConnectArgs};
use super::idle::{self, IdleArgs};
use super::idle_sockets::{self, IdleSocketsArgs};
use super::pubsub::{self, PubSubOpts, TargetKind};
use super::resume::{self, ResumeArgs};
use super::sweep::SweepOpts;
use crate::load::LoadSpec;
use crate::report::{self, Record, per_s, us};
use crate::servers::ServerOpts;
use crate::transport::Topology;

#[derive(Debug, Clone, clap::Args)]
pub struct SuiteArgs {
    /// Targets compared.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "quip,quip-wal,nats,jetstream,jetstream-fsync,node,node-pg,bridge"
    )]
    pub targets: Vec<TargetKind>,
    /// Users of the chat scenario.
    #[arg(long, default_value_t = 200)]
    pub chat_users: usize,
    /// Group sizes swept in the fan-out scenario.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    pub members: Vec<usize>,
    /// Measured seconds per load point (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of warm-up before each load point's measured ones.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 256)]
    pub payload: usize,
    /// p99 bound of the sweeps (µs).
    #[arg(long, default_value_t = 50_000)]
    pub p99_bound_us: u64,
    /// Connections of the connect storm.
    #[arg(long, default_value_t = 5000)]
    pub storm: usize,
    /// Idle connections held.
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// Idle Socket.IO sockets held, on the bridge and on Node (0: skip).
    #[arg(long, default_value_t = 5_000)]
    pub idle_sockets: usize,
    /// Messages missed before the resume.
    #[arg(long, default_value_t = 10_000)]
    pub missed: u64,
    #[command(flatten)]
    pub servers: ServerOpts,
    /// Where the JSON goes.
    #[arg(long, default_value = "bench-results")]
    pub out_dir: PathBuf,
}

#[derive(Serialize)]
struct Suite<'a> {
    date_unix_s: u64,
    /// shared or pinned (`--pinned`).
    mode: &'static str,
    machine: Value,
    records: &'a [Record],
    ratios: Vec<Value>,
    targets: Vec<Value>,
}

fn opts(args: &SuiteArgs, kind: TargetKind, start: f64, sweep: bool) -> PubSubOpts {
    PubSubOpts {
        target: vec![kind],
        load: LoadSpec {
            rate: start,
            duration: args.duration,
            warmup: args.warmup,
            payload: args.payload,
            ..default_load()
        },
        sweep: SweepOpts {
            sweep,
            p99_bound_us: args.p99_bound_us,
            sweep_start: None,
            sweep_factor: 2.0,
            sweep_max: 1_000_000.0,
            sweep_refine: 1,
        },
        endpoints: 4,
        receipts: false,
        servers: args.servers.clone(),
        json: None,
    }
}

fn default_load() -> LoadSpec {
    LoadSpec { rate: 1000.0, duration: 5.0, warmup: 1.0, payload: 256, max_in_flight: 20_000, drain: 5.0 }
}

/// The ratios of maximum sustainable deliveries per second printed (numerator ÷ denominator), for the
/// targets the suite ran.
const RATIOS: [(&str, &str); 8] = [
    ("quip", "node"),
    ("bridge", "node"),
    ("quip", "nats"),
    ("quip", "jetstream"),
    ("quip", "jetstream-fsync"),
    ("quip", "node-pg"),
    ("bridge", "node-pg"),
    ("quip-wal", "jetstream"),
];

fn max_deliveries(r: &Record) -> f64 {
    r.metrics["max_sustainable_deliveries_per_s"].as_f64().unwrap_or(0.0)
}

pub async fn run(args: &SuiteArgs) -> anyhow::Result<()> {
    let mut records: Vec<Record> = Vec::new();
    // (scenario label, size) -> per target sweep record index
    let mut sweeps: Vec<(String, Vec<usize>)> = Vec::new();

    let chat = Topology::chat(args.chat_users);
    let mut idx = Vec::new();
    for &kind in &args.targets {
        let o = opts(args, kind, 2000.0, true);
        records.push(pubsub::run_one("chat", json!({ "users": chat.users }), &chat, kind, &o, None).await?);
        idx.push(records.len() - 1);
    }
    sweeps.push((format!("chat, {} users", chat.users), idx));

    for &members in &args.members {
        let topology = Topology::fanout(members);
        // Start every sweep at 20 000 deliveries per second.
        let start = (20_000.0 / members as f64).max(1.0);
        let mut idx = Vec::new();
        for &kind in &args.targets {
            let o = opts(args, kind, start, true);
            let params = json!({ "members": members });
            records.push(pubsub::run_one("fanout", params, &topology, kind, &o, None).await?);
            idx.push(records.len() - 1);
        }
        sweeps.push((format!("fan-out, {members} members"), idx));
    }

    // Quip at half its maximum sustainable rate: the latency target.
    let mut targets = Vec::new();
    let groups: Vec<(String, Topology, Value)> =
        std::iter::once(("chat".to_owned(), chat.clone(), json!({ "users": chat.users })))
            .chain(args.members.iter().map(|&m| ("fanout".to_owned(), Topology::fanout(m), json!({ "members": m }))))
            .collect();
    for ((scenario, topology, params), (_, idx)) in groups.into_iter().zip(&sweeps) {
        for &i in idx {
            let kind = match records[i].target.as_str() {
                "quip" => TargetKind::Quip,
                "quip-wal" => TargetKind::QuipWal,
                _ => continue,
            };
            let Some(max) = records[i].metrics["max_sustainable_rate"].as_f64() else { continue };
            let o = opts(args, kind, max / 2.0, false);
            let mut r = pubsub::run_one(&scenario, params.clone(), &topology, kind, &o, Some(max / 2.0)).await?;
            r.scenario = format!("{scenario}-half-max");
            let p99 = r.load.as_ref().map_or(0, |l| l.latency.p99_us);
            targets.push(json!({
                "target": format!(
                    "send→deliver p99 < 2 ms at half the max sustainable rate ({scenario} {}, {}, {:.0} msg/s)",
                    size_label(&params), r.durability, max / 2.0
                ),
                "measured": us(p99),
                "met": p99 < 2_000,
            }));
            records.push(r);
        }
    }

    let storm = ConnectArgs {
        connections: args.storm,
        concurrency: 128,
        endpoints: 8,
        servers: args.servers.clone(),
        json: None,
    };
    records.extend(connect::run(&storm).await?);
    let idle = IdleArgs {
        connections: args.idle,
        concurrency: 128,
        endpoints: 16,
        settle: 10.0,
        servers: args.servers.clone(),
        json: None,
    };
    let idle_records = idle::run(&idle).await?;
    for r in &idle_records {
        let per = r.metrics["quipd_rss_per_connection_bytes"].as_f64().unwrap_or(f64::NAN);
        targets.push(json!({
            "target": format!("idle authenticated QUIC connections ≤ 8 KB quipd RSS each, {} held", r.metrics["held"]),
            "measured": format!(
                "{:.1} KB per connection (50 000 would take {:.1} GiB)",
                per / 1024.0,
                per * 50_000.0 / f64::from(1u32 << 30)
            ),
            "met": per <= 8192.0 && r.metrics["held"].as_u64() >= Some(50_000),
        }));
    }
    records.extend(idle_records);
    if args.idle_sockets > 0 {
        records.extend(idle_sockets_side_by_side(args, &mut targets).await?);
    }
    let resume =
        ResumeArgs { missed: args.missed, runs: 3, payload: args.payload, servers: args.servers.clone(), json: None };
    let resume_records = resume::run(&resume).await?;
    for r in &resume_records {
        let worst = r.metrics["all_messages"]["max_us"].as_u64().unwrap_or(u64::MAX);
        targets.push(json!({
            "target": format!("a device that missed {} messages has them all within 100 ms of reconnecting", args.missed),
            "measured": format!("worst of {} runs: {}", resume.runs, us(worst)),
            "met": worst <= 100_000,
        }));
    }
    records.extend(resume_records);

    // Ratios of maximum sustainable deliveries per second.
    let mut ratios = Vec::new();
    for (label, idx) in &sweeps {
        let of =
            |target: &str| idx.iter().find(|&&i| records[i].target == target).map(|&i| max_deliveries(&records[i]));
        for (num, den) in RATIOS {
            let (Some(n), Some(d)) = (of(num), of(den)) else { continue };
            let ratio = if d > 0.0 { n / d } else { f64::NAN };
            ratios.push(json!({
                "scenario": label, "numerator": num, "denominator": den,
                "numerator_deliveries_per_s": n, "denominator_deliveries_per_s": d, "ratio": ratio,
            }));
            if label.starts_with("fan-out") && num == "quip" && den == "node" {
                targets.push(json!({"target": format!("{label}: deliveries/s ≥ 10× Node Socket.IO's"),
                    "measured": format!("{ratio:.2}×"), "met": ratio >= 10.0}));
            }
            if label.starts_with("fan-out") && num == "quip" && den == "nats" {
                targets.push(json!({"target": format!("{label}: deliveries/s reaching NATS core's"),
                    "measured": format!("{ratio:.2}×"), "met": ratio >= 1.0}));
            }
        }
    }

    let mode = args.servers.mode();
    println!("\n## Results\n\n{}", report::tables(&records));
    println!("## Maximum sustainable deliveries per second (p99 ≤ {}), ratios\n", us(args.p99_bound_us));
    println!("Mode: {}\n", report::mode_description(mode));
    println!("| scenario | pair | numerator | denominator | ratio |\n| --- | --- | --- | --- | --- |");
    for r in &ratios {
        let (num, den) = (r["numerator"].as_str().unwrap_or(""), r["denominator"].as_str().unwrap_or(""));
        println!(
            "| {} | {} ÷ {} | {} | {} | {:.2}× |",
            r["scenario"].as_str().unwrap_or(""),
            num,
            den,
            per_s(r["numerator_deliveries_per_s"].as_f64().unwrap_or(0.0)),
            per_s(r["denominator_deliveries_per_s"].as_f64().unwrap_or(0.0)),
            r["ratio"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!("\n## Targets\n\n| target | measured | met |\n| --- | --- | --- |");
    for t in &targets {
        println!(
            "| {} | {} | {} |",
            t["target"].as_str().unwrap_or(""),
            t["measured"].as_str().unwrap_or(""),
            t["met"]
        );
    }
    let date_unix_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let suite = Suite { date_unix_s, mode, machine: machine(), records: &records, ratios, targets };
    let path = args.out_dir.join(format!("suite-{date_unix_s}.json"));
    report::write_json(&path, &suite)?;
    report::write_json(&args.out_dir.join("latest.json"), &suite)?;
    println!("\nresults written to {} and latest.json beside it", path.display());
    Ok(())
}

fn size_label(params: &Value) -> String {
    match (params.get("users"), params.get("members")) {
        (Some(u), _) => format!("{u} users"),
        (_, Some(m)) => format!("{m} members"),
        _ => String::new(),
    }
}

/// What this machine is (for the record).
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({ "cpu": model.trim(), "cores": cores, "loadavg_at_end": load.trim() })
}

/// Idle Socket.IO sockets on the bridge (with its quipd) and on Node; the bridge's target is Node's RSS
/// per socket and no more idle CPU than Node's (both send Socket.IO's heartbeats).
async fn idle_sockets_side_by_side(args: &SuiteArgs, targets: &mut Vec<Value>) -> anyhow::Result<Vec<Record>> {
    let mut records = Vec::new();
    for target in [TargetKind::Bridge, TargetKind::Node] {
        let run = IdleSocketsArgs {
            target,
            sockets: args.idle_sockets,
            concurrency: 64,
            settle: 10.0,
            cpu_window: 30.0,
            servers: args.servers.clone(),
            json: None,
        };
        records.extend(idle_sockets::run(&run).await?);
    }
    let of = |name: &str, key: &str| {
        records.iter().find(|r| r.target == name).and_then(|r| r.metrics[key].as_f64()).unwrap_or(f64::NAN)
    };
    let (bridge, node) = (of("bridge", "rss_per_socket_bytes"), of("node", "rss_per_socket_bytes"));
    targets.push(json!({
        "target": format!("bridge RSS per idle socket (bridge + quipd) ≤ Node Socket.IO's, {} held", args.idle_sockets),
        "measured": format!("{:.1} KB against Node's {:.1} KB", bridge / 1024.0, node / 1024.0),
        "met": bridge <= node,
    }));
    let (bridge, node) = (of("bridge", "idle_server_core_pct"), of("node", "idle_server_core_pct"));
    targets.push(json!({
        "target": "no CPU while idle beyond Socket.IO's heartbeats (bridge ≤ Node)",
        "measured": format!("{bridge:.2} % of a core against Node's {node:.2} %"),
        "met": bridge <= node * 1.1,
    }));
    Ok(records)
}
