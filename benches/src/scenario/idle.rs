//! Scenario 4: N idle authenticated connections held open; quipd's resident memory per connection
//! (RSS after minus RSS before, over N), read from /proc. Needs a quipd this generator started.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use super::connect::{close_all, storm};
use crate::report::{self, Record, durability_of};
use crate::servers::{Quipd, ServerOpts, rss_bytes};
use crate::transport::quip::Endpoints;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Connections to hold (each its own user, authenticated).
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Handshakes in progress at once.
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// Client-side QUIC endpoints (UDP sockets) the connections are spread over.
    #[arg(long, default_value_t = 16)]
    pub endpoints: usize,
    /// Seconds to hold the connections idle before reading the RSS.
    #[arg(long, default_value_t = 10.0)]
    pub settle: f64,
    #[command(flatten)]
    pub servers: ServerOpts,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub async fn run(args: &IdleArgs) -> anyhow::Result<Vec<Record>> {
    let quipd = Quipd::start(&args.servers).await?;
    let pid = quipd.pid().context("the idle scenario needs a quipd it starts (to read its RSS)")?;
    let endpoints = Endpoints::new(args.endpoints, &quipd.cert_pem)?;
    // A few sessions first, so that what every process allocates once (store caches, first-use pools) is
    // in the baseline rather than charged to the connections.
    let warm = storm(&quipd, &endpoints, "w", 100, 32).await?;
    close_all(warm.clients).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_bytes(pid)?;
    eprintln!("idle: quipd RSS {} MiB; opening {} connections", before >> 20, args.connections);
    let s = storm(&quipd, &endpoints, "i", args.connections, args.concurrency).await?;
    let held = s.clients.len();
    eprintln!("idle: {held} connected in {:.1} s ({} failed); holding {} s", s.seconds, s.failed, args.settle);
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let after = rss_bytes(pid)?;
    let still = s.clients.iter().filter(|(c, _)| c.state() == quip_sdk::ConnectionState::Connected).count();
    let generator = rss_bytes(std::process::id()).unwrap_or(0);
    let per_conn = after.saturating_sub(before) as f64 / held.max(1) as f64;
    let record = Record {
        scenario: "idle".into(),
        target: "quip".into(),
        mode: args.servers.mode().into(),
        durability: durability_of("quip", &quipd.durability),
        params: json!({ "connections": args.connections, "settle_s": args.settle }),
        load: None,
        points: Vec::new(),
        metrics: json!({
            "held": held,
            "still_connected": still,
            "failed": s.failed,
            "first_error": s.first_error,
            "connect_seconds": s.seconds,
            "connections_per_s": held as f64 / s.seconds.max(1e-9),
            "connect_latency": s.latency,
            "udp_datagrams_dropped": s.udp_drops,
            "quipd_rss_before_bytes": before,
            "quipd_rss_after_bytes": after,
            "quipd_rss_per_connection_bytes": per_conn.round(),
            "generator_rss_bytes": generator,
        }),
    };
    close_all(s.clients).await;
    let records = vec![record];
    report::emit(&records, args.json.as_deref())?;
    Ok(records)
}
