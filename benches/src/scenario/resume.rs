//! Scenario 5: a device misses K messages of a conversation while away, then reconnects with its resume
//! point; how long until it has all of them (from the start of the reconnect: QUIC and TLS handshake,
//! Hello/Welcome, then the replay from quipd's store, in seq order).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use futures_util::StreamExt as _;
use serde_json::json;

use crate::report::{self, Record, durability_of};
use crate::servers::{Quipd, ServerOpts};
use crate::stats::{Latency, now_us, payload};
use crate::transport::quip::{ConnectOpts, Endpoints, connect, send};

#[derive(Debug, Clone, clap::Args)]
pub struct ResumeArgs {
    /// Messages missed while away.
    #[arg(long, default_value_t = 10_000)]
    pub missed: u64,
    /// Repetitions (a fresh conversation each).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 256)]
    pub payload: usize,
    #[command(flatten)]
    pub servers: ServerOpts,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One reconnect: µs to Welcome and to the last missed message, from the start of the reconnect.
struct Timing {
    welcome_us: u64,
    all_us: u64,
    sync_done_us: Option<u64>,
}

const WAIT: Duration = Duration::from_secs(60);

async fn once(quipd: &Quipd, eps: &Endpoints, run: usize, args: &ResumeArgs) -> anyhow::Result<Timing> {
    let (reader, sender) = (format!("reader{run}"), format!("writer{run}"));
    let opts = ConnectOpts { receipts: true, event_buffer: 1024, resume: None };
    let (r, mut r_events) = connect(quipd, eps, &reader, "phone", opts.clone()).await?;
    let (s, mut s_events) = connect(quipd, eps, &sender, "phone", opts.clone()).await?;
    tokio::spawn(async move { while s_events.next().await.is_some() {} });
    let conv = s.open_direct(&reader, None).await?.conversation.id;
    send(&s, conv, "before going away".into()).await?;
    let first = r_events.next_message(WAIT).await?;
    ensure!(first.conversation_id == conv, "unexpected first message");
    let point = r.resume_point();
    r.close().await;
    drop(r_events);

    // Sent while the reader is away, 256 awaiting their ack at a time.
    let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(0..args.missed)
        .map(|n| send(&s, conv, payload(false, now_us(), 0, n, args.payload)))
        .buffered(256)
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;

    let start = now_us();
    let opts = ConnectOpts { resume: Some(point), ..opts };
    let (r, mut events) = connect(quipd, eps, &reader, "phone", opts).await?;
    let welcome_us = now_us() - start;
    let (mut next_seq, mut sync_done_us) = (first.seq + 1, None);
    let last_seq = first.seq + args.missed;
    while next_seq <= last_seq {
        let event = tokio::time::timeout(WAIT, events.next()).await.context("replay stalled")?;
        match event {
            Some(quip_sdk::Event::Message { message, .. }) if message.conversation_id == conv => {
                if message.seq != next_seq {
                    bail!("replay out of order: got seq {}, expected {next_seq}", message.seq);
                }
                next_seq += 1;
            }
            Some(quip_sdk::Event::SyncDone(_)) => sync_done_us = Some(now_us() - start),
            Some(_) => {}
            None => bail!("the event stream ended during the replay"),
        }
    }
    let all_us = now_us() - start;
    // SyncDone may come after the last replayed message.
    let sync_wait = tokio::time::Instant::now() + Duration::from_secs(2);
    while sync_done_us.is_none() {
        match tokio::time::timeout_at(sync_wait, events.next()).await {
            Ok(Some(quip_sdk::Event::SyncDone(_))) => sync_done_us = Some(now_us() - start),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    r.close().await;
    s.close().await;
    Ok(Timing { welcome_us, all_us, sync_done_us })
}

pub async fn run(args: &ResumeArgs) -> anyhow::Result<Vec<Record>> {
    let quipd = Quipd::start(&args.servers).await?;
    let eps = Endpoints::new(1, &quipd.cert_pem)?;
    let mut runs = Vec::new();
    for run in 0..args.runs {
        let t = once(&quipd, &eps, run, args).await?;
        eprintln!(
            "resume run {run}: {} missed; Welcome after {}, all of them after {}",
            args.missed,
            report::us(t.welcome_us),
            report::us(t.all_us)
        );
        runs.push(t);
    }
    let all: Vec<u64> = runs.iter().map(|t| t.all_us).collect();
    let record = Record {
        scenario: "resume".into(),
        target: "quip".into(),
        mode: args.servers.mode().into(),
        durability: durability_of("quip", &quipd.durability),
        params: json!({ "missed": args.missed, "runs": args.runs, "payload": args.payload }),
        load: None,
        points: Vec::new(),
        metrics: json!({
            "welcome_us": runs.iter().map(|t| t.welcome_us).collect::<Vec<_>>(),
            "all_messages_us": all,
            "sync_done_us": runs.iter().map(|t| t.sync_done_us).collect::<Vec<_>>(),
            "all_messages": Latency::of_samples(&all)?,
            "messages_per_s_median": args.missed as f64 / (Latency::of_samples(&all)?.p50_us.max(1) as f64 / 1e6),
        }),
    };
    let records = vec![record];
    report::emit(&records, args.json.as_deref())?;
    Ok(records)
}
