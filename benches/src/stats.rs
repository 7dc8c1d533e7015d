//! Measuring: one process-wide clock, the payload that carries its send time, and the recorder of
//! deliveries (an HDR histogram of send→deliver latency in microseconds, sharded so that many receiver
//! tasks rarely contend for one lock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

static START: OnceLock<Instant> = OnceLock::new();

/// Microseconds since the first call in this process. Every sender and receiver runs in this process, so
/// send and delivery times come from the same monotonic clock.
pub fn now_us() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Builds a message text of `size` bytes (at least the header): `<m|w><send µs, 12 digits>:<channel>:<n>:`
/// then padding. `m` marks a measured message, `w` a warm-up one (delivered, not recorded).
pub fn payload(measured: bool, sent_us: u64, channel: usize, n: u64, size: usize) -> String {
    let mut text = format!("{}{sent_us:012}:{channel}:{n}:", if measured { 'm' } else { 'w' });
    while text.len() < size {
        text.push('x');
    }
    text
}

/// The send time of a measured payload; `None` for a warm-up message or a text not made by [`payload`].
pub fn measured_send_time(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('m')?;
    rest.get(..12)?.parse().ok()
}

/// The channel a payload was sent on.
pub fn channel_of(text: &str) -> Option<usize> {
    text.get(14..)?.split(':').next()?.parse().ok()
}

const SHARDS: usize = 16;
/// Highest latency the histograms hold (µs): 5 minutes; higher values are clamped.
const MAX_US: u64 = 300_000_000;

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_US, 3)?)
}

/// Counts and times deliveries of measured messages.
#[derive(Debug)]
pub struct Recorder {
    shards: Vec<Mutex<Histogram<u64>>>,
    deliveries: AtomicU64,
    unmeasured: AtomicU64,
    last_delivery_us: AtomicU64,
    /// Deliveries of messages sent before this time (a previous load point's stragglers) are ignored.
    since_us: AtomicU64,
}

impl Recorder {
    pub fn new() -> anyhow::Result<Self> {
        let shards = (0..SHARDS).map(|_| histogram().map(Mutex::new)).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            shards,
            deliveries: AtomicU64::new(0),
            unmeasured: AtomicU64::new(0),
            last_delivery_us: AtomicU64::new(0),
            since_us: AtomicU64::new(0),
        })
    }

    /// A message text arrived at receiver `receiver` (any number; it picks the shard).
    pub fn delivered(&self, receiver: usize, text: &str) {
        let now = now_us();
        let Some(sent) = measured_send_time(text).filter(|&t| t >= self.since_us.load(Ordering::Relaxed)) else {
            self.unmeasured.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let latency = now.saturating_sub(sent).clamp(1, MAX_US);
        if let Ok(mut h) = self.shards[receiver % SHARDS].lock() {
            let _ = h.record(latency);
        }
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        self.last_delivery_us.fetch_max(now, Ordering::Relaxed);
    }

    /// Measured deliveries so far.
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }

    /// When the last measured delivery arrived ([`now_us`]).
    pub fn last_delivery_us(&self) -> u64 {
        self.last_delivery_us.load(Ordering::Relaxed)
    }

    /// Clears everything (between the points of a sweep); from now on only messages sent from now count.
    pub fn reset(&self) {
        self.since_us.store(now_us(), Ordering::Relaxed);
        for shard in &self.shards {
            if let Ok(mut h) = shard.lock() {
                h.reset();
            }
        }
        self.deliveries.store(0, Ordering::Relaxed);
        self.unmeasured.store(0, Ordering::Relaxed);
        self.last_delivery_us.store(0, Ordering::Relaxed);
    }

    /// The merged histogram's summary.
    pub fn latency(&self) -> anyhow::Result<Latency> {
        let mut all = histogram()?;
        for shard in &self.shards {
            if let Ok(h) = shard.lock() {
                all.add(&*h)?;
            }
        }
        Ok(Latency::of(&all))
    }
}

/// A latency summary in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            mean_us: h.mean(),
        }
    }

    /// Records a list of durations (µs) and summarises them.
    pub fn of_samples(samples: &[u64]) -> anyhow::Result<Self> {
        let mut h = histogram()?;
        for &s in samples {
            h.record(s.clamp(1, MAX_US))?;
        }
        Ok(Self::of(&h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_its_send_time_and_has_the_size_asked() {
        let text = payload(true, 1_234_567, 3, 9, 256);
        assert_eq!(text.len(), 256);
        assert_eq!(measured_send_time(&text), Some(1_234_567));
        assert_eq!(measured_send_time(&payload(false, 5, 0, 0, 64)), None);
        assert_eq!(measured_send_time("hello"), None);
        assert_eq!(channel_of(&text), Some(3));
    }

    #[test]
    fn recorder_counts_measured_deliveries_only() -> anyhow::Result<()> {
        let r = Recorder::new()?;
        r.delivered(0, &payload(true, now_us(), 0, 0, 32));
        r.delivered(1, &payload(false, now_us(), 0, 1, 32));
        assert_eq!(r.deliveries(), 1);
        assert_eq!(r.latency()?.count, 1);
        r.reset();
        assert_eq!(r.deliveries(), 0);
        Ok(())
    }
}
