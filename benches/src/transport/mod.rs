//! The systems under test, behind one small interface: set up users and channels, send on a channel,
//! record deliveries. One module per peer: Quip over QUIC (`quip`), Socket.IO v4 for the bridge and the
//! Node peers (`socketio`), NATS core (`nats`), NATS JetStream (`jetstream`). `topology` says who sends where and records deliveries; the
//! peers' harnesses hand their senders to this module, which wraps them as [`ChannelSender`]s.

pub mod jetstream;
pub mod nats;
pub mod quip;
pub mod socketio;
mod topology;

pub use topology::Topology;

/// Sends on one channel; cheap to clone into a task per send.
#[derive(Debug, Clone)]
pub enum ChannelSender {
    Quip(quip_sdk::Client, u64),
    SocketIo(socketio::SioClient, u64),
    Nats(async_nats::Client, async_nats::Subject),
    JetStream(async_nats::Client, async_nats::Subject),
}

impl ChannelSender {
    /// Sends one message; returns once the peer acknowledged it (Quip: durable; Socket.IO: the server's
    /// ack; NATS core: handed to the client's write buffer, as NATS core acknowledges nothing; JetStream:
    /// the stream's ack, once the message is stored).
    pub async fn send(self, text: String) -> anyhow::Result<()> {
        match self {
            ChannelSender::Quip(client, conv) => quip::send(&client, conv, text).await,
            ChannelSender::SocketIo(client, conv) => socketio::send(&client, conv, text).await,
            ChannelSender::Nats(client, subject) => Ok(client.publish(subject, text.into()).await?),
            ChannelSender::JetStream(client, subject) => jetstream::publish(&client, subject, text).await,
        }
    }
}

/// A set-up peer: a sender per channel, receivers recording into the recorder, and what to close.
#[derive(Debug)]
pub enum Harness {
    Quip(quip::QuipHarness),
    SocketIo(socketio::SioHarness),
    Nats(nats::NatsHarness),
    JetStream(jetstream::JetStreamHarness),
}

impl Harness {
    pub fn senders(&self) -> Vec<ChannelSender> {
        match self {
            Harness::Quip(h) => h.senders().iter().map(|(c, conv)| ChannelSender::Quip(c.clone(), *conv)).collect(),
            Harness::SocketIo(h) => {
                h.senders().iter().map(|(c, conv)| ChannelSender::SocketIo(c.clone(), *conv)).collect()
            }
            Harness::Nats(h) => h.senders().iter().map(|(c, s)| ChannelSender::Nats(c.clone(), s.clone())).collect(),
            Harness::JetStream(h) => {
                h.senders().iter().map(|(c, s)| ChannelSender::JetStream(c.clone(), s.clone())).collect()
            }
        }
    }

    pub async fn close(self) {
        match self {
            Harness::Quip(h) => h.close().await,
            Harness::SocketIo(h) => h.close().await,
            Harness::Nats(h) => h.close().await,
            Harness::JetStream(h) => h.close().await,
        }
    }
}
