//! A fault harness, not a load point: quipd and quip-bridge under steady mixed traffic for a long time
//! (`scripts/fault-soak`, 30 minutes by default). What it runs at once:
//!
//! - native 1:1 chat (pairs over QUIC, both sides reading, every fifth message marked read);
//! - Socket.IO chat through the bridge;
//! - connection churn: a new user connects, sends one message and leaves every few seconds;
//! - a **stalled reader**: a member of a busy group who stops reading its events for minutes, then
//!   reads again (backpressure: its queue fills, quipd marks it lagging and later catches it up from the
//!   store).
//!
//! It samples both servers' RSS as it goes and fails (exit code 1) when any acknowledged message did not
//! reach its receiver, arrived twice or out of order, or the stalled reader's catch-up has a hole. RSS is
//! reported (growth between the end of the warm-up and the end of the run), not judged: RocksDB's
//! memtables and caches fill for a while before they level off.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use futures_util::StreamExt as _;
use quip_sdk::{Client, Event, EventStream};
use serde_json::json;

use crate::servers::{Quipd, ServerOpts, TcpServer, rss_bytes};
use crate::transport::quip::{ConnectOpts, Endpoints, connect};
use crate::transport::socketio::{self, SioClient};

#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// How long the traffic runs.
    #[arg(long, default_value_t = 30.0)]
    pub minutes: f64,
    /// Native chat pairs.
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Native chat messages per second, all pairs together.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Socket.IO chat pairs through the bridge.
    #[arg(long, default_value_t = 20)]
    pub bridge_pairs: usize,
    /// Bridge chat messages per second, all pairs together.
    #[arg(long, default_value_t = 40)]
    pub bridge_rate: u64,
    /// Messages per second into the stalled reader's group.
    #[arg(long, default_value_t = 10)]
    pub group_rate: u64,
    /// How long the stalled reader does not read (it starts a minute in, or at a tenth of a short run).
    #[arg(long, default_value_t = 5.0)]
    pub stall_minutes: f64,
    /// Seconds between RSS samples.
    #[arg(long, default_value_t = 10.0)]
    pub sample_secs: f64,
    #[command(flatten)]
    pub servers: ServerOpts,
}

/// What the receivers saw.
#[derive(Default)]
struct Tally {
    acked: AtomicU64,
    delivered: AtomicU64,
    send_errors: AtomicU64,
    /// Messages that arrived out of order or twice.
    disorder: AtomicU64,
}

/// Reads a native receiver's events: counts the messages from others, checks their order, marks every
/// fifth one read.
fn read_native(client: Client, mut events: EventStream, me: String, tally: Arc<Tally>) {
    tokio::spawn(async move {
        let mut last = std::collections::HashMap::<u64, u64>::new();
        let mut n = 0u64;
        while let Some(event) = events.next().await {
            let Event::Message { message, .. } = event else { continue };
            if message.sender.id == me {
                continue;
            }
            let prev = last.insert(message.conversation_id, message.seq).unwrap_or(0);
            if message.seq <= prev {
                tally.disorder.fetch_add(1, Ordering::Relaxed);
            }
            tally.delivered.fetch_add(1, Ordering::Relaxed);
            n += 1;
            if n % 5 == 0 {
                let _ = client.mark_read(message.conversation_id, message.seq).await;
            }
        }
    });
}

