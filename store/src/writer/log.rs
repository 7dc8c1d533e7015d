//! The store's write boundary: where the writer's commands go to be made durable, in order.
//!
//! The embedded store's log is the bounded queue of its one writer thread (`commit.rs`), which applies
//! each command to RocksDB and answers it once the batch is on disk. A cluster's log would be a
//! replicated one (NATS JetStream, a later issue) whose consumer applies the same commands to each node's
//! RocksDB: reads keep going to the local [`Store`](crate::Store), so this is the one seam it needs.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

use super::cmd::WriteCmd;
use crate::StoreError;

/// A future the log returns; boxed so that the handle can hold any log behind one pointer.
pub type Appending<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// Takes the writer's commands in the order they are appended. A command's reply (its oneshot) is
/// answered once what it wrote is durable; `append` itself only waits while the log is full, so the
/// order of `append` calls is the order in which the commands are applied.
pub trait CommandLog: Send + Sync + std::fmt::Debug + 'static {
    /// Appends `cmd` after every command appended before it. `Closed` once the log has stopped.
    fn append(&self, cmd: WriteCmd) -> Appending<'_>;
}

/// The embedded store's log: the bounded queue of the local writer thread (`store.queue` commands; a
/// full queue makes requesters wait, which slows sessions down rather than buffering without end).
#[derive(Debug)]
pub struct EmbeddedLog {
    tx: mpsc::Sender<WriteCmd>,
}

impl EmbeddedLog {
    pub(super) fn new(tx: mpsc::Sender<WriteCmd>) -> Self {
        Self { tx }
    }
}

impl CommandLog for EmbeddedLog {
    fn append(&self, cmd: WriteCmd) -> Appending<'_> {
        Box::pin(async move { self.tx.send(cmd).await.map_err(|_| StoreError::Closed) })
    }
}
