//! One run: start quipd, connect the clients, create the conversations, start the lanes, kill and
//! restart quipd `kills` times at random moments, stop the lanes, check.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use quip_sdk::Client;

use super::quipd::Setup;
use super::rng::Rng;
use super::verify::{self, Report};
use super::workload::{self, Ledger, Member, Received};

/// How long the harness waits for the load to make progress (a liveness bound, not a measurement).
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    pub kills: u32,
    pub clients: usize,
    pub lanes: usize,
    /// `store.durability`: "fsync" (the default) or "wal"; both must survive a process kill.
    pub durability: String,
    pub quipd: PathBuf,
}

type Lane = tokio::task::JoinHandle<Result<u64, String>>;

/// Waits until the ledger holds at least `n` acks; fails as soon as a lane has failed.
async fn wait_for_acks(ledger: &Ledger, lanes: &mut [Lane], n: u64, what: &str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + PROGRESS_TIMEOUT;
    while ledger.count() < n {
        if let Some(lane) = lanes.iter_mut().find(|l| l.is_finished()) {
            let outcome = lane.await.map_err(|e| e.to_string())?;
            return Err(format!("a lane stopped {what}: {outcome:?}"));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("no progress {what}: {} acks, waiting for {n}", ledger.count()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

pub async fn run(s: &Settings) -> Result<Report, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let setup = Setup::new(s.quipd.clone(), dir.path(), &s.durability);
    let mut rng = Rng::new(s.seed);
    let result = drive(s, &setup, &mut rng).await;
    if result.is_err() {
        // Keep the evidence: the data directory and quipd's log.
        let kept = dir.keep();
        eprintln!("crash harness: data and quipd.log kept in {}", kept.display());
    }
    result
}

async fn drive(s: &Settings, setup: &Setup, rng: &mut Rng) -> Result<Report, String> {
    let mut quipd = setup.start(None, 0).await?;
    let addr = quipd.addr;
    let fingerprint = quipd.fingerprint.clone();

    // The users connect before any conversation exists, so each must receive every message from seq 1.
    let mut members = Vec::new();
    for i in 0..s.clients {
        let user = format!("u{i}");
        let cfg = workload::client_config(addr, &fingerprint, setup.token(&user), &format!("dev-{user}"));
        let (client, events) = Client::connect(cfg).await.map_err(|e| format!("{user} connect: {e}"))?;
        let received = Arc::new(Received::default());
        workload::collect(events, received.clone());
        members.push(Member { user, client, received, convs: Vec::new() });
    }
    // A group of everyone, a group of the first three, and a direct conversation of the next two.
    let everyone: Vec<String> = members.iter().skip(1).map(|m| m.user.clone()).collect();
    let all = members[0].client.create_group("all", everyone).await.map_err(|e| e.to_string())?.conversation.id;
    let trio_members: Vec<String> = members.iter().skip(1).take(2).map(|m| m.user.clone()).collect();
    let trio = members[0].client.create_group("trio", trio_members).await.map_err(|e| e.to_string())?.conversation.id;
    let peer = members[4 % s.clients].user.clone();
    let pair = members[3 % s.clients].client.open_direct(peer, None).await.map_err(|e| e.to_string())?.conversation.id;
    for (i, m) in members.iter_mut().enumerate() {
        m.convs.push(all);
        if i < 3 {
            m.convs.push(trio);
        }
        if i == 3 % s.clients || i == 4 % s.clients {
            m.convs.push(pair);
        }
        m.convs.sort_unstable();
        m.convs.dedup();
    }
    let convs = [all, trio, pair];

    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Ledger::default());
    let mut lanes = Vec::new();
    for m in &members {
        for lane in 0..s.lanes {
            let lane_rng = rng.fork((lanes.len() as u64) + 1);
            lanes.push(workload::lane(m, lane, lane_rng, stop.clone(), ledger.clone()));
        }
    }

    for k in 1..=s.kills {
        // Kill during load: after some acks since the (re)start, then at a random moment.
        let floor = ledger.count() + 20;
        wait_for_acks(&ledger, &mut lanes, floor, &format!("before kill {k}")).await?;
        tokio::time::sleep(Duration::from_millis(rng.range(0, 1500))).await;
        let at = ledger.count();
        quipd.kill().await.map_err(|e| format!("kill {k}: {e}"))?;
        println!("crash harness: kill {k}/{} after {at} acks", s.kills);
        tokio::time::sleep(Duration::from_millis(rng.range(0, 500))).await;
        quipd = setup.start(Some(addr), k).await?;
        if quipd.fingerprint != fingerprint {
            return Err(format!("the certificate changed across the restart: {}", quipd.fingerprint));
        }
    }
    // The clients come back, resume and finish their sends; then the load stops.
    let floor = ledger.count() + 20;
    wait_for_acks(&ledger, &mut lanes, floor, "after the last restart").await?;
    tokio::time::sleep(Duration::from_millis(rng.range(0, 500))).await;
    stop.store(true, Ordering::Release);
    let mut sent = 0;
    for lane in lanes {
        sent += lane.await.map_err(|e| e.to_string())??;
    }

    let report = verify::check(&members, &convs, &ledger.all()).await;
    for m in &members {
        m.client.close().await;
    }
    let report = report.map_err(|e| format!("{e}\n--- quipd log (tail) ---\n{}", setup.log_tail()))?;
    if report.acked as u64 != sent {
        return Err(format!("{sent} messages sent but {} acked", report.acked));
    }
    quipd.kill().await?;
    Ok(report)
}
