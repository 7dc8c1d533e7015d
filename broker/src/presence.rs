//! Presence and typing: who is online, and who is typing where. Both are ephemeral signals; presence
//! keeps `{status, last_seen_ms}` per user in the `presence` column family, typing is never stored.
//!
//! **Presence is per user over devices.** A user is online while any of their sessions is connected.
//! When the last one closes, the user goes offline only after a grace period ([`GRACE`]), so a device
//! that reconnects quickly (a network switch, an app restart) causes no offline/online pair of events.
//! The status a user chose (`SetPresence`: online, away, busy, invisible) is kept across sessions and
//! restarts. Invisible users are shown to everyone else as offline, with their last-seen time frozen at
//! the moment they went invisible; their own devices see the truth.
//!
//! **Who hears about it.** A `PresenceEvent` goes to the online devices of the users who share a
//! conversation with the user (computed from the store when the change happens: presence changes are
//! rare compared with messages) and to the sessions that asked to watch the user (`WatchPresence`;
//! watches belong to a session and end with it). Never to everyone connected.
//!
//! **Concurrency.** State lives in shards of `std::sync::Mutex<HashMap<user, UserState>>`; a lock is held
//! only to read or apply a change, never across `.await` and never while pushing to sessions. What a
//! change implies (persist the record, compute the audience, push the event) is a *job* that runs in a
//! task of its own, chained after the same user's previous job: one user's events leave in the order of
//! their changes, while different users' jobs run in parallel. (A single actor task would have made the
//! order trivial too, but would serialize every user's store reads behind one another.) Grace periods
//! are tokio sleeps that act only if the user's state has not changed since (a version counter). Every
//! task is counted, so that shutdown can cancel the timers and wait for the jobs before the store closes.

mod card;
mod shared;
#[cfg(test)]
mod tests;
mod typing;
mod watches;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quip_protocol::family::presence::{Presence as WirePresence, PresenceEvent, PresenceStatus};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::hub::{Hub, Outbound};
use crate::wire::frame;
use quip_store::model::UserId;
use quip_store::{ChosenStatus, PresenceRecord, Store, StoreError};
use shared::Sharded;

pub use card::Card;

/// How long a user whose last device disconnected still counts as online.
pub const GRACE: Duration = Duration::from_secs(5);
/// How long shutdown waits for presence jobs (persisting last-seen times) to finish.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Presence settings (not in the config file: tests shorten the grace period through
/// [`crate::Server::bind_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceConfig {
    /// How long a user stays online after their last device disconnected (ms).
    pub presence_grace_ms: u64,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self { presence_grace_ms: GRACE.as_millis() as u64 }
    }
}

/// The presence and typing state of every user; clone freely (it is shared).
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence").field("grace", &self.inner.grace).finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    hub: Arc<Hub>,
    grace: Duration,
    users: Sharded<HashMap<UserId, UserState>>,
    /// Watched user → the sessions watching them (watcher's user, session id).
    watchers: Sharded<HashMap<UserId, Vec<(UserId, u64)>>>,
    /// Session id → the users it watches (so that its watches end with it).
    watching: Sharded<HashMap<u64, HashSet<UserId>>>,
    typing: shared::Gate,
    /// The profile fields cards carry.
    card_fields: Vec<String>,
    tasks: Arc<TaskCount>,
    shutdown: watch::Sender<bool>,
}

/// One user's presence while they are online or within their grace period.
#[derive(Debug)]
struct UserState {
    /// Connected sessions.
    sessions: u32,
    status: ChosenStatus,
    /// The true last-seen time: the last connect or disconnect.
    last_seen_ms: u64,
    /// While invisible: the last-seen time everyone else sees.
    frozen_ms: Option<u64>,
    /// Counted as online: has sessions, or lost the last one less than the grace period ago.
    online: bool,
    /// Bumped on every change; a grace timer or an eviction acts only if it is unchanged.
    version: u64,
    /// The user's last job: the next one waits for it, so events leave in order.
    chain: Option<JoinHandle<()>>,
    /// Numbers the user's jobs: a job that finishes while still `chain` releases its own handle, so
    /// that a finished task's memory is not kept for as long as the user stays connected.
    jobs: u64,
    /// Name and token-given fields, from the latest session's profile.
    card: Arc<Card>,
}

