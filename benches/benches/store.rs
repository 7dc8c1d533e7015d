//! The store and fan-out paths of one message, without the network: append through the single writer
//! (one at a time, and grouped as concurrent senders are), a history page read, and routing one encoded
//! event to 10, 100 and 1 000 sessions through the hub.
//!
//! `cargo bench -p quip-bench --bench store` (add `-- --quick` for a fast pass). The appends run under
//! `durability = "fsync"` (every batch waits for the disk: this measures the disk more than Quip) and
//! `"wal"` (the WAL reaches the OS before the ack: survives a process crash, not a power loss).

#![allow(clippy::expect_used)] // a failed setup step is a failed benchmark

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quip_broker::hub::{Hub, Outbound, SessionHandle};
use quip_protocol::family::messages::{Message, MessageEvent};
use quip_protocol::{ServerFrame, UserRef};
use quip_store::config::{Durability, StoreConfig};
use quip_store::model::{ConvKind, ConvMeta, Sender};
use quip_store::{Committed, Direction, NewMessage, Publish, Store, Writer};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const TEXT_BYTES: usize = 256;
/// Sends queued at once in the grouped benchmark (the writer takes up to `store.max_batch` per batch).
const GROUP: u64 = 64;

/// Fan-out happens elsewhere; the benchmark keeps only the store's side.
struct Discard;

impl Publish for Discard {
    fn publish(&self, events: Vec<Committed>) {
        drop(black_box(events));
    }
}

/// A store in a temp dir with its writer and one group of two members.
struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    writer: Writer,
    conv: u64,
    next: u64,
}

impl Fixture {
    fn new(rt: &Runtime, durability: Durability) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = StoreConfig { durability, ..StoreConfig::default() };
        let store = Store::open(&dir.path().join("store"), &cfg).expect("open store");
        let (writer, _thread) = Writer::start(store.clone(), &cfg, Discard).expect("start writer");
        let meta = ConvMeta {
            id: 0,
            kind: ConvKind::Group,
            title: Some("bench".into()),
            avatar_url: None,
            description: None,
            context: None,
            created_by: "alice".into(),
            created_at_ms: 1,
        };
        let conv = rt.block_on(writer.create_group(meta, vec!["bob".into()])).expect("create group");
        Self { _dir: dir, store, writer, conv, next: 0 }
    }

    fn message(&mut self) -> NewMessage {
        self.next += 1;
        NewMessage {
            conv: self.conv,
            sender: Sender { id: "alice".into(), name: Some("Alice".into()), avatar_url: None },
            client_msg_id: format!("bench-{}", self.next),
            text: "x".repeat(TEXT_BYTES),
            ..NewMessage::default()
        }
    }
}

fn rt() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

fn append(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("store/append");
    for (name, durability) in [("fsync", Durability::Fsync), ("wal", Durability::Wal)] {
        let mut f = Fixture::new(&rt, durability);
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("single", name), |b| {
            b.iter(|| {
                let msg = f.message();
                rt.block_on(f.writer.send(msg, 1_700_000_000_000)).expect("append")
            })
        });
        g.throughput(Throughput::Elements(GROUP));
        g.bench_function(BenchmarkId::new(format!("grouped-{GROUP}"), name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut acks = Vec::with_capacity(GROUP as usize);
                    for _ in 0..GROUP {
                        let msg = f.message();
                        acks.push(f.writer.enqueue_send(msg, 1_700_000_000_000).await.expect("queue"));
                    }
                    for ack in acks {
                        black_box(ack.await.expect("writer alive").expect("append"));
                    }
                })
            })
        });
        rt.block_on(f.writer.shutdown());
    }
    g.finish();
}

