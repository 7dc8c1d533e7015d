//! The sharded maps presence and typing keep their state in.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use quip_store::model::{ConvId, UserId};

/// Shards per map: enough that unrelated users rarely share a lock.
const SHARDS: usize = 32;

/// A fixed number of mutex-protected maps, picked by the hash of a key.
pub(super) struct Sharded<T> {
    shards: Box<[Mutex<T>]>,
    hasher: RandomState,
}

impl<T: Default> Sharded<T> {
    pub(super) fn new() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(T::default())).collect(), hasher: RandomState::new() }
    }

    pub(super) fn lock<K: Hash + ?Sized>(&self, key: &K) -> MutexGuard<'_, T> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sum of `count` over every shard, each locked in turn (never two at once).
    pub(super) fn sum(&self, count: impl Fn(&T) -> usize) -> usize {
        self.shards.iter().map(|shard| count(&shard.lock().unwrap_or_else(|e| e.into_inner()))).sum()
    }
}

/// When each (user, conversation) last had an active signal forwarded.
pub(super) struct Gate {
    pub(super) forwarded: Sharded<HashMap<(UserId, ConvId), Instant>>,
}

impl Gate {
    pub(super) fn new() -> Self {
        Self { forwarded: Sharded::new() }
    }
}
