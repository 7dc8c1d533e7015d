//! Results: one JSON record per run (scenario, target, settings, outcome) and readable tables.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::load::LoadOutcome;

/// One scenario run against one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// chat, fanout, connect, idle, resume (a sweep adds `-sweep`).
    pub scenario: String,
    /// quip, quip-wal, bridge, nats, jetstream, jetstream-fsync, node or node-pg.
    pub target: String,
    /// shared (every process on any core) or pinned (servers on core 0, the generator on core 1).
    #[serde(default)]
    pub mode: String,
    /// What the target keeps: Quip's store durability, "none (NATS core)" or "none (in memory)".
    pub durability: String,
    /// The scenario's settings (users, members, payload, ...).
    pub params: Value,
    /// Open-loop outcome, for chat and fan-out runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadOutcome>,
    /// Sweep points, lowest rate first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<LoadOutcome>,
    /// Anything else the scenario measured.
    #[serde(default)]
    pub metrics: Value,
}

/// What the target keeps, as stated in every record.
pub fn durability_of(target: &str, quip_durability: &str) -> String {
    match target {
        "nats" => "none (NATS core: in memory, nothing stored)".into(),
        "node" => "none (in-memory rooms, nothing stored)".into(),
        "jetstream" => "JetStream file store, nats-server's default sync (fsync every 2 min)".into(),
        "jetstream-fsync" => "JetStream file store, sync_interval: always (fsync per write)".into(),
        "node-pg" => "PostgreSQL, one INSERT per message, synchronous_commit = on".into(),
        _ => format!("quipd store.durability = {quip_durability}"),
    }
}

/// Microseconds as a short human string.
pub fn us(v: u64) -> String {
    if v >= 1_000_000 {
        format!("{:.2} s", v as f64 / 1e6)
    } else if v >= 1_000 {
        format!("{:.2} ms", v as f64 / 1e3)
    } else {
        format!("{v} µs")
    }
}

/// A count per second as a short human string.
pub fn per_s(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M/s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k/s", v / 1e3)
    } else {
        format!("{v:.0}/s")
    }
}

const LOAD_HEADER: &str = "| scenario | target | size | rate sent (msg/s) | deliveries/s | p50 | p99 | p99.9 | max | delivered / expected | dropped | failed | server CPU / delivery | generator CPU / delivery | steal |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

fn size_of(params: &Value) -> String {
    match (params.get("users"), params.get("members")) {
        (Some(u), _) => format!("{u} users"),
        (_, Some(m)) => format!("{m} members"),
        _ => String::new(),
    }
}

/// CPU microseconds per delivery as a short string.
fn cpu_us(v: f64) -> String {
    if v >= 100.0 { format!("{v:.0} µs") } else { format!("{v:.1} µs") }
}

/// A load point's figures as printed everywhere: rate sent, deliveries/s, p50, p99, p99.9, max, delivered,
/// expected, dropped, failed, server and generator CPU per delivery, steal.
pub fn figures(o: &LoadOutcome) -> [String; 13] {
    [
        format!("{:.0}", o.rate_sent),
        per_s(o.throughput),
        us(o.latency.p50_us),
        us(o.latency.p99_us),
        us(o.latency.p999_us),
        us(o.latency.max_us),
        o.deliveries.to_string(),
        o.expected_deliveries.to_string(),
        o.dropped.to_string(),
        o.failed.to_string(),
        o.cpu.server_us_per_delivery.map_or_else(|| "n/a".to_owned(), cpu_us),
        cpu_us(o.cpu.generator_us_per_delivery),
        format!("{:.1} %", o.cpu.steal_pct),
    ]
}

fn load_row(scenario: &str, target: &str, size: &str, o: &LoadOutcome) -> String {
    let [sent, rate, p50, p99, p999, max, got, expected, dropped, failed, server, generator, steal] = figures(o);
    format!(
        "| {scenario} | {target} | {size} | {sent} | {rate} | {p50} | {p99} | {p999} | {max} | {got} / {expected} | {dropped} | {failed} | {server} | {generator} | {steal} |"
    )
}

/// Markdown tables of the records: open-loop runs (sweeps as their points), then the other scenarios.
pub fn tables(records: &[Record]) -> String {
    let mut out = String::new();
    let mut modes: Vec<&str> = records.iter().map(|r| r.mode.as_str()).collect();
    modes.dedup();
    if let [mode] = modes.as_slice() {
        out.push_str(&format!("Mode: {}\n\n", mode_description(mode)));
    }
    let mut load = vec![LOAD_HEADER.to_owned()];
    for r in records {
        let size = size_of(&r.params);
        if let Some(o) = &r.load {
            load.push(load_row(&r.scenario, &r.target, &size, o));
        }
        for o in &r.points {
            load.push(load_row(&r.scenario, &r.target, &size, o));
        }
    }
    if load.len() > 1 {
        out.push_str(&load.join("\n"));
        out.push_str("\n\n");
    }
    for r in records.iter().filter(|r| r.load.is_none() && r.points.is_empty()) {
        out.push_str(&format!("{} / {} ({}): {}\n", r.scenario, r.target, r.durability, r.metrics));
    }
    out
}

/// What a mode means, for the tables.
pub fn mode_description(mode: &str) -> String {
    match mode {
        "pinned" => format!(
            "pinned (servers on core {}, the generator on core {}, via taskset)",
            crate::cpu::SERVER_CORE,
            crate::cpu::GENERATOR_CORE
        ),
        "shared" => "shared (servers and generator on every core)".to_owned(),
        other => other.to_owned(),
    }
}

/// Writes records as pretty JSON.
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Prints the tables and, when asked, writes the JSON.
pub fn emit(records: &[Record], json: Option<&Path>) -> anyhow::Result<()> {
    println!("{}", tables(records));
    if let Some(path) = json {
        write_json(path, &records)?;
        println!("results written to {}", path.display());
    }
    Ok(())
}