fn history(c: &mut Criterion) {
    let rt = rt();
    let mut f = Fixture::new(&rt, Durability::Wal);
    let total = 10_000u64;
    rt.block_on(async {
        let mut acks = Vec::new();
        for _ in 0..total {
            let msg = f.message();
            acks.push(f.writer.enqueue_send(msg, 1_700_000_000_000).await.expect("queue"));
        }
        for ack in acks {
            ack.await.expect("writer alive").expect("append");
        }
    });
    let mut g = c.benchmark_group("store/history");
    g.throughput(Throughput::Elements(50));
    g.bench_function("newest-page-50", |b| {
        b.iter(|| {
            let page = f.store.history("bob", f.conv, 0, Direction::Backward, 50).expect("history");
            assert_eq!(page.messages.len(), 50);
            black_box(page)
        })
    });
    g.bench_function("middle-page-50", |b| {
        b.iter(|| {
            let page = f.store.history("bob", f.conv, total / 2, Direction::Forward, 50).expect("history");
            assert_eq!(page.messages.len(), 50);
            black_box(page)
        })
    });
    g.finish();
    rt.block_on(f.writer.shutdown());
}

/// An encoded live message event, as `fanout.rs` builds once per message.
fn event(seq: u64) -> Bytes {
    ServerFrame::new(
        0,
        MessageEvent {
            message: Message {
                id: seq,
                conversation_id: 7,
                seq,
                sender: UserRef { id: "alice".into(), display_name: Some("Alice".into()), avatar_url: None },
                text: "x".repeat(TEXT_BYTES),
                client_msg_id: format!("bench-{seq}"),
                created_at_ms: 1_700_000_000_000,
                ..Message::default()
            },
            cursor: seq,
            replay: false,
        },
    )
    .encode()
}

/// Frames pushed between two drains of the session queues (below their capacity, so none is dropped).
const DRAIN_EVERY: u64 = 256;

fn fan_out(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout");
    for sessions in [10usize, 100, 1000] {
        let hub = Hub::default();
        let mut queues = Vec::with_capacity(sessions);
        let users: Vec<String> = (0..sessions).map(|i| format!("user-{i}")).collect();
        for (i, user) in users.iter().enumerate() {
            let (tx, rx) = mpsc::channel(DRAIN_EVERY as usize);
            let handle = SessionHandle {
                session_id: i as u64,
                device_id: Arc::from("phone"),
                tx,
                lagging: Arc::default(),
                gateway: false,
                lane: None,
                connected_at_ms: 0,
            };
            hub.register(user, handle);
            queues.push(rx);
        }
        let frame = Outbound::Message { conv: 7, seq: 1, frame: event(1), since: Instant::now() };
        assert_eq!(hub.deliver(&users, &frame), sessions);
        queues.iter_mut().for_each(|q| while q.try_recv().is_ok() {});

        g.throughput(Throughput::Elements(sessions as u64));
        // Routing one already-encoded frame to every member's session (the hub's part of fan-out).
        g.bench_function(BenchmarkId::new("deliver", sessions), |b| {
            b.iter_custom(|iters| timed_in_chunks(iters, &mut queues, || black_box(hub.deliver(&users, &frame))))
        });
        // What the writer thread pays per message: encode the event once, then route it.
        g.bench_function(BenchmarkId::new("encode+deliver", sessions), |b| {
            let mut seq = 1;
            b.iter_custom(|iters| {
                timed_in_chunks(iters, &mut queues, || {
                    seq += 1;
                    let frame = Outbound::Message { conv: 7, seq, frame: event(seq), since: Instant::now() };
                    black_box(hub.deliver(&users, &frame))
                })
            })
        });
    }
    g.finish();
}

/// Runs `f` `iters` times, timing only `f`: every `DRAIN_EVERY` calls the queues are emptied untimed.
fn timed_in_chunks(iters: u64, queues: &mut [mpsc::Receiver<Outbound>], mut f: impl FnMut() -> usize) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let chunk = (iters - done).min(DRAIN_EVERY);
        let start = Instant::now();
        for _ in 0..chunk {
            f();
        }
        total += start.elapsed();
        for q in queues.iter_mut() {
            while q.try_recv().is_ok() {}
        }
        done += chunk;
    }
    total
}

criterion_group!(benches, append, history, fan_out);
criterion_main!(benches);
