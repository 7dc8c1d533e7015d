//! Crash consistency: the real `quipd` binary is SIGKILLed at random moments while SDK clients send
//! acknowledged messages into shared conversations, then restarted on the same port and data directory.
//! After the last restart every acknowledged message must be in the store exactly once, each
//! conversation's seqs gap-free and in order, and every client must have received every message of its
//! conversations once, in seq order, across the restarts (the SDK reconnects, resumes and re-sends by
//! itself; a lane whose send still failed retries with the same `client_msg_id`).
//!
//! `cargo test --release -p quip-broker --test it crash:: -- --nocapture` runs one harness run with
//! `QUIP_CRASH_KILLS` kills (default 3) and a random seed; `QUIP_CRASH_SEED` repeats a run,
//! `QUIP_CRASH_DURABILITY=wal` checks the `wal` setting (a process kill must not lose an ack there either;
//! only power loss may). `scripts/crash-test [COUNT]` runs it COUNT times.

mod harness;
pub(crate) mod quipd;
mod rng;
mod verify;
mod workload;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} does not parse")),
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_sigkill_exactly_once_and_in_order() {
    let settings = harness::Settings {
        seed: env_or("QUIP_CRASH_SEED", rng::fresh_seed()),
        kills: env_or("QUIP_CRASH_KILLS", 3),
        clients: env_or("QUIP_CRASH_CLIENTS", 6),
        lanes: env_or("QUIP_CRASH_LANES", 2),
        durability: env_or("QUIP_CRASH_DURABILITY", "fsync".to_owned()),
        // scripts/crash-test runs a private copy, safe from rebuilds of the shared target directory.
        quipd: env_or("QUIP_CRASH_QUIPD", std::path::PathBuf::from(env!("CARGO_BIN_EXE_quipd"))),
    };
    assert!(settings.clients >= 5, "the conversations need at least 5 clients");
    let s = &settings;
    println!(
        "crash harness: seed {} ({} kills, {} clients x {} lanes, durability {}); repeat with QUIP_CRASH_SEED={} QUIP_CRASH_KILLS={}",
        s.seed, s.kills, s.clients, s.lanes, s.durability, s.seed, s.kills
    );
    match harness::run(s).await {
        Ok(r) => println!(
            "CRASH-RESULT ok seed={} kills={} acked={} duplicate_acks={} retried={} stored={} delivered={} sessions={} resumes={}",
            s.seed, s.kills, r.acked, r.duplicate_acks, r.retried, r.stored, r.delivered, r.sessions, r.resumes
        ),
        Err(e) => {
            println!("CRASH-RESULT FAILED seed={} kills={}", s.seed, s.kills);
            panic!("crash harness failed (seed {}, repeat with QUIP_CRASH_SEED={}): {e}", s.seed, s.seed);
        }
    }
}
