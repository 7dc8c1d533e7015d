//! A fault harness, not a load point: quipd and quip-bridge under steady mixed traffic for a long time
//! (`scripts/fault-soak`, 30 minutes by default). What it runs at once:
//!
//! - native 1:1 chat (pairs over QUIC, both sides reading, every fifth message marked read, typing on
//!   every tenth);
//! - Socket.IO chat through the bridge;
//! - connection churn: a new user connects, sends one message and leaves every few seconds (a presence
//!   flap for the user it writes to);
//! - a device that goes away every 10 s and comes back with its resume point;
//! - a **stalled reader**: a member of a busy group who stops reading its events for minutes, then
//!   reads again (backpressure: its queue fills, quipd marks it lagging and later catches it up from the
//!   store).
//!
//! It samples both servers' RSS and the p99 of send-to-ack times as it goes, and fails (exit code 1) when any acknowledged message did not
//! reach its receiver, arrived twice or out of order, or the stalled reader's catch-up or the returning
//! device's replay has a hole. RSS is reported, with growth between the end of the warm-up (a third of the
//! run: RocksDB's memtables and caches fill for a while) and the end called flat under 5 %.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use futures_util::StreamExt as _;
use quip_sdk::protocol::family::presence::Typing;
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
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Socket.IO chat pairs through the bridge.
    #[arg(long, default_value_t = 20)]
    pub bridge_pairs: usize,
    /// Bridge chat messages per second, all pairs together.
    #[arg(long, default_value_t = 300)]
    pub bridge_rate: u64,
    /// Messages per second into the stalled reader's group (and to the device that reconnects).
    #[arg(long, default_value_t = 20)]
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

/// The send-to-ack p99 of one sample window: native, bridge.
type WindowP99 = (Option<u64>, Option<u64>);

/// What the receivers saw.
#[derive(Default)]
struct Tally {
    acked: AtomicU64,
    delivered: AtomicU64,
    send_errors: AtomicU64,
    /// Messages that arrived out of order or twice.
    disorder: AtomicU64,
    /// Send-to-ack times (µs) since the last sample.
    latencies: std::sync::Mutex<Vec<u64>>,
}