impl UserState {
    fn from_record(rec: PresenceRecord, card: Arc<Card>) -> Self {
        let frozen_ms = (rec.status == ChosenStatus::Invisible).then_some(rec.last_seen_ms);
        Self {
            sessions: 0,
            status: rec.status,
            last_seen_ms: rec.last_seen_ms,
            frozen_ms,
            online: false,
            version: 0,
            chain: None,
            jobs: 0,
            card,
        }
    }

    /// What is persisted: the chosen status and the last-seen time others may see.
    fn record(&self) -> PresenceRecord {
        PresenceRecord { status: self.status, last_seen_ms: self.public_last_seen() }
    }

    fn public_last_seen(&self) -> u64 {
        self.frozen_ms.unwrap_or(self.last_seen_ms)
    }

    /// The status everyone else sees.
    fn public_status(&self) -> PresenceStatus {
        if !self.online || self.status == ChosenStatus::Invisible { PresenceStatus::Offline } else { wire(self.status) }
    }

    /// The presence everyone else sees.
    fn public(&self, user: &str) -> WirePresence {
        WirePresence {
            user_id: user.to_owned(),
            status: self.public_status(),
            last_seen_ms: self.public_last_seen(),
            devices: 0,
            display_name: self.card.display_name.clone(),
            fields: self.card.fields.clone(),
        }
    }

    /// The presence the user's own devices see.
    fn truth(&self, user: &str, devices: u32) -> WirePresence {
        let status = if self.online { wire(self.status) } else { PresenceStatus::Offline };
        WirePresence {
            user_id: user.to_owned(),
            status,
            last_seen_ms: self.last_seen_ms,
            devices,
            display_name: self.card.display_name.clone(),
            fields: self.card.fields.clone(),
        }
    }
}

/// The wire status of a chosen status.
pub fn wire(s: ChosenStatus) -> PresenceStatus {
    match s {
        ChosenStatus::Online => PresenceStatus::Online,
        ChosenStatus::Away => PresenceStatus::Away,
        ChosenStatus::Busy => PresenceStatus::Busy,
        ChosenStatus::Invisible => PresenceStatus::Invisible,
    }
}

/// The chosen status a client asks for (`Offline` is not a choice).
pub fn chosen(s: PresenceStatus) -> Option<ChosenStatus> {
    match s {
        PresenceStatus::Online => Some(ChosenStatus::Online),
        PresenceStatus::Away => Some(ChosenStatus::Away),
        PresenceStatus::Busy => Some(ChosenStatus::Busy),
        PresenceStatus::Invisible => Some(ChosenStatus::Invisible),
        _ => None,
    }
}

/// What one change implies, carried out after the lock is released.
#[derive(Debug)]
struct Job {
    user: UserId,
    /// Persist this record.
    record: Option<PresenceRecord>,
    /// Announce this to the users who share a conversation with the user and to the watchers.
    public: Option<WirePresence>,
    /// Announce this to the user's own sessions.
    own: Option<WirePresence>,
    /// Afterwards, forget the user's in-memory state if it is still offline at this version.
    evict_at: Option<u64>,
}

impl Job {
    fn new(user: &str) -> Self {
        Self { user: user.to_owned(), record: None, public: None, own: None, evict_at: None }
    }
}

/// Counts running tasks so that shutdown can wait for them.
#[derive(Debug, Default)]
struct TaskCount {
    running: AtomicUsize,
    idle: Notify,
}

/// One counted task; uncounts it when dropped (finished or aborted).
struct TaskGuard(Arc<TaskCount>);

