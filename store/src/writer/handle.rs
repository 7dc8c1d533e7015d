//! The handle every requester holds: each call queues a command and awaits its reply.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::cmd::{Mark, NewMessage, Publish, Reply, WriteCmd};
use super::log::{CommandLog, EmbeddedLog};
use super::state::State;
use crate::config::StoreConfig;
use crate::model::{Ack, Context, ConvId, ConvMeta, Profile, UserId};
use crate::{Store, StoreError};

/// A handle to the writer; clone freely. Every request goes through its [`CommandLog`] (for the embedded
/// store, the writer thread's queue). When every handle is dropped the thread finishes the commands
/// already queued and exits.
#[derive(Debug, Clone)]
pub struct Writer {
    log: Arc<dyn CommandLog>,
}

impl Writer {
    /// Starts the writer thread.
    pub fn start(
        store: Store,
        cfg: &StoreConfig,
        publisher: impl Publish,
    ) -> Result<(Writer, std::thread::JoinHandle<()>), StoreError> {
        let (tx, rx) = mpsc::channel(cfg.queue);
        let mut state = State::load(store, cfg)?;
        let handle = std::thread::Builder::new()
            .name("quip-writer".into())
            .spawn(move || state.run(rx, publisher))
            .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok((Writer::on(Arc::new(EmbeddedLog::new(tx))), handle))
    }

    /// A handle on another log (a cluster's); [`Writer::start`] makes the embedded one.
    pub fn on(log: Arc<dyn CommandLog>) -> Self {
        Self { log }
    }

    pub(super) async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> WriteCmd) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.log.append(make(reply)).await?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues a send without waiting for it: the order of `enqueue_send` calls is the order in which
    /// the writer appends them. Await the returned receiver for the ack.
    pub async fn enqueue_send(
        &self,
        msg: NewMessage,
        now_ms: u64,
    ) -> Result<oneshot::Receiver<Result<(Ack, bool), StoreError>>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.log.append(WriteCmd::Send { msg, now_ms, reply }).await?;
        Ok(rx)
    }

    pub async fn send(&self, msg: NewMessage, now_ms: u64) -> Result<(Ack, bool), StoreError> {
        self.call(|reply| WriteCmd::Send { msg, now_ms, reply }).await
    }

    pub async fn open_direct(
        &self,
        a: UserId,
        b: UserId,
        context: Option<Context>,
        now_ms: u64,
    ) -> Result<(ConvId, bool), StoreError> {
        self.call(|reply| WriteCmd::OpenDirect { a, b, context, now_ms, reply }).await
    }

    pub async fn create_group(&self, meta: ConvMeta, members: Vec<UserId>) -> Result<ConvId, StoreError> {
        self.call(|reply| WriteCmd::CreateGroup { meta, members, reply }).await
    }

    /// Asks the writer thread to stop after the commands queued before this one.
    pub async fn shutdown(&self) {
        // An error means the writer has already stopped.
        let _ = self.log.append(WriteCmd::Shutdown).await;
    }

    pub async fn put_profile(&self, profile: Profile) -> Result<(), StoreError> {
        self.call(|reply| WriteCmd::PutProfile { profile, reply }).await
    }

    /// Moves a watermark; returns once the move (if any) is durable.
    pub async fn mark(&self, mark: Mark) -> Result<(), StoreError> {
        self.call(|reply| WriteCmd::Receipt { mark, reply }).await
    }
}
