//! CPU accounting of a load point, from Linux's /proc: the servers' CPU time (utime + stime of every
//! process of the target and all their descendants, e.g. postgres's backends, plus what reaped children
//! left in cutime + cstime), the generator's own (`/proc/self/stat`, every thread) and the machine's steal
//! (`/proc/stat`). Sampled when the measured window opens and once every delivery is in; the deltas are
//! divided by the deliveries.
//!
//! Also the pinned mode's affinity: servers on core 0 (`taskset -c 0` before their command), the generator
//! on core 1 (`taskset -a -p`, every thread it has so far; later threads inherit it).

use std::collections::HashMap;
use std::sync::OnceLock;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

/// The core the servers run on in pinned mode.
pub const SERVER_CORE: &str = "0";
/// The core the generator runs on in pinned mode.
pub const GENERATOR_CORE: &str = "1";

/// The processes whose CPU time counts as the target's: these and their descendants.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    roots: Vec<u32>,
}

/// CPU counters at one instant, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// `None` when a server was not started by this generator (its pid is unknown).
    server: Option<u64>,
    generator: u64,
    machine_total: u64,
    machine_steal: u64,
    at_us: u64,
}

/// What a load point cost in CPU, over its measured window.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct CpuUsage {
    /// Server CPU time (all the target's processes) per delivery, µs; absent for a server not started here.
    pub server_us_per_delivery: Option<f64>,
    /// Server CPU time over the window, µs.
    pub server_us: Option<u64>,
    /// The generator's own CPU time per delivery, µs.
    pub generator_us_per_delivery: f64,
    /// The generator's CPU time over the window, µs.
    pub generator_us: u64,
    /// Steal time as a share of all CPU time of the machine over the window, %.
    pub steal_pct: f64,
    /// The window: from the end of the warm-up until every delivery was in (or the drain gave up), s.
    pub window_s: f64,
}

impl Probe {
    /// `roots` empty, or with an unknown pid: no server figure.
    pub fn new(roots: Vec<Option<u32>>) -> Self {
        let known: Option<Vec<u32>> = roots.into_iter().collect();
        Self { roots: known.unwrap_or_default() }
    }

    /// Reads every counter now.
    pub fn sample(&self) -> Sample {
        let server = if self.roots.is_empty() { None } else { server_ticks(&self.roots) };
        let (machine_total, machine_steal) = machine_ticks().unwrap_or_default();
        Sample {
            server,
            generator: read_stat("self").map(|s| s.own).unwrap_or_default(),
            machine_total,
            machine_steal,
            at_us: crate::stats::now_us(),
        }
    }
}

impl CpuUsage {
    /// From two samples and the deliveries in between.
    pub fn between(a: &Sample, b: &Sample, deliveries: u64) -> Self {
        let per = |us: u64| us as f64 / deliveries.max(1) as f64;
        let server_us = a.server.zip(b.server).map(|(a, b)| ticks_us(b.saturating_sub(a)));
        let generator_us = ticks_us(b.generator.saturating_sub(a.generator));
        let total = b.machine_total.saturating_sub(a.machine_total);
        let steal = b.machine_steal.saturating_sub(a.machine_steal);
        Self {
            server_us_per_delivery: server_us.map(per),
            server_us,
            generator_us_per_delivery: per(generator_us),
            generator_us,
            steal_pct: if total > 0 { 100.0 * steal as f64 / total as f64 } else { 0.0 },
            window_s: b.at_us.saturating_sub(a.at_us) as f64 / 1e6,
        }
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
fn clk_tck() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

fn ticks_us(ticks: u64) -> u64 {
    ticks * 1_000_000 / clk_tck()
}

/// The fields of `/proc/<pid>/stat` used here.
struct Stat {
    ppid: u32,
    /// utime + stime.
    own: u64,
    /// cutime + cstime: reaped children.
    reaped: u64,
}

fn read_stat(pid: &str) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    let num = |field: usize| fields.get(field - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat { ppid: u32::try_from(num(4)?).ok()?, own: num(14)? + num(15)?, reaped: num(16)? + num(17)? })
}

/// CPU ticks of `roots` and all their descendants alive now; `None` if a root is gone.
fn server_ticks(roots: &[u32]) -> Option<u64> {
    let mut stats: HashMap<u32, Stat> = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Some(stat) = read_stat(&pid.to_string()) {
            stats.insert(pid, stat);
        }
    }
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, stat) in &stats {
        children.entry(stat.ppid).or_default().push(pid);
    }
    let mut total = 0;
    let mut todo = roots.to_vec();
    while let Some(pid) = todo.pop() {
        let stat = stats.get(&pid)?;
        total += stat.own + stat.reaped;
        todo.extend(children.get(&pid).into_iter().flatten());
    }
    Some(total)
}

/// All CPU time of the machine and its steal part (first line of `/proc/stat`), in ticks.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<u64> = line.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total = values.iter().take(8).sum();
    Some((total, *values.get(7)?))
}

/// The command running a server `program`: under `taskset -c 0` when `pinned` (taskset execs it, so the
/// pid is the server's).
pub fn server_command(pinned: bool, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    if pinned {
        let mut cmd = std::process::Command::new("taskset");
        cmd.args(["-c", SERVER_CORE]).arg(program);
        cmd
    } else {
        std::process::Command::new(program)
    }
}

/// Pins every thread of this process to the generator's core.
pub fn pin_generator() -> anyhow::Result<()> {
    let pid = std::process::id().to_string();
    let out = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", GENERATOR_CORE, &pid])
        .output()
        .context("running taskset (util-linux)")?;
    if !out.status.success() {
        bail!("taskset -a -p -c {GENERATOR_CORE} {pid}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    tracing::info!(core = GENERATOR_CORE, "generator pinned");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn own_process_is_readable() {
        let s = read_stat("self").unwrap();
        assert!(s.ppid > 0);
        let probe = Probe::new(vec![Some(std::process::id())]);
        let a = probe.sample();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        let b = probe.sample();
        let usage = CpuUsage::between(&a, &b, 10);
        assert!(usage.server_us.is_some());
        assert!(usage.steal_pct >= 0.0);
    }

    #[test]
    fn unknown_pid_gives_no_server_figure() {
        let probe = Probe::new(vec![None]);
        assert!(probe.sample().server.is_none());
    }
}
