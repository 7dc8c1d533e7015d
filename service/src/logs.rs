//! `tracing` logs to stderr, human-readable or one JSON object a line, filtered by `RUST_LOG` or the
//! configured filter.

use serde::{Deserialize, Serialize};

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `quip_broker=debug,info` (`RUST_LOG`, when set, wins).
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "human".into(), filter: "info".into() }
    }
}

impl LogConfig {
    /// `Err` with the reason when the format is unknown.
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        if matches!(self.format.as_str(), "human" | "json") {
            Ok(())
        } else {
            Err(crate::ConfigError::Invalid { setting: "log.format", reason: "must be \"human\" or \"json\"".into() })
        }
    }
}

/// Installs the global subscriber. JSON lines carry the current span's fields (a session's id, say) on
/// every event.
pub fn init(cfg: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.format == "json" {
        builder.json().with_current_span(true).with_span_list(false).init();
    } else {
        builder.init();
    }
}
