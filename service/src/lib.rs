//! What both of Quip's binaries, `quipd` and `quip-bridge`, do the same way: configuration layered from
//! defaults, a TOML file and the environment; `tracing` logs in a human or JSON format; the Prometheus
//! recorder; the signals that start a graceful shutdown; draining under a deadline; admission limits on
//! connections and handshakes.

pub mod admission;
pub mod config;
pub mod drain;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod signal;

pub use admission::{
    Admission, AdmissionConfig, AdmissionError, ConnectionPermit, HandshakePermit, REFUSED_METRIC, Refused,
};
pub use config::{ConfigError, EnvOverride, layered};
pub use drain::{Drain, DrainGuard, DrainOutcome, Watch};
pub use logs::LogConfig;
