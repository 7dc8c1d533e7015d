//! Scenario 3, the connect storm: open C connections as fast as quipd takes them (a bounded number
//! at once), each a QUIC + TLS 1.3 handshake, then Hello with a JWT and Welcome. Reports connections
//! and authentications per second and the time each took.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;

use crate::report::{self, Record, durability_of};
use crate::servers::{Quipd, ServerOpts, udp_rcvbuf_errors};
use crate::stats::{Latency, now_us};
use crate::transport::quip::{ConnectOpts, Endpoints, connect};

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Connections to open (each its own user).
    #[arg(long, default_value_t = 5000)]
    pub connections: usize,
    /// Handshakes in progress at once.
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// Client-side QUIC endpoints (UDP sockets) the connections are spread over.
    #[arg(long, default_value_t = 8)]
    pub endpoints: usize,
    #[command(flatten)]
    pub servers: ServerOpts,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Connections that were opened, and how it went.
pub struct Storm {
    pub clients: Vec<(quip_sdk::Client, quip_sdk::EventStream)>,
    pub failed: usize,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub latency: Latency,
    /// UDP datagrams dropped by the kernel (full receive buffers) during the storm, machine-wide.
    pub udp_drops: u64,
}

/// Opens `count` connections for users `<prefix><i>`; tokens are minted before the clock starts.
pub async fn storm(
    quipd: &Quipd,
    endpoints: &Endpoints,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Storm> {
    let users: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    let opts = ConnectOpts { receipts: false, event_buffer: 16, resume: None };
    let drops_before = udp_rcvbuf_errors();
    let start = now_us();
    let results: Vec<_> = futures_util::stream::iter(users)
        .map(|user| {
            let (eps, opts) = (endpoints.clone(), opts.clone());
            async move {
                let t = now_us();
                let r = connect(quipd, &eps, &user, "bench", opts).await;
                (r, now_us() - t)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let seconds = (now_us() - start) as f64 / 1e6;
    let (mut clients, mut samples, mut failed, mut first_error) = (Vec::new(), Vec::new(), 0, None);
    for (r, took) in results {
        match r {
            Ok(c) => {
                clients.push(c);
                samples.push(took);
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    let udp_drops = udp_rcvbuf_errors().saturating_sub(drops_before);
    Ok(Storm { clients, failed, first_error, seconds, latency: Latency::of_samples(&samples)?, udp_drops })
}

/// Closes many clients, a bounded number at once.
pub async fn close_all(clients: Vec<(quip_sdk::Client, quip_sdk::EventStream)>) {
    futures_util::stream::iter(clients)
        .for_each_concurrent(256, |(c, _events)| async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.close()).await;
        })
        .await;
}

pub async fn run(args: &ConnectArgs) -> anyhow::Result<Vec<Record>> {
    let quipd = Quipd::start(&args.servers).await?;
    let endpoints = Endpoints::new(args.endpoints, &quipd.cert_pem)?;
    eprintln!("connect storm: {} connections, {} at once", args.connections, args.concurrency);
    let s = storm(&quipd, &endpoints, "c", args.connections, args.concurrency).await?;
    let ok = s.clients.len();
    let record = Record {
        scenario: "connect".into(),
        target: "quip".into(),
        mode: args.servers.mode().into(),
        durability: durability_of("quip", &quipd.durability),
        params: json!({ "connections": args.connections, "concurrency": args.concurrency }),
        load: None,
        points: Vec::new(),
        metrics: json!({
            "connected": ok,
            "failed": s.failed,
            "first_error": s.first_error,
            "seconds": s.seconds,
            "connections_per_s": ok as f64 / s.seconds.max(1e-9),
            "connect_latency": s.latency,
            "udp_datagrams_dropped": s.udp_drops,
        }),
    };
    close_all(s.clients).await;
    let records = vec![record];
    report::emit(&records, args.json.as_deref())?;
    Ok(records)
}
