//! The open-loop driver: sends at a fixed rate whatever the answers (never send-and-wait), spreading the
//! sends round robin over the channels, with a bound on sends awaiting their ack. A send that finds the
//! bound reached is not made and is counted as dropped; a send the generator itself issues late still
//! carries its *scheduled* time, so generator lag shows up in the latency instead of hiding
//! (no coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::cpu::{CpuUsage, Probe};
use crate::stats::{Latency, Recorder, now_us, payload};
use crate::transport::ChannelSender;

/// One load point.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LoadSpec {
    /// Messages per second, all channels together.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Measured seconds.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds sent before measuring (delivered, not recorded).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 256)]
    pub payload: usize,
    /// Most sends awaiting their ack; past it a send is dropped (and counted).
    #[arg(long, default_value_t = 20_000)]
    pub max_in_flight: usize,
    /// Seconds to wait after the last send for the deliveries still on their way.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
}

/// What one load point did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadOutcome {
    pub rate_target: f64,
    pub rate_sent: f64,
    /// Measured messages sent, acknowledged, failed, and not sent because too many awaited their ack.
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    pub dropped: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    /// Deliveries per second: measured deliveries over the time from the first measured send to the last
    /// measured delivery.
    pub throughput: f64,
    pub latency: Latency,
    pub measured_s: f64,
    /// CPU time of the servers and the generator, and steal, over the measured window.
    #[serde(default)]
    pub cpu: CpuUsage,
}

impl LoadOutcome {
    /// Everything sent was acknowledged and delivered, nothing dropped, and the rate was kept.
    pub fn sustained(&self) -> bool {
        self.dropped == 0
            && self.failed == 0
            && self.deliveries >= self.expected_deliveries
            && self.rate_sent >= 0.95 * self.rate_target
    }
}

#[derive(Default)]
struct Counts {
    acked: AtomicU64,
    failed: AtomicU64,
}

/// What the ticker sends.
struct Plan {
    senders: Vec<ChannelSender>,
    warm_us: u64,
    total_us: u64,
    interval_us: f64,
    payload: usize,
}

/// What the ticker did (measured messages only).
struct Issued {
    sent: u64,
    dropped: u64,
    first_measured: Option<u64>,
    send_end: u64,
}

impl Plan {
    /// The ticker: a thread of its own that sleeps until the next scheduled send (the kernel's timer
    /// slack, ~50 µs, rather than the runtime's 1 ms timer wheel), then spawns every send that is due
    /// onto the runtime.
    fn tick(self, runtime: &tokio::runtime::Handle, permits: &Arc<Semaphore>, counts: &Arc<Counts>) -> Issued {
        let start = now_us();
        let (mut issued, mut sent, mut dropped, mut first_measured) = (0u64, 0u64, 0u64, None);
        loop {
            let elapsed = now_us().saturating_sub(start);
            let due = ((elapsed.min(self.total_us) as f64) / self.interval_us) as u64 + 1;
            while issued < due {
                let offset = (issued as f64 * self.interval_us) as u64;
                if offset >= self.total_us {
                    break;
                }
                let scheduled = start + offset;
                let measured = offset >= self.warm_us;
                let channel = (issued % self.senders.len() as u64) as usize;
                issued += 1;
                if measured {
                    first_measured.get_or_insert(scheduled);
                }
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    dropped += u64::from(measured);
                    continue;
                };
                sent += u64::from(measured);
                let text = payload(measured, scheduled, channel, issued, self.payload);
                let (sender, counts) = (self.senders[channel].clone(), counts.clone());
                runtime.spawn(async move {
                    let ok = sender.send(text).await;
                    drop(permit);
                    if measured {
                        match ok {
                            Ok(()) => counts.acked.fetch_add(1, Ordering::Relaxed),
                            Err(e) => {
                                tracing::debug!(error = %e, "send failed");
                                counts.failed.fetch_add(1, Ordering::Relaxed)
                            }
                        };
                    }
                });
            }
            let now = now_us().saturating_sub(start);
            if now >= self.total_us {
                return Issued { sent, dropped, first_measured, send_end: now_us() };
            }
            let next = (issued as f64 * self.interval_us) as u64;
            std::thread::sleep(Duration::from_micros(next.saturating_sub(now).clamp(20, 1000)));
        }
    }
}

/// Runs one load point: warm-up, then `duration` measured, then waits up to `drain` for deliveries.
/// `receivers_per_message` is how many deliveries each message should make; `probe` says whose CPU time
/// is the servers'.
pub async fn run(
    senders: &[ChannelSender],
    receivers_per_message: f64,
    spec: &LoadSpec,
    recorder: &Recorder,
    probe: &Probe,
) -> anyhow::Result<LoadOutcome> {
    anyhow::ensure!(!senders.is_empty(), "no channel to send on");
    anyhow::ensure!(spec.rate > 0.0, "rate must be positive");
    recorder.reset();
    let permits = Arc::new(Semaphore::new(spec.max_in_flight.max(1)));
    let counts = Arc::new(Counts::default());
    let plan = Plan {
        senders: senders.to_vec(),
        warm_us: (spec.warmup * 1e6) as u64,
        total_us: ((spec.warmup + spec.duration) * 1e6) as u64,
        interval_us: 1e6 / spec.rate,
        payload: spec.payload,
    };
    // The CPU counters when the warm-up ends, read on a thread of their own (not the ticker's).
    let (warm_end, start_probe) = (now_us() + plan.warm_us, probe.clone());
    let first_sample = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_micros(warm_end.saturating_sub(now_us())));
        start_probe.sample()
    });
    let (runtime, ticker_counts) = (tokio::runtime::Handle::current(), counts.clone());
    let issued = tokio::task::spawn_blocking(move || plan.tick(&runtime, &permits, &ticker_counts)).await?;
    let Issued { sent, dropped, first_measured, send_end } = issued;
    let first = first_measured.unwrap_or(send_end);
    let measured_s = (send_end.saturating_sub(first)) as f64 / 1e6;

    // Wait for the acks, then for every delivery (or the drain time).
    let deadline = send_end + (spec.drain * 1e6) as u64;
    loop {
        let (acked, failed) = (counts.acked.load(Ordering::Relaxed), counts.failed.load(Ordering::Relaxed));
        let expected = ((acked as f64) * receivers_per_message).round() as u64;
        if (acked + failed >= sent && recorder.deliveries() >= expected) || now_us() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last_sample = probe.sample();
    let acked = counts.acked.load(Ordering::Relaxed);
    let failed = counts.failed.load(Ordering::Relaxed);
    let deliveries = recorder.deliveries();
    let cpu = CpuUsage::between(&first_sample.await?, &last_sample, deliveries);
    let span_us = recorder.last_delivery_us().max(send_end).saturating_sub(first).max(1);
    Ok(LoadOutcome {
        rate_target: spec.rate,
        rate_sent: sent as f64 / measured_s.max(1e-9),
        sent,
        acked,
        failed,
        dropped,
        expected_deliveries: ((sent as f64) * receivers_per_message).round() as u64,
        deliveries,
        throughput: deliveries as f64 / (span_us as f64 / 1e6),
        latency: recorder.latency()?,
        measured_s,
        cpu,
    })
}