/// Sends at `rate` per second, round robin over `senders`, until `until`; at most 256 in flight.
fn drive<S, F>(senders: Vec<S>, rate: u64, until: Instant, tally: Arc<Tally>, send: F) -> tokio::task::JoinHandle<()>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, String) -> futures_util::future::BoxFuture<'static, anyhow::Result<()>> + Send + Sync + 'static,
{
    let send = Arc::new(send);
    tokio::spawn(async move {
        if senders.is_empty() || rate == 0 {
            return;
        }
        let slots = Arc::new(tokio::sync::Semaphore::new(256));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut i = 0usize;
        let mut tasks = tokio::task::JoinSet::new();
        while Instant::now() < until {
            tick.tick().await;
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let (s, tally, send) = (senders[i % senders.len()].clone(), tally.clone(), send.clone());
            let text = format!("soak {i}");
            i += 1;
            tasks.spawn(async move {
                match send(s, text).await {
                    Ok(()) => tally.acked.fetch_add(1, Ordering::Relaxed),
                    Err(_) => tally.send_errors.fetch_add(1, Ordering::Relaxed),
                };
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    })
}

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let quipd = Quipd::start(&args.servers).await?;
    let bridge = TcpServer::bridge(&args.servers, &quipd).await?;
    let pids = (quipd.pid().context("soak needs a quipd it starts")?, bridge.pid().context("no bridge pid")?);
    let eps = Endpoints::new(4, &quipd.cert_pem)?;
    let opts = ConnectOpts { receipts: true, event_buffer: 256, resume: None };
    let run_for = Duration::from_secs_f64(args.minutes * 60.0);
    let started = Instant::now();
    let until = started + run_for;

    // Native pairs: both sides send and read.
    let native = Arc::new(Tally::default());
    let mut senders = Vec::new();
    for p in 0..args.pairs {
        let (a, b) = (format!("sa{p}"), format!("sb{p}"));
        let (ca, ea) = connect(&quipd, &eps, &a, "soak", opts.clone()).await?;
        let (cb, eb) = connect(&quipd, &eps, &b, "soak", opts.clone()).await?;
        let conv = ca.open_direct(b.clone(), None).await?.conversation.id;
        read_native(ca.clone(), ea, a, native.clone());
        read_native(cb.clone(), eb, b, native.clone());
        senders.push((ca, conv));
        senders.push((cb, conv));
    }
    let native_driver = drive(senders, args.rate, until, native.clone(), |(c, conv): (Client, u64), text| {
        Box::pin(async move { crate::transport::quip::send(&c, conv, text).await })
    });

    // Bridge pairs.
    let bridged = Arc::new(Tally::default());
    let mut sio_senders = Vec::new();
    let mut sio_clients = Vec::new();
    for p in 0..args.bridge_pairs {
        let mut pair = Vec::new();
        for user in [format!("wa{p}"), format!("wb{p}")] {
            let auth = json!({ "token": quipd.token(&user)?, "deviceId": format!("soak-{user}") });
            let (tally, me) = (bridged.clone(), user.clone());
            let client = SioClient::connect(bridge.addr, auth, move |name, payload| {
                if name == "message:new" && payload["sender"]["id"].as_str() != Some(&me) {
                    tally.delivered.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await?;
            pair.push(client);
        }
        let data = pair[0].request("conversation:openDirect", json!({ "peerUserId": format!("wb{p}") })).await?;
        let conv = data["conversation"]["id"].as_u64().context("no conversation id")?;
        sio_senders.push((pair[0].clone(), conv));
        sio_senders.push((pair[1].clone(), conv));
        sio_clients.extend(pair);
    }
    let bridge_driver =
        drive(sio_senders, args.bridge_rate, until, bridged.clone(), |(c, conv): (SioClient, u64), text| {
            Box::pin(async move { socketio::send(&c, conv, text).await })
        });

    // The stalled reader and its busy group.
    let group = Arc::new(Tally::default());
    let (poster, mut poster_events) = connect(&quipd, &eps, "poster", "soak", opts.clone()).await?;
    tokio::spawn(async move { while poster_events.next().await.is_some() {} });
    let (_staller, mut stalled) = connect(&quipd, &eps, "staller", "soak", opts.clone()).await?;
    let conv = poster.create_group("soak group", ["staller"]).await?.conversation.id;
    let group_driver = drive(vec![(poster.clone(), conv)], args.group_rate, until, group.clone(), |(c, conv), text| {
        Box::pin(async move { crate::transport::quip::send(&c, conv, text).await })
    });
    let stall_at = Duration::from_secs_f64(60.0_f64.min(run_for.as_secs_f64() / 10.0));
    let stall_for = Duration::from_secs_f64(args.stall_minutes * 60.0);
    let stall_reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        read_until(started + stall_at, conv, &mut seqs, &mut stalled).await;
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + stall_at + stall_for)).await;
        read_until(until + Duration::from_secs(30), conv, &mut seqs, &mut stalled).await;
        seqs
    });

    // Churn: every 3 s a newcomer connects, says one thing and leaves; RSS every `sample_secs`.
    let mut samples = Vec::new();
    let (mut churned, mut tick) = (0u64, 0u64);
    let mut next_sample = started + Duration::from_secs_f64(args.sample_secs);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tick += 1;
        if tick % 3 == 0 {
            let user = format!("churn{churned}");
            if let Ok((c, _events)) = connect(&quipd, &eps, &user, "soak", opts.clone()).await {
                if let Ok(info) = c.open_direct("sa0", None).await {
                    // sa0 reads it: counted with the native chat.
                    if crate::transport::quip::send(&c, info.conversation.id, "hello".into()).await.is_ok() {
                        native.acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
                c.close().await;
                churned += 1;
            }
        }
        if Instant::now() < next_sample {
            continue;
        }
        next_sample += Duration::from_secs_f64(args.sample_secs);
        let (q, b) = (rss_bytes(pids.0)?, rss_bytes(pids.1)?);
        let t = started.elapsed().as_secs_f64();
        eprintln!(
            "soak {t:>6.0} s: quipd {} MiB, bridge {} MiB; native {} acked / {} delivered, bridge {} / {}, group {}",
            q >> 20,
            b >> 20,
            native.acked.load(Ordering::Relaxed),
            native.delivered.load(Ordering::Relaxed),
            bridged.acked.load(Ordering::Relaxed),
            bridged.delivered.load(Ordering::Relaxed),
            group.acked.load(Ordering::Relaxed),
        );
        samples.push((t, q, b));
    }
    for driver in [native_driver, bridge_driver, group_driver] {
        driver.await?;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let seqs = stall_reader.await?;

    let report = |name: &str, t: &Tally| {
        let (a, d) = (t.acked.load(Ordering::Relaxed), t.delivered.load(Ordering::Relaxed));
        println!(
            "{name}: {a} acknowledged, {d} delivered, {} send errors, {} out of order or twice",
            t.send_errors.load(Ordering::Relaxed),
            t.disorder.load(Ordering::Relaxed)
        );
        (a, d)
    };
    let (na, nd) = report("native chat", &native);
    let (ba, bd) = report("bridge chat", &bridged);
    let ga = group.acked.load(Ordering::Relaxed);
    let contiguous = seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1);
    println!(
        "stalled reader: did not read for {:.0} s; got {} of the group's {ga} messages afterwards, {}",
        stall_for.as_secs_f64(),
        seqs.len(),
        if contiguous { "in order, no hole" } else { "WITH A HOLE OR OUT OF ORDER" }
    );
    println!("churn: {churned} users connected, sent and left");
    let rss = rss_growth(&samples);
    println!("{rss}");
    ensure!(nd == na && native.disorder.load(Ordering::Relaxed) == 0, "native chat lost or reordered messages");
    ensure!(bd == ba, "bridge chat: {ba} acknowledged but {bd} delivered");
    ensure!(contiguous && seqs.len() as u64 == ga, "the stalled reader's catch-up is incomplete");
    Ok(())
}

/// Reads `events` until `deadline`, noting the seqs of conversation `conv`'s messages.
async fn read_until(deadline: Instant, conv: u64, seqs: &mut Vec<u64>, events: &mut EventStream) {
    let deadline = tokio::time::Instant::from_std(deadline);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
        if let Event::Message { message, .. } = event {
            if message.conversation_id == conv {
                seqs.push(message.seq);
            }
        }
    }
}

/// RSS between the end of the warm-up (a third of the run) and the end: median of the samples around each.
fn rss_growth(samples: &[(f64, u64, u64)]) -> String {
    if samples.len() < 6 {
        return "RSS: too few samples to compare".into();
    }
    let median = |part: &[(f64, u64, u64)], pick: fn(&(f64, u64, u64)) -> u64| {
        let mut v: Vec<u64> = part.iter().map(pick).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let third = samples.len() / 3;
    let tail = samples.len() - (samples.len() / 10).max(2);
    let early = &samples[third..(third + (samples.len() / 10).max(2)).min(samples.len())];
    let late = &samples[tail..];
    let line = |name: &str, pick: fn(&(f64, u64, u64)) -> u64| {
        let (a, b) = (median(early, pick), median(late, pick));
        format!("{name} {} → {} MiB ({:+.1} %)", a >> 20, b >> 20, 100.0 * (b as f64 - a as f64) / a.max(1) as f64)
    };
    format!(
        "RSS after the warm-up ({:.0} s) against the end ({:.0} s): {}, {}",
        early[0].0,
        late[late.len() - 1].0,
        line("quipd", |s| s.1),
        line("bridge", |s| s.2)
    )
}
