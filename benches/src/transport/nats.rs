//! NATS core (no JetStream: nothing is stored, nothing acknowledged) through async-nats: a connection per
//! user, as Quip has a QUIC connection per user; a subject per channel (`bench.<channel>`), subscribed by
//! the channel's receivers.

use std::sync::Arc;

use futures_util::{StreamExt as _, TryStreamExt as _};

use super::topology::{Sink, Topology};
use crate::stats::Recorder;

#[derive(Debug)]
pub struct NatsHarness {
    clients: Vec<async_nats::Client>,
    /// A sender per channel: its user's client and where it sends.
    senders: Vec<(async_nats::Client, async_nats::Subject)>,
}

impl NatsHarness {
    pub async fn setup(
        addr: std::net::SocketAddr,
        topology: &Topology,
        recorder: Arc<Recorder>,
    ) -> anyhow::Result<Self> {
        let clients = connect_all(addr, topology.users).await?;
        for (u, channels) in topology.inbound().into_iter().enumerate() {
            let sink = Sink::new(u, channels.clone(), recorder.clone());
            for c in channels {
                let mut sub = clients[u].subscribe(subject(c)).await?;
                let sink = sink.clone();
                tokio::spawn(async move {
                    while let Some(msg) = sub.next().await {
                        if let Ok(text) = std::str::from_utf8(&msg.payload) {
                            sink.deliver(text);
                        }
                    }
                });
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

/// A connection per user (named after it), a few at a time.
pub(super) async fn connect_all(addr: std::net::SocketAddr, users: usize) -> anyhow::Result<Vec<async_nats::Client>> {
    let url = format!("nats://{addr}");
    let clients = futures_util::stream::iter(0..users)
        .map(|u| {
            let url = url.clone();
            async move {
                async_nats::ConnectOptions::new()
                    .name(Topology::user(u))
                    // The default (64) would push back on an open-loop sender long before the server.
                    .client_capacity(65_536)
                    .subscription_capacity(65_536)
                    // JetStream's publish acks wait in the server's queue under load, like any request.
                    .request_timeout(Some(std::time::Duration::from_secs(30)))
                    .connect(url)
                    .await
            }
        })
        .buffered(super::quip::CONNECT_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(clients)
}

pub(super) fn subject(channel: usize) -> String {
    format!("bench.{channel}")
}
