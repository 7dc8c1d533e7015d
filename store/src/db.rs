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

/// One block cache for every column family.
const BLOCK_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// A column family's options. Most reads on the send path are point lookups of keys that are not
/// there (an idempotency key on every new message, a block, a receipt never given): a whole-key Bloom
/// filter in each table file and in the memtable answers those without searching them.
fn cf_options(cache: &rocksdb::Cache) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    table.set_whole_key_filtering(true);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_memtable_prefix_bloom_ratio(0.05);
    opts.set_memtable_whole_key_filtering(true);
    opts
}

impl Store {
    /// Opens (creating if needed) the store under `dir`.
    pub fn open(dir: &Path, _cfg: &StoreConfig) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        opts.increase_parallelism(2);
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = keys::ALL.iter().map(|name| ColumnFamilyDescriptor::new(*name, cf_options(&cache)));
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
