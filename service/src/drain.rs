//! Graceful shutdown under a deadline, in the style of linkerd2-proxy's `drain`: the owner of a [`Drain`]
//! signals "stop accepting"; everything that serves traffic holds a [`Watch`], awaits that signal, and
//! holds a [`DrainGuard`] while it still has work; the owner then waits for every guard to be released,
//! but not past a deadline, and learns how much work was left behind ([`DrainOutcome`]).
//!
//! ```
//! # async fn run() {
//! use std::time::Duration;
//!
//! use quip_service::drain::{Drain, DrainOutcome};
//!
//! let drain = Drain::new();
//! let watch = drain.watch();
//! tokio::spawn(async move {
//!     // One connection: its guard keeps the drain waiting until it said goodbye.
//!     let Some(guard) = watch.guard() else { return };
//!     watch.signaled().await;
//!     // ... tell the peer, flush what is queued ...
//!     drop(guard);
//! });
//! let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
//! match drain.drain(deadline).await {
//!     DrainOutcome::Completed => {}
//!     DrainOutcome::TimedOut { remaining } => eprintln!("{remaining} connections cut short"),
//!     _ => {}
//! }
//! # }
//! ```
//!
//! Concurrency: the whole state is one atomic word (a "draining" bit and the number of guards) plus two
//! `tokio::sync::Notify`s; nothing is locked, so nothing can be held across an `.await`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio::time::Instant;

/// The top bit of [`State::word`]: set once the drain started, never cleared.
const DRAINING: usize = 1 << (usize::BITS - 1);

/// What a [`Drain`] and its watches and guards share.
#[derive(Debug, Default)]
struct State {
    /// The [`DRAINING`] bit and, below it, the number of live guards. One word, so that taking a guard and
    /// starting the drain are ordered against each other by a single atomic operation: a guard is either
    /// counted before the drain starts (and waited for) or refused.
    word: AtomicUsize,
    /// Woken (every waiter) when the drain starts.
    signal: Notify,
    /// Woken (every waiter) when the last guard goes while draining.
    released: Notify,
}

impl State {
    fn is_draining(&self) -> bool {
        self.word.load(Ordering::Acquire) & DRAINING != 0
    }

    fn guards(&self) -> usize {
        self.word.load(Ordering::Acquire) & !DRAINING
    }

    /// Sets the draining bit and wakes the watchers; true the first time.
    fn start(&self) -> bool {
        let first = self.word.fetch_or(DRAINING, Ordering::AcqRel) & DRAINING == 0;
        // `notify_waiters` wakes only futures already registered; `Watch::signaled` registers before it
        // reads the bit, so a watcher sees either the bit or this wake-up.
        self.signal.notify_waiters();
        first
    }
}

/// The owner's side: starts the drain and waits for it. Dropping it without draining starts the drain
/// too (nobody is left to wait, but watchers are not left waiting forever).
#[derive(Debug, Default)]
pub struct Drain {
    state: Arc<State>,
}

/// A holder's side: learns that the drain started and takes guards while it has work. Cheap to clone
/// (one `Arc`); holding a `Watch` does not by itself hold up the drain, only its guards do.
#[derive(Debug, Clone)]
pub struct Watch {
    state: Arc<State>,
}

/// Work in progress: the drain waits until every guard is dropped (or its deadline passes).
#[derive(Debug)]
#[must_use = "the drain waits only for guards that are held"]
pub struct DrainGuard {
    state: Arc<State>,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DrainOutcome {
    /// Every guard was released before the deadline.
    Completed,
    /// The deadline passed with `remaining` guards still held (their work goes on unless the caller stops
    /// it, e.g. by closing the connections).
    TimedOut { remaining: usize },
}

impl DrainOutcome {
    pub fn is_completed(self) -> bool {
        matches!(self, DrainOutcome::Completed)
    }
}

impl Drain {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new watch of this drain.
    pub fn watch(&self) -> Watch {
        Watch { state: self.state.clone() }
    }

    /// Starts the drain without waiting: new guards are refused from now on and every
    /// [`Watch::signaled`] resolves. Calling it again does nothing.
    pub fn signal(&self) {
        if self.state.start() {
            tracing::info!(guards = self.state.guards(), "drain started");
        }
    }

    /// Whether the drain started.
    pub fn is_draining(&self) -> bool {
        self.state.is_draining()
    }

    /// Guards held right now.
    pub fn guards(&self) -> usize {
        self.state.guards()
    }

