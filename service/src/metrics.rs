//! The process-wide Prometheus recorder (metrics + metrics-exporter-prometheus). quipd and the bridge
//! each describe their own series and render the text at `/metrics` on their admin listener; when both
//! run in one process (tests), they share this one recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Histogram buckets for latencies (`*_seconds`): 100 µs to 10 s.
const SECONDS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Histogram buckets for every other histogram, which count things (sessions a message went to, commands
/// in a write batch, frames waiting): 0 to 10 000.
const COUNTS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0];

/// Installs the recorder the first time it is called; later calls share it. `None` when a recorder
/// from elsewhere was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(COUNTS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS));
            let builder = match builder {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: bad buckets");
                    return None;
                }
            };
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: a recorder is already installed; /metrics is empty");
                    None
                }
            }
        })
        .as_ref()
}

/// The text exposition of every metric.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Periodic housekeeping of the recorder (call every few seconds).
pub fn upkeep() {
    if let Some(h) = handle() {
        h.run_upkeep();
    }
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";
