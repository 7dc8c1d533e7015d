//! quipd's Rust heap, as its allocator (jemalloc, `main.rs`) counts it: what is allocated against what
//! the process holds for it. A gap that grows between them is fragmentation, an `allocated` that grows
//! is memory in use. RocksDB's C++ allocations are not in it (glibc's `malloc`; `quip_store_memory_bytes`
//! has their main parts).

/// The heap's figures, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heap {
    /// Bytes the program has allocated and not freed.
    pub allocated: u64,
    /// Bytes of physical memory the allocator holds (allocated, its metadata, and free pages not yet
    /// given back).
    pub resident: u64,
    /// Bytes mapped by the allocator and given back to the OS without unmapping (not resident).
    pub retained: u64,
}

/// The heap's figures now, or `None` when the allocator cannot say (not built with jemalloc's stats).
pub fn now() -> Option<Heap> {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The statistics are a snapshot taken at each epoch advance.
    epoch::advance().ok()?;
    let bytes = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Some(Heap {
        allocated: bytes(stats::allocated::read().ok()?),
        resident: bytes(stats::resident::read().ok()?),
        retained: bytes(stats::retained::read().ok()?),
    })
}
