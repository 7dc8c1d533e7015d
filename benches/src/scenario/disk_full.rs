//! A fault harness, not a load point: quipd's disk fills up under sends (`scripts/fault-disk-full` puts
//! its data directory on a small tmpfs). What it checks and reports:
//!
//! - sends are refused with a clear error code once nothing more can be made durable, and nothing is
//!   acknowledged that is not on disk;
//! - reads (history) keep working while the disk is full;
//! - once space is freed, whether quipd takes sends again without a restart, and after how long;
//! - after a kill and a restart on the same directory, every acknowledged message is there, in order.
//!
//! It fails (exit code 1) when an acknowledged message is missing or a send is refused with an unclear
//! code; the rest it reports.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use futures_util::StreamExt as _;
use quip_sdk::{Client, Direction, ErrorCode, SendMessage};

use crate::servers::{Quipd, ServerOpts};
use crate::transport::quip::{ConnectOpts, Endpoints, connect};

#[derive(Debug, Clone, clap::Args)]
pub struct DiskFullArgs {
    /// A file of this many MiB is written into the data directory first, and deleted once the disk is
    /// full: the space that is then freed.
    #[arg(long, default_value_t = 16)]
    pub filler_mib: u64,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 4096)]
    pub payload: usize,
    /// Sends in flight at once.
    #[arg(long, default_value_t = 32)]
    pub in_flight: usize,
    /// How long to keep trying a send once space is freed.
    #[arg(long, default_value_t = 60)]
    pub recover_secs: u64,
    #[command(flatten)]
    pub servers: ServerOpts,
}

/// How one send ended.
enum Sent {
    Acked(u64),
    Refused(ErrorCode, String),
}

async fn send_one(client: &Client, conv: u64, n: u64, payload: usize) -> anyhow::Result<Sent> {
    let mut text = format!("m{n:08} ");
    text.extend(std::iter::repeat_n('x', payload.saturating_sub(text.len())));
    let message = SendMessage { conversation_id: conv, client_msg_id: format!("m{n}"), text, ..Default::default() };
    match client.send(message).await {
        Ok(ack) => Ok(Sent::Acked(ack.seq)),
        Err(e @ quip_sdk::Error::Server { .. }) => Ok(Sent::Refused(e.code(), e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Every message of `conv` in history: seq and the number it was sent with.
async fn history(client: &Client, conv: u64) -> anyhow::Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    let mut anchor = 0;
    loop {
        let page = client.history(conv, anchor, Direction::Forward, 200).await?;
        for m in &page.messages {
            let n = m.text.get(1..9).and_then(|d| d.parse().ok()).unwrap_or(u64::MAX);
            out.push((m.seq, n));
        }
        match page.messages.last() {
            Some(last) if page.has_more => anchor = last.seq,
            _ => return Ok(out),
        }
    }
}

pub async fn run(args: DiskFullArgs) -> anyhow::Result<()> {
    let dir: PathBuf = args.servers.quipd_data_dir.clone().context("--quipd-data-dir is required")?;
    std::fs::create_dir_all(&dir)?;
    let quipd = Quipd::start(&args.servers).await?;
    let filler = dir.join("filler.bin");
    {
        let mut f = std::fs::File::create(&filler)?;
        let mib = vec![0u8; 1 << 20];
        for _ in 0..args.filler_mib {
            f.write_all(&mib).context("writing the filler: the filesystem is smaller than --filler-mib")?;
        }
        f.sync_all()?;
    }
    let eps = Endpoints::new(1, &quipd.cert_pem)?;
    let opts = ConnectOpts { receipts: false, event_buffer: 1024, resume: None };
    let (alice, mut alice_events) = connect(&quipd, &eps, "alice", "phone", opts.clone()).await?;
    tokio::spawn(async move { while alice_events.next().await.is_some() {} });
    let conv = alice.open_direct("bob", None).await?.conversation.id;

    // Send until the disk is full.
    let started = Instant::now();
    let mut acked: Vec<(u64, u64)> = Vec::new();
    let mut refusals: Vec<(ErrorCode, String)> = Vec::new();
    let mut n = 0u64;
    while refusals.len() < 100 && started.elapsed() < Duration::from_secs(600) {
        let batch: Vec<u64> = (n..n + args.in_flight as u64).collect();
        n += args.in_flight as u64;
        let results =
            futures_util::future::join_all(batch.iter().map(|&i| send_one(&alice, conv, i, args.payload))).await;
        for (i, r) in batch.iter().zip(results) {
            match r? {
                Sent::Acked(seq) => acked.push((seq, *i)),
                Sent::Refused(code, msg) => refusals.push((code, msg)),
            }
        }
    }
    let full_after = started.elapsed();
    ensure!(!refusals.is_empty(), "the disk never filled in 10 minutes: is --quipd-data-dir on a small filesystem?");
    println!(
        "disk full after {} acknowledged messages of {} bytes, {:.1} s",
        acked.len(),
        args.payload,
        full_after.as_secs_f64()
    );
    let mut codes: Vec<String> = refusals.iter().map(|(c, m)| format!("{c:?}: {m}")).collect();
    codes.sort();
    codes.dedup();
    println!("sends refused with: {}", codes.join(" | "));
    for (code, msg) in &refusals {
        if *code != ErrorCode::Unavailable {
            bail!("a send was refused with an unexpected code {code:?}: {msg}");
        }
    }

    // What a load balancer's probe sees.
    if let Some(admin) = quipd.admin_addr {
        println!(
            "/readyz while full: {}",
            crate::servers::http_get(admin, "/readyz").await.unwrap_or_else(|e| e.to_string())
        );
    }

    // Reads while full.
    let read = history(&alice, conv).await;
    match &read {
        Ok(h) => println!("history while full: {} messages readable", h.len()),
        Err(e) => println!("history while full: refused: {e}"),
    }

    // Free the space and see whether sends come back without a restart.
    std::fs::remove_file(&filler)?;
    let freed = Instant::now();
    let mut recovered = None;
    while freed.elapsed() < Duration::from_secs(args.recover_secs) {
        match send_one(&alice, conv, n, args.payload).await? {
            Sent::Acked(seq) => {
                acked.push((seq, n));
                recovered = Some(freed.elapsed());
                break;
            }
            Sent::Refused(..) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
        n += 1;
    }
    match recovered {
        Some(t) => println!(
            "after {} MiB were freed: sends accepted again after {:.1} s, no restart",
            args.filler_mib,
            t.as_secs_f64()
        ),
        None => println!(
            "after {} MiB were freed: sends still refused after {} s (quipd needs a restart)",
            args.filler_mib, args.recover_secs
        ),
    }

    // Kill quipd, start it again on the same directory: every acknowledged message is there.
    drop(alice);
    drop(quipd);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let quipd = Quipd::start(&args.servers).await?;
    let eps = Endpoints::new(1, &quipd.cert_pem)?;
    let (alice, _events) = connect(&quipd, &eps, "alice", "phone2", opts).await?;
    let stored = history(&alice, conv).await?;
    let seqs: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
    ensure!(seqs.windows(2).all(|w| w[0] < w[1]), "history out of order after the restart");
    let kept: std::collections::HashSet<(u64, u64)> = stored.iter().copied().collect();
    let missing: Vec<&(u64, u64)> = acked.iter().filter(|a| !kept.contains(a)).collect();
    ensure!(
        missing.is_empty(),
        "{} acknowledged messages missing after the restart, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    println!(
        "after kill and restart: {} messages stored, every one of the {} acknowledged among them, in order",
        stored.len(),
        acked.len()
    );
    Ok(())
}