impl TaskGuard {
    fn new(count: &Arc<TaskCount>) -> Self {
        count.running.fetch_add(1, Ordering::AcqRel);
        Self(count.clone())
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl TaskCount {
    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A session's part in its user's presence: dropping it (the session ended, or was aborted) counts the
/// session out and ends its watches.
#[derive(Debug)]
pub struct SessionPresence {
    presence: Presence,
    user: UserId,
    session_id: u64,
}

impl Drop for SessionPresence {
    fn drop(&mut self) {
        self.presence.disconnected(&self.user, self.session_id);
    }
}

impl Presence {
    /// `card_fields`: the profile fields presence carries beside the display name.
    pub fn new(store: Store, hub: Arc<Hub>, cfg: PresenceConfig, card_fields: Vec<String>) -> Self {
        let inner = Inner {
            store,
            hub,
            grace: Duration::from_millis(cfg.presence_grace_ms),
            users: Sharded::new(),
            watchers: Sharded::new(),
            watching: Sharded::new(),
            typing: shared::Gate::new(),
            card_fields,
            tasks: Arc::default(),
            shutdown: watch::channel(false).0,
        };
        Self { inner: Arc::new(inner) }
    }

    /// Whether `user` counts as online now (a live session, or one lost within the grace period),
    /// whatever status they show others: for the app's backend (quipd's admin API).
    pub fn is_online(&self, user: &str) -> bool {
        self.inner.users.lock(user).get(user).is_some_and(|s| s.online)
    }

    /// How many users count as online now (passive sessions, requests alone, never count).
    pub fn online_count(&self) -> usize {
        self.inner.users.sum(|users| users.values().filter(|s| s.online).count())
    }

    /// A session of `user` is connected (call after it is registered with the hub). The user's
    /// contacts hear that they came online, unless they already counted as online (another device, or
    /// a reconnect within the grace period). Keep the returned value for as long as the session lives.
    /// `card` (from the session's profile) becomes the user's card.
    pub async fn connect(&self, user: &str, session_id: u64, card: Arc<Card>) -> SessionPresence {
        let mut loaded: Option<PresenceRecord> = None;
        loop {
            {
                let mut shard = self.inner.users.lock(user);
                if let (false, Some(rec)) = (shard.contains_key(user), loaded.take()) {
                    shard.insert(user.to_owned(), UserState::from_record(rec, card.clone()));
                }
                if let Some(state) = shard.get_mut(user) {
                    let before = state.public_status();
                    state.card = card;
                    state.sessions += 1;
                    state.version += 1;
                    state.online = true;
                    state.last_seen_ms = crate::now_ms();
                    let mut job = Job::new(user);
                    job.record = Some(state.record());
                    job.public = (state.public_status() != before).then(|| state.public(user));
                    self.inner.enqueue(state, job);
                    break;
                }
            }
            // Not in memory: the stored record holds the status the user chose.
            loaded = Some(self.load(user).await);
        }
        tracing::debug!(user, session = session_id, "presence: session counted in");
        SessionPresence { presence: self.clone(), user: user.to_owned(), session_id }
    }

    async fn load(&self, user: &str) -> PresenceRecord {
        let store = self.inner.store.clone();
        let who = user.to_owned();
        match tokio::task::spawn_blocking(move || store.presence(&who)).await {
            Ok(Ok(rec)) => rec.unwrap_or_default(),
            Ok(Err(e)) => {
                tracing::warn!(user, error = %e, "presence: cannot read the stored record");
                PresenceRecord::default()
            }
            Err(e) => {
                tracing::warn!(user, error = %e, "presence: reading the stored record failed");
                PresenceRecord::default()
            }
        }
    }

    /// A session ended: its watches end; if it was the user's last, the grace period starts.
    fn disconnected(&self, user: &str, session_id: u64) {
        self.end_watches(session_id);
        let mut shard = self.inner.users.lock(user);
        let Some(state) = shard.get_mut(user) else { return };
        state.sessions = state.sessions.saturating_sub(1);
        state.version += 1;
        state.last_seen_ms = crate::now_ms();
        let mut job = Job::new(user);
        job.record = Some(state.record());
        self.inner.enqueue(state, job);
        if state.sessions == 0 {
            let (inner, who, version) = (self.inner.clone(), user.to_owned(), state.version);
            let mut stop = self.inner.shutdown.subscribe();
            self.inner.spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(inner.grace) => inner.grace_over(&who, version),
                    _ = stop.wait_for(|stopping| *stopping) => {}
                }
            });
        }
        tracing::debug!(user, session = session_id, sessions = state.sessions, "presence: session counted out");
    }

