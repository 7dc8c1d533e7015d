//! The store's settings (the `[store]` section of quipd's configuration).

use serde::{Deserialize, Serialize};

/// How hard a write is pushed to disk before a send is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Durability {
    /// fsync the write-ahead log before acknowledging (survives power loss).
    Fsync,
    /// Write the WAL to the OS before acknowledging (survives a process crash, not power loss).
    Wal,
    /// No WAL at all: for benchmarks only; a crash loses acknowledged messages.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub durability: Durability,
    /// Most sends grouped into one RocksDB write batch.
    pub max_batch: usize,
    /// Bound of the queue of writes waiting for the writer.
    pub queue: usize,
    /// Most memory, in MiB, that RocksDB's memtables (writes not yet flushed to table files) may take,
    /// all column families together; past it the largest is flushed. Without a budget every one of the
    /// store's column families could hold two 64 MiB memtables, so quipd's memory would grow for a long
    /// time under steady traffic.
    pub memtable_mib: usize,
    /// The block cache (table blocks read, with every table file's index and filter blocks), in MiB.
    pub block_cache_mib: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { durability: Durability::Fsync, max_batch: 512, queue: 8192, memtable_mib: 64, block_cache_mib: 64 }
    }
}