impl Tally {
    /// The p99 of the send-to-ack times since the last call, which starts a new window.
    fn window_p99(&self) -> Option<u64> {
        let mut v = std::mem::take(&mut *self.latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        Some(v[(v.len() * 99 / 100).min(v.len() - 1)])
    }
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
            if n % 10 == 0 {
                let _ = client.request(Typing { conversation_id: message.conversation_id, active: true }).await;
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
                let sent = Instant::now();
                match send(s, text).await {
                    Ok(()) => {
                        tally.acked.fetch_add(1, Ordering::Relaxed);
                        let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                        tally.latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(us);
                    }
                    Err(_) => {
                        tally.send_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
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

    // A browser that stops reading its socket for as long (while its partner keeps writing to it).
    let (pause, paused) = tokio::sync::watch::channel(false);
    let (stuck_got, stuck) = (Arc::new(AtomicU64::new(0)), Arc::new(Tally::default()));
    let got = stuck_got.clone();
    let ws_auth = json!({ "token": quipd.token("ws")?, "deviceId": "soak-ws" });
    let ws = SioClient::connect_paused(
        bridge.addr,
        ws_auth,
        move |name, _| {
            if name == "message:new" {
                got.fetch_add(1, Ordering::Relaxed);
            }
        },
        paused,
    )
    .await?;
    let wp = SioClient::connect(bridge.addr, json!({ "token": quipd.token("wp")?, "deviceId": "soak-wp" }), |_, _| {})
        .await?;
    let data = wp.request("conversation:openDirect", json!({ "peerUserId": "ws" })).await?;
    let ws_conv = data["conversation"]["id"].as_u64().context("no conversation id")?;
    let stuck_driver = drive(vec![(wp.clone(), ws_conv)], args.group_rate, until, stuck.clone(), |(c, conv), text| {
        Box::pin(async move { socketio::send(&c, conv, text).await })
    });
    let (mut bridge_before_stall, mut bridge_in_stall) = (0u64, 0u64);

    // A device that goes away every 10 s and comes back with its resume point.
    let away = Arc::new(Tally::default());
    let (ra, mut ra_events) = connect(&quipd, &eps, "ra", "soak", opts.clone()).await?;
    tokio::spawn(async move { while ra_events.next().await.is_some() {} });
    let (mut rb, rb_events) = connect(&quipd, &eps, "rb", "soak", opts.clone()).await?;
    let away_conv = ra.open_direct("rb", None).await?.conversation.id;
    let away_driver = drive(vec![(ra.clone(), away_conv)], args.group_rate, until, away.clone(), |(c, conv), text| {
        Box::pin(async move { crate::transport::quip::send(&c, conv, text).await })
    });
    let mut away_reader = tokio::spawn(read_seqs(rb_events, away_conv));
    let (mut away_seqs, mut reconnects) = (Vec::new(), 0u64);

    // Churn: every 3 s a newcomer connects, says one thing and leaves; RSS every `sample_secs`.
    let (mut samples, mut p99s) = (Vec::new(), Vec::new());
    let (mut churned, mut tick) = (0u64, 0u64);
    let mut next_sample = started + Duration::from_secs_f64(args.sample_secs);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tick += 1;
        let in_stall = (stall_at..stall_at + stall_for).contains(&started.elapsed());
        if *pause.borrow() != in_stall {
            pause.send_replace(in_stall);
        }
        if tick % 10 == 0 {
            rb.close().await;
            away_seqs.extend(away_reader.await?);
            let point = rb.resume_point();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (client, events) =
                connect(&quipd, &eps, "rb", "soak", ConnectOpts { resume: Some(point), ..opts.clone() }).await?;
            rb = client;
            away_reader = tokio::spawn(read_seqs(events, away_conv));
            reconnects += 1;
        }
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
        let (np, bp) = (native.window_p99(), bridged.window_p99());
        let rocks = match quipd.admin_addr {
            Some(admin) => store_memory(&crate::servers::http_get(admin, "/metrics").await.unwrap_or_default()),
            None => String::new(),
        };
        p99s.push((np, bp));
        let ms = |p: Option<u64>| p.map_or("-".to_owned(), |us| format!("{:.1} ms", us as f64 / 1000.0));
        eprintln!(
            "soak {t:>6.0} s: quipd {} MiB ({rocks}), bridge {} MiB; ack p99 native {} bridge {}; native {} acked / {} delivered, bridge {} / {}, group {}",
            q >> 20,
            b >> 20,
            ms(np),
            ms(bp),
            native.acked.load(Ordering::Relaxed),
            native.delivered.load(Ordering::Relaxed),
            bridged.acked.load(Ordering::Relaxed),
            bridged.delivered.load(Ordering::Relaxed),
            group.acked.load(Ordering::Relaxed),
        );
        samples.push((t, q, b));
        if in_stall {
            bridge_in_stall = bridge_in_stall.max(b);
        } else if bridge_in_stall == 0 {
            bridge_before_stall = b;
        }
    }
    for driver in [native_driver, bridge_driver, group_driver, away_driver, stuck_driver] {
        driver.await?;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let seqs = stall_reader.await?;
    rb.close().await;
    away_seqs.extend(away_reader.await?);

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
    let aa = away.acked.load(Ordering::Relaxed);
    let away_whole = away_seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1) && away_seqs.len() as u64 == aa;
    println!(
        "away device: {reconnects} reconnects with resume; got {} of {aa} messages, {}",
        away_seqs.len(),
        if away_whole { "in order, none missed or doubled" } else { "WITH A HOLE, A DUPLICATE OR OUT OF ORDER" }
    );
    let spread = |pick: fn(&WindowP99) -> Option<u64>| {
        let mut v: Vec<u64> = p99s.iter().filter_map(pick).collect();
        v.sort_unstable();
        match (v.first(), v.get(v.len() / 2), v.last()) {
            (Some(a), Some(m), Some(z)) => {
                format!("{:.1} / {:.1} / {:.1} ms", *a as f64 / 1e3, *m as f64 / 1e3, *z as f64 / 1e3)
            }
            _ => "no sample".to_owned(),
        }
    };
    println!(
        "ack p99 per {} s window, lowest / median / highest: native {}, bridge {}",
        args.sample_secs,
        spread(|p| p.0),
        spread(|p| p.1)
    );
    let alive = matches!(
        tokio::time::timeout(Duration::from_secs(5), ws.emit_ack("typing:start", json!({ "conversationId": ws_conv })))
            .await,
        Ok(Ok(_))
    );
    println!(
        "stuck browser: did not read its socket for {:.0} s; got {} of {} messages; the bridge {}; bridge RSS {} MiB before, at most {} MiB during",
        stall_for.as_secs_f64(),
        stuck_got.load(Ordering::Relaxed),
        stuck.acked.load(Ordering::Relaxed),
        if alive { "kept the socket" } else { "closed the socket (the client's to reconnect and resume)" },
        bridge_before_stall >> 20,
        bridge_in_stall >> 20
    );
    let rss = rss_growth(&samples);
    println!("{rss}");
    ensure!(nd == na && native.disorder.load(Ordering::Relaxed) == 0, "native chat lost or reordered messages");
    ensure!(bd == ba, "bridge chat: {ba} acknowledged but {bd} delivered");
    ensure!(contiguous && seqs.len() as u64 == ga, "the stalled reader's catch-up is incomplete");
    ensure!(away_whole, "the device that reconnects with resume missed or doubled messages");
    Ok(())
}

/// RocksDB's memory by part and the heap's figures, in MiB, from quipd's metrics text.
fn store_memory(metrics: &str) -> String {
    let gauge = |prefix: &str| -> Vec<String> {
        metrics
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|l| {
                let (part, value) = l.split_once("\"} ")?;
                Some(format!("{part} {:.0}", value.trim().parse::<f64>().ok()? / f64::from(1u32 << 20)))
            })
            .collect()
    };
    let (rocks, heap) = (gauge("quip_store_memory_bytes{part=\""), gauge("quip_heap_bytes{kind=\""));
    let mut out = Vec::new();
    if !rocks.is_empty() {
        out.push(format!("RocksDB MiB: {}", rocks.join(", ")));
    }
    if !heap.is_empty() {
        out.push(format!("heap MiB: {}", heap.join(", ")));
    }
    out.join("; ")
}

/// Reads `events` to their end, noting the seqs of conversation `conv`'s messages.
async fn read_seqs(mut events: EventStream, conv: u64) -> Vec<u64> {
    let mut seqs = Vec::new();
    while let Some(event) = events.next().await {
        if let Event::Message { message, .. } = event {
            if message.conversation_id == conv {
                seqs.push(message.seq);
            }
        }
    }
    seqs
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
        let growth = 100.0 * (b as f64 - a as f64) / a.max(1) as f64;
        let verdict = if growth < 5.0 { "flat" } else { "GREW" };
        format!("{name} {} → {} MiB ({growth:+.1} %, {verdict})", a >> 20, b >> 20)
    };
    format!(
        "RSS after the warm-up ({:.0} s) against the end ({:.0} s): {}, {}",
        early[0].0,
        late[late.len() - 1].0,
        line("quipd", |s| s.1),
        line("bridge", |s| s.2)
    )
}