    /// Sets the status `user` chose. Returns false if the user has no session here.
    pub fn set_status(&self, user: &str, status: ChosenStatus) -> bool {
        let devices = self.devices(user);
        let mut shard = self.inner.users.lock(user);
        let Some(state) = shard.get_mut(user) else { return false };
        if state.status == status {
            return true;
        }
        let before = state.public_status();
        let now = crate::now_ms();
        if status == ChosenStatus::Invisible {
            // Others go on seeing the moment they went invisible.
            state.frozen_ms = Some(if state.online { now } else { state.public_last_seen() });
        } else if state.frozen_ms.take().is_some() && state.online {
            state.last_seen_ms = now;
        }
        state.status = status;
        state.version += 1;
        let mut job = Job::new(user);
        job.record = Some(state.record());
        job.public = (state.public_status() != before).then(|| state.public(user));
        job.own = Some(state.truth(user, devices));
        self.inner.enqueue(state, job);
        true
    }

    /// The distinct devices `user` has connected.
    fn devices(&self, user: &str) -> u32 {
        let Some(sessions) = self.inner.hub.sessions_of(user) else { return 0 };
        let distinct: HashSet<&str> = sessions.iter().map(|s| &*s.device_id).collect();
        u32::try_from(distinct.len()).unwrap_or(u32::MAX)
    }

    /// The presence of `users` as `caller` may see it: the truth (with `devices`) about the caller, the
    /// public view of everyone else; users not in memory are offline since their stored last-seen time.
    pub async fn lookup(&self, caller: &str, users: Vec<UserId>) -> Result<Vec<WirePresence>, StoreError> {
        let mut out: Vec<Option<WirePresence>> = Vec::with_capacity(users.len());
        let mut missing = Vec::new();
        for (i, user) in users.iter().enumerate() {
            let known = if user == caller {
                let devices = self.devices(user);
                self.inner.users.lock(user.as_str()).get(user).map(|s| s.truth(user, devices))
            } else {
                self.inner.users.lock(user.as_str()).get(user).map(|s| s.public(user))
            };
            if known.is_none() {
                missing.push(i);
            }
            out.push(known);
        }
        if !missing.is_empty() {
            let store = self.inner.store.clone();
            let ask: Vec<UserId> = missing.iter().filter_map(|&i| users.get(i).cloned()).collect();
            let read = tokio::task::spawn_blocking(move || {
                let profiles = ask.iter().map(|u| store.profile(u)).collect::<Result<Vec<_>, _>>()?;
                Ok::<_, StoreError>((store.presences(&ask)?, profiles))
            });
            let (records, profiles) = read.await.map_err(|e| StoreError::Db(e.to_string()))??;
            for ((&i, rec), profile) in missing.iter().zip(records).zip(profiles) {
                let last_seen_ms = rec.map_or(0, |r| r.last_seen_ms);
                let card = profile.map(|p| Card::of(&p, &self.inner.card_fields)).unwrap_or_default();
                if let (Some(slot), Some(user)) = (out.get_mut(i), users.get(i)) {
                    *slot = Some(WirePresence {
                        user_id: user.clone(),
                        status: PresenceStatus::Offline,
                        last_seen_ms,
                        devices: 0,
                        display_name: card.display_name,
                        fields: card.fields,
                    });
                }
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Those of `members` who are online and not invisible (the caller with their device count).
    pub fn online_among(&self, caller: &str, members: &[UserId]) -> Vec<WirePresence> {
        let mut out = Vec::new();
        for user in members {
            let devices = if user == caller { self.devices(user) } else { 0 };
            let shard = self.inner.users.lock(user.as_str());
            let Some(state) = shard.get(user) else { continue };
            if state.online && state.status != ChosenStatus::Invisible {
                out.push(if user == caller { state.truth(user, devices) } else { state.public(user) });
            }
        }
        out
    }

    /// Stops the grace timers and waits (a bounded time) for the jobs under way, so that every
    /// last-seen time is written before the store closes.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        if tokio::time::timeout(SHUTDOWN_WAIT, self.inner.tasks.wait_idle()).await.is_err() {
            tracing::warn!("presence: jobs still running at shutdown");
        }
    }
}

impl Inner {
    /// Runs `fut` as a counted task (nothing happens outside a tokio runtime).
    fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) -> Option<JoinHandle<()>> {
        let rt = tokio::runtime::Handle::try_current().ok()?;
        let guard = TaskGuard::new(&self.tasks);
        Some(rt.spawn(async move {
            fut.await;
            drop(guard);
        }))
    }