    /// Starts the drain (if [`Drain::signal`] did not already) and waits until every guard is released or
    /// `deadline` passes, whichever comes first. It may be called again, e.g. with a shorter deadline
    /// after the caller closed what the first one left behind.
    pub async fn drain(&self, deadline: Instant) -> DrainOutcome {
        self.signal();
        let released = async {
            loop {
                // Registered before the count is read, so a last guard dropped in between is not missed.
                let notified = self.state.released.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.state.guards() == 0 {
                    return;
                }
                notified.await;
            }
        };
        match tokio::time::timeout_at(deadline, released).await {
            Ok(()) => {
                tracing::info!("drain completed");
                DrainOutcome::Completed
            }
            Err(_) => {
                let remaining = self.state.guards();
                tracing::warn!(remaining, "drain deadline passed with work still in progress");
                DrainOutcome::TimedOut { remaining }
            }
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        self.state.start();
    }
}

impl Watch {
    /// Whether the drain started.
    pub fn is_draining(&self) -> bool {
        self.state.is_draining()
    }

    /// Resolves once the drain started (at once if it already has).
    pub async fn signaled(&self) {
        let notified = self.state.signal.notified();
        tokio::pin!(notified);
        // Registered before the bit is read: see `State::start`.
        notified.as_mut().enable();
        if self.state.is_draining() {
            return;
        }
        notified.await;
    }

    /// A guard for new work, or `None` once the drain started (stop accepting). The check and the count
    /// are one compare-and-swap, so no guard slips in after the drain counted what it waits for.
    pub fn guard(&self) -> Option<DrainGuard> {
        self.state
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| (word & DRAINING == 0).then_some(word + 1))
            .ok()
            .map(|_| DrainGuard { state: self.state.clone() })
    }
}

impl DrainGuard {
    /// Whether the drain started (the work under this guard should wind down).
    pub fn is_draining(&self) -> bool {
        self.state.is_draining()
    }
}

/// A clone is more of the same work (e.g. a connection's last flush in its own task): it is counted even
/// while draining, since the drain cannot have finished while this guard is held.
impl Clone for DrainGuard {
    fn clone(&self) -> Self {
        self.state.word.fetch_add(1, Ordering::AcqRel);
        Self { state: self.state.clone() }
    }
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        let before = self.state.word.fetch_sub(1, Ordering::AcqRel);
        // Only the last guard of a started drain has someone to wake; the common case stays one atomic op.
        if before == DRAINING | 1 {
            self.state.released.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[tokio::test]
    async fn a_drain_without_guards_completes_at_once() {
        let drain = Drain::new();
        let watch = drain.watch();
        assert!(!watch.is_draining());
        assert_eq!(drain.drain(soon(10_000)).await, DrainOutcome::Completed);
        assert!(watch.is_draining() && drain.is_draining());
        tokio::time::timeout(Duration::from_secs(1), watch.signaled()).await.unwrap();
    }

    #[tokio::test]
    async fn the_drain_completes_when_the_guards_drop() {
        let drain = Drain::new();
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let watch = drain.watch();
            let guard = watch.guard().unwrap();
            tasks.push(tokio::spawn(async move {
                watch.signaled().await;
                tokio::time::sleep(Duration::from_millis(5 * i)).await;
                drop(guard);
            }));
        }
        assert_eq!(drain.guards(), 8);
        let outcome = drain.drain(soon(10_000)).await;
        assert!(outcome.is_completed(), "{outcome:?}");
        assert_eq!(drain.guards(), 0);
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_drain_times_out_and_reports_what_is_left() {
        let drain = Drain::new();
        let watch = drain.watch();
        let held = [watch.guard().unwrap(), watch.guard().unwrap()];
        let released = watch.guard().unwrap();
        drop(released);
        let started = Instant::now();
        assert_eq!(drain.drain(soon(50)).await, DrainOutcome::TimedOut { remaining: 2 });
        assert!(started.elapsed() >= Duration::from_millis(50));
        // A second round once the stragglers are dealt with.
        drop(held);
        assert_eq!(drain.drain(soon(10_000)).await, DrainOutcome::Completed);
    }

    #[tokio::test]
    async fn no_new_guard_once_draining_but_held_work_may_fork() {
        let drain = Drain::new();
        let watch = drain.watch();
        let guard = watch.guard().unwrap();
        drain.signal();
        assert!(watch.guard().is_none(), "stop accepting");
        assert!(guard.is_draining());
        let forked = guard.clone();
        assert_eq!(drain.guards(), 2);
        drop(guard);
        let waiting = tokio::spawn({
            let watch = watch.clone();
            async move {
                drop(forked);
                watch.signaled().await;
            }
        });
        assert_eq!(drain.drain(soon(10_000)).await, DrainOutcome::Completed);
        waiting.await.unwrap();
    }

    #[tokio::test]
    async fn watchers_wake_when_the_drain_starts_or_the_owner_goes() {
        let drain = Drain::new();
        let watch = drain.watch();
        let waiter = tokio::spawn({
            let watch = watch.clone();
            async move { watch.signaled().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(drain);
        tokio::time::timeout(Duration::from_secs(1), waiter).await.unwrap().unwrap();
        assert!(watch.is_draining() && watch.guard().is_none());
    }
}
