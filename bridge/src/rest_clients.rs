//! Upstream sessions for REST callers: one per token, opened on the first request, shared by concurrent
//! requests with the same token, closed after `upstream.rest_idle_secs` without use. quipd still verifies
//! every token (a session is only opened by a Hello that quipd accepted, and it ends when the token
//! expires); the bridge keys sessions by the token's SHA-256 and never stores the token otherwise.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use quip_sdk::{Client, ConnectionState, Event, EventStream};
use tokio::sync::OnceCell;

use crate::error::ApiError;
use crate::upstream::{SessionParams, Upstream};

type Key = [u8; 32];

/// The REST callers' upstream sessions.
pub struct RestClients {
    upstream: Upstream,
    idle: Duration,
    /// Distinguishes this process's device ids from another bridge instance's (same token, same user).
    instance: String,
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
}

struct Entry {
    client: OnceCell<Client>,
    last_used: Mutex<Instant>,
}

impl fmt::Debug for RestClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClients").field("sessions", &lock(&self.entries).len()).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl RestClients {
    pub fn new(upstream: Upstream, idle: Duration) -> Self {
        let mut random = [0u8; 4];
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).is_err() {
            random = std::process::id().to_le_bytes();
        }
        Self { upstream, idle, instance: hex(&random), entries: Mutex::new(HashMap::new()) }
    }

    /// The session for `token`, opened if needed (an invalid token fails here with quipd's reason).
    pub async fn client(&self, token: &str) -> Result<Client, ApiError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        let entry = {
            let mut entries = lock(&self.entries);
            let stale =
                entries.get(&key).and_then(|e| e.client.get()).is_some_and(|c| c.state() == ConnectionState::Closed);
            if stale {
                entries.remove(&key);
            }
            entries
                .entry(key)
                .or_insert_with(|| Arc::new(Entry { client: OnceCell::new(), last_used: Mutex::new(Instant::now()) }))
                .clone()
        };
        *lock(&entry.last_used) = Instant::now();
        let connect = || async {
            let device_id = format!("web-rest-{}-{}", self.instance, hex(&key[..8]));
            let params = SessionParams {
                token: token.to_owned(),
                device_id,
                resume: None,
                report_delivered: false,
                reconnect: true,
                passive: true,
            };
            let (client, events) = self.upstream.connect(params).await?;
            tokio::spawn(drain(events));
            Ok::<_, ApiError>(client)
        };
        match entry.client.get_or_try_init(connect).await {
            Ok(client) => Ok(client.clone()),
            Err(e) => {
                let mut entries = lock(&self.entries);
                if entries.get(&key).is_some_and(|current| Arc::ptr_eq(current, &entry)) {
                    entries.remove(&key);
                }
                Err(e)
            }
        }
    }

    /// Closes sessions unused for the idle time; returns how many are left.
    pub async fn sweep(&self) -> usize {
        let now = Instant::now();
        let (idle, left): (Vec<Arc<Entry>>, usize) = {
            let mut entries = lock(&self.entries);
            let idle_keys: Vec<Key> = entries
                .iter()
                .filter(|(_, e)| now.duration_since(*lock(&e.last_used)) >= self.idle)
                .map(|(k, _)| *k)
                .collect();
            let idle = idle_keys.iter().filter_map(|k| entries.remove(k)).collect();
            (idle, entries.len())
        };
        for entry in idle {
            if let Some(client) = entry.client.get() {
                client.close().await;
            }
        }
        left
    }

    /// Closes every session (on shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Arc<Entry>> = lock(&self.entries).drain().map(|(_, e)| e).collect();
        for entry in all {
            if let Some(client) = entry.client.get() {
                client.close().await;
            }
        }
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How often [`sweep`](Self::sweep) should run.
    pub fn sweep_interval(&self) -> Duration {
        (self.idle / 2).max(Duration::from_secs(1))
    }
}

/// A REST session's events are not for anyone: read and drop them so quipd's stream keeps flowing.
async fn drain(mut events: EventStream) {
    while let Some(event) = events.next_event().await {
        if matches!(event, Event::Disconnected { will_reconnect: false, .. }) {
            break;
        }
    }
}