    /// Queues `job` after the user's previous one (called with the user's shard locked).
    fn enqueue(self: &Arc<Self>, state: &mut UserState, job: Job) {
        let previous = state.chain.take();
        state.jobs += 1;
        let ticket = state.jobs;
        let me = self.clone();
        state.chain = self.spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let user = job.user.clone();
            me.run(job).await;
            if let Some(state) = me.users.lock(user.as_str()).get_mut(&user)
                && state.jobs == ticket
            {
                state.chain = None;
            }
        });
    }

    /// The grace period after the user's last session ended is over: unless something changed since,
    /// the user is offline now.
    fn grace_over(self: &Arc<Self>, user: &str, version: u64) {
        let mut shard = self.users.lock(user);
        let Some(state) = shard.get_mut(user) else { return };
        if state.version != version || state.sessions > 0 {
            return;
        }
        let before = state.public_status();
        state.online = false;
        state.version += 1;
        let mut job = Job::new(user);
        job.public = (state.public_status() != before).then(|| state.public(user));
        job.evict_at = Some(state.version);
        self.enqueue(state, job);
        tracing::debug!(user, "presence: offline");
    }

    async fn run(self: &Arc<Self>, job: Job) {
        let store = self.store.clone();
        let (user, record, announce) = (job.user.clone(), job.record, job.public.is_some());
        let audience = tokio::task::spawn_blocking(move || {
            if let Some(rec) = record {
                if let Err(e) = store.put_presence(&user, &rec) {
                    tracing::warn!(user, error = %e, "presence: cannot store the record");
                }
            }
            if announce { audience(&store, &user) } else { Ok(Vec::new()) }
        })
        .await;
        let audience = match audience {
            Ok(Ok(users)) => users,
            Ok(Err(e)) => {
                tracing::warn!(user = %job.user, error = %e, "presence: cannot read the audience");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(user = %job.user, error = %e, "presence: job failed");
                Vec::new()
            }
        };
        if let Some(presence) = job.public {
            self.announce(&job.user, presence, &audience);
        }
        if let Some(presence) = job.own {
            let out = Outbound::Event(frame(0, PresenceEvent { presence }));
            self.hub.deliver(std::slice::from_ref(&job.user), &out);
        }
        if let Some(version) = job.evict_at {
            let mut shard = self.users.lock(job.user.as_str());
            if shard.get(&job.user).is_some_and(|s| s.version == version && s.sessions == 0 && !s.online) {
                shard.remove(&job.user);
            }
        }
    }

    /// Pushes the event (encoded once) to the audience's online sessions and to the watching sessions.
    fn announce(&self, user: &str, presence: WirePresence, audience: &[UserId]) {
        let out = Outbound::Event(frame(0, PresenceEvent { presence }));
        let sessions = self.hub.deliver(audience, &out) + self.push_to_watchers(user, &out, audience);
        metrics::counter!("quip_presence_events_total").increment(1);
        metrics::histogram!("quip_presence_fanout_sessions").record(sessions as f64);
    }
}

/// Everyone who shares a conversation with `user` (sorted, without the user).
fn audience(store: &Store, user: &str) -> Result<Vec<UserId>, StoreError> {
    let mut users = BTreeSet::new();
    for conv in store.user_convs(user)? {
        for (member, _) in store.members(conv)? {
            if member != user {
                users.insert(member);
            }
        }
    }
    Ok(users.into_iter().collect())
}
