//! A fault harness, not a load point: N clients connected in groups, messages sent into every group, quipd
//! killed right after the last ack (deliveries still in flight) and started again on the same data and
//! address. Every client reconnects by itself (the SDK's reconnect, with its resume point) and must end
//! with every message of its group exactly once. Reports how long until all are back and until all have
//! everything. Fails when a client ends with a message missing or twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use futures_util::StreamExt as _;
use quip_sdk::{Client, ClientConfig, Event, ReconnectPolicy, Trust};

use crate::servers::{Quipd, ServerOpts};
use crate::transport::quip::Endpoints;

#[derive(Debug, Clone, clap::Args)]
pub struct RestartStormArgs {
    /// Clients (each its own user).
    #[arg(long, default_value_t = 10_000)]
    pub clients: usize,
    /// Members per group.
    #[arg(long, default_value_t = 100)]
    pub group: usize,
    /// Messages sent into every group before the kill.
    #[arg(long, default_value_t = 5)]
    pub messages: u64,
    /// Connections being set up at once (before the restart).
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// Client-side QUIC endpoints (UDP sockets) the clients are spread over.
    #[arg(long, default_value_t = 16)]
    pub endpoints: usize,
    /// How long the clients have to get everything after the restart.
    #[arg(long, default_value_t = 300)]
    pub deadline_secs: u64,
    #[command(flatten)]
    pub servers: ServerOpts,
}

/// What one client has seen of its group: the seqs, in arrival order.
#[derive(Default)]
struct Seen {
    seqs: std::sync::Mutex<Vec<u64>>,
}

fn config(quipd: &Quipd, user: &str) -> anyhow::Result<ClientConfig> {
    let mut cfg = ClientConfig::new(quipd.addr, Trust::CaPem(quipd.cert_pem.clone()), quipd.token(user)?, "phone");
    cfg.request_timeout = Duration::from_secs(60);
    cfg.event_buffer = 64;
    cfg.report_delivered = false;
    cfg.reconnect = ReconnectPolicy::default();
    Ok(cfg)
}

pub async fn run(args: RestartStormArgs) -> anyhow::Result<()> {
    let quipd = Quipd::start(&args.servers).await?;
    let eps = Endpoints::new(args.endpoints, &quipd.cert_pem)?;
    let users: Vec<String> = (0..args.clients).map(|i| format!("r{i}")).collect();
    let started = Instant::now();
    let connected: Vec<anyhow::Result<(Client, quip_sdk::EventStream)>> = futures_util::stream::iter(users.clone())
        .map(|user| {
            let eps = eps.clone();
            let cfg = config(&quipd, &user);
            async move { Ok(Client::connect_with(eps, cfg?).await?) }
        })
        .buffered(args.concurrency)
        .collect()
        .await;
    let mut clients = Vec::with_capacity(args.clients);
    for c in connected {
        clients.push(c.context("connecting before the restart")?);
    }
    eprintln!("restart-storm: {} clients connected in {:.1} s", clients.len(), started.elapsed().as_secs_f64());

    // Groups, and what every client sees from now on.
    let sender_cfg = config(&quipd, "storm-sender")?;
    let (sender, mut sender_events) = Client::connect_with(eps.clone(), sender_cfg).await?;
    tokio::spawn(async move { while sender_events.next().await.is_some() {} });
    let mut groups = Vec::new();
    for members in users.chunks(args.group) {
        groups.push(sender.create_group("storm", members.iter().cloned()).await?.conversation.id);
    }
    let complete = Arc::new(AtomicUsize::new(0));
    let back = Arc::new(AtomicUsize::new(0));
    let mut seen = Vec::with_capacity(clients.len());
    let mut handles = Vec::with_capacity(clients.len());
    for (i, (client, mut events)) in clients.into_iter().enumerate() {
        let conv = groups[i / args.group];
        let mine = Arc::new(Seen::default());
        seen.push(mine.clone());
        let (complete, back, want) = (complete.clone(), back.clone(), args.messages);
        tokio::spawn(async move {
            let mut counted = false;
            while let Some(event) = events.next().await {
                match event {
                    Event::Message { message: m, .. } if m.conversation_id == conv && m.text.starts_with("storm ") => {
                        let mut seqs = mine.seqs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        seqs.push(m.seq);
                        if !counted && seqs.len() as u64 >= want {
                            counted = true;
                            complete.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Event::Connected { resumed: true } => {
                        back.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
        });
        handles.push(client);
    }

    // Send, and kill quipd right after the last ack.
    for n in 0..args.messages {
        let sends = groups.iter().map(|&conv| sender.send_message(conv, format!("storm {n}")));
        for ack in futures_util::future::join_all(sends).await {
            ack?;
        }
    }
    let delivered_before = complete.load(Ordering::Relaxed);
    drop(sender);
    let quipd = quipd.restart(&args.servers).await?;
    let restarted = Instant::now();
    eprintln!("restart-storm: quipd killed ({delivered_before} clients had everything) and started again");

    let deadline = Duration::from_secs(args.deadline_secs);
    let mut all_back = None;
    while restarted.elapsed() < deadline {
        // Back means resumed: right after the kill a client may still think it is connected.
        if all_back.is_none() && back.load(Ordering::Relaxed) >= handles.len() {
            all_back = Some(restarted.elapsed());
        }
        if all_back.is_some() && complete.load(Ordering::Relaxed) == handles.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_done = restarted.elapsed();
    let resumed = back.load(Ordering::Relaxed);
    let done = complete.load(Ordering::Relaxed);
    let mut twice = 0;
    for s in &seen {
        let seqs = s.seqs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != seqs.len() {
            twice += 1;
        }
    }
    println!(
        "restart storm: {} clients in groups of {}, {} messages a group; after the kill and restart: all \
         reconnected in {}, {resumed} resumed sessions, {done} of {} with every message ({:.1} s), {twice} \
         with a message twice; quipd served again on {}",
        handles.len(),
        args.group,
        args.messages,
        all_back.map_or("(not all)".to_owned(), |t| format!("{:.1} s", t.as_secs_f64())),
        handles.len(),
        all_done.as_secs_f64(),
        quipd.addr,
    );
    ensure!(done == handles.len(), "{} clients are missing messages after the restart", handles.len() - done);
    ensure!(twice == 0, "{twice} clients got a message twice");
    // Closed together: one by one, 10 000 closes take minutes.
    futures_util::future::join_all(handles.iter().map(Client::close)).await;
    Ok(())
}
