//! Sweep mode: raise the rate (×factor) until p99 crosses the bound or the target stops keeping up
//! (or lower it until it does not, when the first rate is already too much), then bisect between the
//! last good rate and the first bad one. The last good rate is the maximum sustainable rate. A bad point
//! is run a second time before it counts as bad.

use std::time::Duration;

use crate::cpu::Probe;
use crate::load::{self, LoadOutcome, LoadSpec};
use crate::stats::Recorder;
use crate::transport::ChannelSender;

#[derive(Debug, Clone, Copy, clap::Args)]
pub struct SweepOpts {
    /// Sweep the rate instead of running one point.
    #[arg(long)]
    pub sweep: bool,
    /// A point is good while its p99 stays under this (µs), everything is delivered and nothing dropped.
    #[arg(long, default_value_t = 50_000)]
    pub p99_bound_us: u64,
    /// First rate of the sweep (messages per second); default: --rate.
    #[arg(long)]
    pub sweep_start: Option<f64>,
    /// Rate multiplier between points.
    #[arg(long, default_value_t = 2.0)]
    pub sweep_factor: f64,
    /// Highest rate tried.
    #[arg(long, default_value_t = 1_000_000.0)]
    pub sweep_max: f64,
    /// Bisection steps between the last good and the first bad rate.
    #[arg(long, default_value_t = 2)]
    pub sweep_refine: u32,
}

/// Whether a point counts as sustained under the bound.
pub fn good(o: &LoadOutcome, opts: &SweepOpts) -> bool {
    o.sustained() && o.latency.p99_us <= opts.p99_bound_us
}

/// One line about a point.
pub fn describe(o: &LoadOutcome) -> String {
    let [sent, rate, p50, p99, p999, max, got, expected, dropped, failed, server, generator, steal] =
        crate::report::figures(o);
    format!(
        "rate {:.0}/s (sent {sent}/s): {rate} deliveries, p50 {p50} p99 {p99} p99.9 {p999} max {max}; delivered {got}/{expected}, dropped {dropped}, failed {failed}; CPU per delivery: server {server}, generator {generator}; steal {steal}",
        o.rate_target
    )
}

/// Runs the sweep; returns its points sorted by rate and the maximum sustainable rate (`None` if even
/// the first point was bad).
pub async fn run(
    senders: &[ChannelSender],
    per_message: f64,
    base: &LoadSpec,
    opts: &SweepOpts,
    recorder: &Recorder,
    probe: &Probe,
) -> anyhow::Result<(Vec<LoadOutcome>, Option<f64>)> {
    let sweep = Sweep { senders, per_message, base, opts, recorder, probe };
    let mut points = Vec::new();
    let start = opts.sweep_start.unwrap_or(base.rate);
    let factor = opts.sweep_factor.max(1.1);
    let mut rate = start;
    let (mut last_good, mut first_bad) = (None, None);
    // Up from the start while good.
    while rate <= opts.sweep_max {
        let ok = sweep.checked_point(rate, &mut points).await?;
        if !ok {
            first_bad = Some(rate);
            break;
        }
        last_good = Some(rate);
        rate *= factor;
    }
    // Down from the start while bad (the start was already too much).
    if last_good.is_none() {
        rate = start / factor;
        while rate >= start / 1000.0 {
            if sweep.checked_point(rate, &mut points).await? {
                last_good = Some(rate);
                break;
            }
            first_bad = Some(rate);
            rate /= factor;
        }
    }
    if let (Some(mut lo), Some(mut hi)) = (last_good, first_bad) {
        for _ in 0..opts.sweep_refine {
            let mid = (lo * hi).sqrt();
            if sweep.checked_point(mid, &mut points).await? {
                lo = mid;
                last_good = Some(mid);
            } else {
                hi = mid;
            }
        }
    }
    points.sort_by(|a, b| a.rate_target.total_cmp(&b.rate_target));
    Ok((points, last_good))
}

/// What every point of one sweep shares.
struct Sweep<'a> {
    senders: &'a [ChannelSender],
    per_message: f64,
    base: &'a LoadSpec,
    opts: &'a SweepOpts,
    recorder: &'a Recorder,
    probe: &'a Probe,
}

impl Sweep<'_> {
    /// A point, run again once when bad (a busy shared machine has hiccups; a rate is bad only when it is
    /// bad twice in a row). Both runs are kept.
    async fn checked_point(&self, rate: f64, points: &mut Vec<LoadOutcome>) -> anyhow::Result<bool> {
        for _ in 0..2 {
            let o = self.point(rate).await?;
            let ok = good(&o, self.opts);
            points.push(o);
            if ok {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn point(&self, rate: f64) -> anyhow::Result<LoadOutcome> {
        let spec = LoadSpec { rate, ..*self.base };
        let o = load::run(self.senders, self.per_message, &spec, self.recorder, self.probe).await?;
        eprintln!("  {}", describe(&o));
        if !o.sustained() {
            // Let a backlog drain before the next point.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Ok(o)
    }
}
