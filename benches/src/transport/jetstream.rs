//! NATS JetStream, through the JetStream API's own subjects (`$JS.API.*`, JSON) over async-nats's core
//! client: the crate's `jetstream` feature is off in this workspace, and the server does the same work
//! whichever client asks. Shaped like NATS core (`nats`): a connection per user, a subject per channel
//! (`bench.<channel>`), all of them in one file-backed stream (created per run, in a store of its own). A send is a publish that waits for the
//! stream's ack (the message is then stored: the durable point); a receiver has a consumer per channel it
//! receives on: an ephemeral push consumer with the ordered consumer's settings (deliver new, ack none,
//! state in memory, one delivery) but no flow control, delivering to the receiver's own inbox.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use super::nats::{connect_all, subject};
use super::topology::{Sink, Topology};
use crate::stats::Recorder;

/// The stream every channel's subject belongs to.
const STREAM: &str = "BENCH";

#[derive(Debug)]
pub struct JetStreamHarness {
    clients: Vec<async_nats::Client>,
    /// A sender per channel: its user's client and where it publishes.
    senders: Vec<(async_nats::Client, async_nats::Subject)>,
}

impl JetStreamHarness {
    pub async fn setup(
        addr: std::net::SocketAddr,
        topology: &Topology,
        recorder: Arc<Recorder>,
    ) -> anyhow::Result<Self> {
        let clients = connect_all(addr, topology.users).await?;
        let admin = clients.first().context("no users")?;
        // Old messages go past 1 GiB, so that a long sweep's store stays bounded (every message has long
        // been delivered by then).
        let stream = json!({
            "name": STREAM, "subjects": ["bench.>"], "storage": "file", "retention": "limits",
            "discard": "old", "max_bytes": 1u64 << 30, "num_replicas": 1,
        });
        api(admin, format!("$JS.API.STREAM.CREATE.{STREAM}"), &stream).await?;
        for (u, channels) in topology.inbound().into_iter().enumerate() {
            let sink = Sink::new(u, channels.clone(), recorder.clone());
            for c in channels {
                let inbox = clients[u].new_inbox();
                let mut sub = clients[u].subscribe(inbox.clone()).await?;
                let sink = sink.clone();
                tokio::spawn(async move {
                    while let Some(msg) = sub.next().await {
                        if let Ok(text) = std::str::from_utf8(&msg.payload) {
                            sink.deliver(text);
                        }
                    }
                });
                let name = format!("u{u}c{c}");
                let consumer = json!({
                    "stream_name": STREAM,
                    "config": {
                        "name": name, "deliver_subject": inbox, "filter_subject": subject(c),
                        "deliver_policy": "new", "ack_policy": "none", "replay_policy": "instant",
                        "max_deliver": 1, "mem_storage": true,
                    },
                });
                api(&clients[u], format!("$JS.API.CONSUMER.CREATE.{STREAM}.{name}"), &consumer).await?;
            }
            clients[u].flush().await?;
        }
        let senders =
            topology.channels.iter().enumerate().map(|(i, c)| (clients[c.sender].clone(), subject(i).into())).collect();
        Ok(Self { clients, senders })
    }

    pub fn senders(&self) -> &[(async_nats::Client, async_nats::Subject)] {
        &self.senders
    }

    pub async fn close(self) {
        for c in self.clients {
            let _ = c.drain().await;
        }
    }
}

/// A JetStream API request; its answer, or the error the server gave.
async fn api(client: &async_nats::Client, subject: String, body: &Value) -> anyhow::Result<Value> {
    let reply = client
        .request(subject.clone(), serde_json::to_vec(body)?.into())
        .await
        .with_context(|| format!("{subject} (is JetStream enabled?)"))?;
    let answer: Value = serde_json::from_slice(&reply.payload).with_context(|| format!("{subject}: answer"))?;
    if let Some(error) = answer.get("error") {
        bail!("{subject}: {error}");
    }
    Ok(answer)
}

/// Publishes `text` and waits for the stream's ack (`{"stream": .., "seq": ..}`).
pub async fn publish(client: &async_nats::Client, subject: async_nats::Subject, text: String) -> anyhow::Result<()> {
    let reply = client.request(subject, text.into()).await?;
    let ack: Value = serde_json::from_slice(&reply.payload).context("publish ack")?;
    if ack.get("seq").is_none() {
        bail!("publish not acknowledged: {ack}");
    }
    Ok(())
}
