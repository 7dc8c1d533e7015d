//! The database handle: opening RocksDB with its column families, flushing and closing it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::{ColumnFamilyDescriptor, DB, Options};

use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::keys;

/// Shared read access to the store; clone freely.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Arc<DB>,
    /// The store-wide position of the last committed message, published by the writer after commit.
    pub(crate) committed_lsn: Arc<AtomicU64>,
    /// A write failed for want of disk space: RocksDB refuses writes until it is reopened.
    pub(crate) full: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.db.path()).finish_non_exhaustive()
    }
}

/// A column family's options. Most reads on the send path are point lookups of keys that are not
/// there (an idempotency key on every new message, a block, a receipt never given): a whole-key Bloom
/// filter in each table file answers those without searching it. A memtable gets a Bloom filter of its
/// own only where such lookups reach it (`memtable_bloom`: the idempotency index; the writer's caches
/// answer the others), because the filter is sized from the write buffer, not from what the memtable
/// holds: 1.6 MiB in each of 22 memtables, most of them nearly empty, filled the shared memtable budget
/// by themselves and made RocksDB flush a memtable of a few entries about once a second (each flush an
/// fsync beside the WAL's; BENCHMARKS.md, "Soak").
fn cf_options(cache: &rocksdb::Cache, write_buffer: usize, memtable_bloom: bool) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    // Index and filter blocks are charged to the block cache (those of level 0 pinned there, as they are
    // read for every lookup): without this every table file's are held outside any bound, and the
    // memory they take grows with the data.
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_bloom_filter(10.0, false);
    table.set_whole_key_filtering(true);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    if memtable_bloom {
        opts.set_memtable_prefix_bloom_ratio(0.05);
        opts.set_memtable_whole_key_filtering(true);
    }
    opts.set_write_buffer_size(write_buffer);
    opts
}

/// What RocksDB holds in memory, in bytes ([`Store::memory`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreMemory {
    /// Every column family's memtables (bounded by `store.memtable_mib`).
    pub memtables: u64,
    /// The block cache, index and filter blocks included (bounded by `store.block_cache_mib`).
    pub block_cache: u64,
    /// Table readers outside the cache.
    pub table_readers: u64,
}

impl Store {
    /// Opens (creating if needed) the store under `dir`.
    pub fn open(dir: &Path, cfg: &StoreConfig) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        // One memtable budget for every column family, and the WAL kept to a few times it: old WAL files
        // are released once every column family with data in them has flushed it.
        let budget = cfg.memtable_mib.max(1) << 20;
        opts.set_db_write_buffer_size(budget);
        opts.set_max_total_wal_size(4 * budget as u64);
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        opts.increase_parallelism(2);
        // Flushes and compactions write their table files out a MiB at a time (sync_file_range) instead
        // of leaving the OS a burst of dirty pages that the WAL's next fsync would queue behind.
        opts.set_bytes_per_sync(1 << 20);
        let cache = rocksdb::Cache::new_lru_cache(cfg.block_cache_mib.max(1) << 20);
        let cfs = keys::ALL
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(&cache, budget / 2, *name == keys::IDEM)));
        let db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        let store = Self { db: Arc::new(db), committed_lsn: Arc::new(AtomicU64::new(0)), full: Arc::default() };
        let next_lsn = store.meta_u64(keys::NEXT_LSN)?;
        store.committed_lsn.store(next_lsn.saturating_sub(1), Ordering::Release);
        Ok(store)
    }

    /// The store-wide position of the newest committed message (0: none yet).
    pub fn global_cursor(&self) -> u64 {
        self.committed_lsn.load(Ordering::Acquire)
    }

    /// False once a write failed for want of disk space: nothing more is stored until a restart
    /// (readiness reports it).
    pub fn writable(&self) -> bool {
        !self.full.load(Ordering::Acquire)
    }

    /// What RocksDB holds in memory now (its properties; no I/O).
    pub fn memory(&self) -> StoreMemory {
        let mut m = StoreMemory::default();
        let int = |cf, name: &str| self.db.property_int_value_cf(cf, name).ok().flatten().unwrap_or(0);
        for name in keys::ALL {
            if let Some(cf) = self.db.cf_handle(name) {
                m.memtables += int(cf, "rocksdb.cur-size-all-mem-tables");
                m.table_readers += int(cf, "rocksdb.estimate-table-readers-mem");
                // One cache for every column family of the store (the default one has a cache of its own).
                m.block_cache = int(cf, "rocksdb.block-cache-usage");
            }
        }
        m
    }

    /// Flushes memtables and the WAL to disk (shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_wal(true)?;
        for name in keys::ALL {
            if let Some(cf) = self.db.cf_handle(name) {
                self.db.flush_cf(&cf)?;
            }
        }
        Ok(())
    }

    /// Closes the database once this is its last handle, waiting up to `wait` for the others to be
    /// dropped (blocking reads finishing). RocksDB's close waits for its background flushes and
    /// compactions. Blocking: call it from a blocking thread.
    pub fn close(self, wait: std::time::Duration) -> Result<(), StoreError> {
        let deadline = std::time::Instant::now() + wait;
        while Arc::strong_count(&self.db) > 1 {
            if std::time::Instant::now() >= deadline {
                return Err(StoreError::Db(format!(
                    "{} other handles still open after {wait:?}",
                    Arc::strong_count(&self.db) - 1
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        match Arc::into_inner(self.db) {
            Some(db) => {
                db.cancel_all_background_work(true);
                drop(db);
                Ok(())
            }
            None => Err(StoreError::Db("another handle appeared while closing".into())),
        }
    }

    pub(crate) fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db.cf_handle(name).ok_or(StoreError::Corrupt(name))
    }

    pub(crate) fn meta_u64(&self, key: &[u8]) -> Result<u64, StoreError> {
        let cf = self.cf(keys::META)?;
        Ok(self.db.get_cf(&cf, key)?.as_deref().and_then(keys::read_u64).unwrap_or(0))
    }

    /// Direct access for tests that check what is on disk.
    pub fn raw_db(&self) -> &DB {
        &self.db
    }
}
