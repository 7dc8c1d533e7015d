//! Frame encode and decode: the cost every message pays once per send and once per fan-out.
//!
//! `cargo bench -p quip-bench --bench frames` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quip_protocol::family::messages::{Message, MessageEvent, SendMessage};
use quip_protocol::{ClientFrame, Limits, ServerFrame, UserRef};

fn send_frame() -> ClientFrame {
    ClientFrame::new(
        42,
        SendMessage {
            conversation_id: 7,
            client_msg_id: "device-1-000042".into(),
            text: "x".repeat(256),
            ..SendMessage::default()
        },
    )
}

fn event_frame() -> ServerFrame {
    ServerFrame::new(
        0,
        MessageEvent {
            message: Message {
                id: 1_000_001,
                conversation_id: 7,
                seq: 1234,
                sender: UserRef {
                    id: "64b7f0c2a1".into(),
                    display_name: Some("Alice".into()),
                    avatar_url: Some("https://cdn.example/a.png".into()),
                },
                text: "x".repeat(256),
                client_msg_id: "device-1-000042".into(),
                created_at_ms: 1_700_000_000_000,
                ..Message::default()
            },
            cursor: 99,
            replay: false,
        },
    )
}

fn frames(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Elements(1));

    let send = send_frame();
    let send_bytes = send.encode();
    g.bench_function("encode/SendMessage-256B", |b| b.iter(|| black_box(send.encode())));
    g.bench_function("decode/SendMessage-256B", |b| {
        b.iter(|| black_box(ClientFrame::decode(black_box(&send_bytes), &limits)))
    });

    let event = event_frame();
    let event_bytes = event.encode();
    g.bench_function("encode/MessageEvent-256B", |b| b.iter(|| black_box(event.encode())));
    g.bench_function("decode/MessageEvent-256B", |b| {
        b.iter(|| black_box(ServerFrame::decode(black_box(&event_bytes), &limits)))
    });
    g.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
