//! Admission limits: how many connections a process holds, and how many of them may be in their handshake
//! (TLS, then authentication: the expensive part) at once. A connection over a limit is refused at once,
//! with a reason the caller turns into a close code, rather than queued.
//!
//! ```
//! use quip_service::admission::{Admission, AdmissionConfig, Refused};
//!
//! let admission = Admission::new(AdmissionConfig { max_connections: 2, max_handshakes: 1 })?;
//! let connection = admission.try_connection()?; // held for the connection's whole life
//! let handshake = admission.try_handshake()?; // held until the session is authenticated (or not)
//! assert_eq!(admission.try_handshake().unwrap_err(), Refused::TooManyHandshakes);
//! drop(handshake);
//! assert_eq!(admission.handshakes(), 0);
//! assert_eq!(admission.connections(), 1);
//! # drop(connection);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Concurrency: each limit is one atomic counter, taken with a compare-and-swap loop and released by the
//! permit's `Drop`; no lock, so admission costs the accept loop a few atomic operations and never waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// The name of the counter of refusals, labelled `limit` = `connections` or `handshakes`.
pub const REFUSED_METRIC: &str = "quip_admission_refused_total";

/// The limits. Zero is not "unlimited": it is rejected by [`AdmissionConfig::validate`], because an
/// unset or mistyped setting must not silently remove the protection (nor refuse every connection).
/// For no practical limit, say so with a large number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionConfig {
    /// Connections held at once, from accept to close (at least 1).
    pub max_connections: usize,
    /// Connections in their handshake at once (at least 1). Above `max_connections` it never binds.
    pub max_handshakes: usize,
}

/// A configuration [`Admission::new`] cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    #[error("admission: {setting} must be at least 1 (zero does not mean unlimited)")]
    Zero { setting: &'static str },
}

impl AdmissionConfig {
    /// Checks that every limit is at least 1.
    pub fn validate(&self) -> Result<(), AdmissionError> {
        if self.max_connections == 0 {
            return Err(AdmissionError::Zero { setting: "max_connections" });
        }
        if self.max_handshakes == 0 {
            return Err(AdmissionError::Zero { setting: "max_handshakes" });
        }
        Ok(())
    }
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    #[error("too many connections")]
    TooManyConnections,
    #[error("too many handshakes in progress")]
    TooManyHandshakes,
}

impl Refused {
    /// The `limit` label of [`REFUSED_METRIC`]: `connections` or `handshakes`.
    pub fn limit(self) -> &'static str {
        match self {
            Refused::TooManyConnections => "connections",
            Refused::TooManyHandshakes => "handshakes",
        }
    }
}

/// The counters, shared by the [`Admission`] and its permits.
#[derive(Debug)]
struct Counters {
    config: AdmissionConfig,
    connections: AtomicUsize,
    handshakes: AtomicUsize,
}

/// Hands out permits within the limits. Cheap to clone (one `Arc`); clones share the counters.
#[derive(Debug, Clone)]
pub struct Admission {
    counters: Arc<Counters>,
}

/// One admitted connection; the slot is given back when this is dropped.
#[derive(Debug)]
#[must_use = "the connection slot is released as soon as the permit is dropped"]
pub struct ConnectionPermit {
    counters: Arc<Counters>,
}

/// One handshake in progress; the slot is given back when this is dropped.
#[derive(Debug)]
#[must_use = "the handshake slot is released as soon as the permit is dropped"]
pub struct HandshakePermit {
    counters: Arc<Counters>,
}

impl Admission {
    pub fn new(config: AdmissionConfig) -> Result<Self, AdmissionError> {
        config.validate()?;
        let counters = Counters { config, connections: AtomicUsize::new(0), handshakes: AtomicUsize::new(0) };
        Ok(Self { counters: Arc::new(counters) })
    }

    pub fn config(&self) -> AdmissionConfig {
        self.counters.config
    }

    /// A connection slot, or [`Refused::TooManyConnections`] when `max_connections` are held.
    pub fn try_connection(&self) -> Result<ConnectionPermit, Refused> {
        let c = &self.counters;
        take(&c.connections, c.config.max_connections, Refused::TooManyConnections)?;
        Ok(ConnectionPermit { counters: c.clone() })
    }

    /// A handshake slot, or [`Refused::TooManyHandshakes`] when `max_handshakes` are in progress.
    pub fn try_handshake(&self) -> Result<HandshakePermit, Refused> {
        let c = &self.counters;
        take(&c.handshakes, c.config.max_handshakes, Refused::TooManyHandshakes)?;
        Ok(HandshakePermit { counters: c.clone() })
    }

    /// Connections admitted and not yet closed.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Handshakes in progress.
    pub fn handshakes(&self) -> usize {
        self.counters.handshakes.load(Ordering::Relaxed)
    }
}

/// Takes a slot of `counter` if fewer than `max` are taken. `Relaxed` is enough: the counter guards no
/// other data, and read-modify-writes of one atomic are totally ordered whatever the ordering, so the
/// limit holds exactly.
fn take(counter: &AtomicUsize, max: usize, refused: Refused) -> Result<(), Refused> {
    match counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1)) {
        Ok(_) => Ok(()),
        Err(_) => {
            ::metrics::counter!(REFUSED_METRIC, "limit" => refused.limit()).increment(1);
            tracing::debug!(limit = refused.limit(), max, "admission refused");
            Err(refused)
        }
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.counters.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for HandshakePermit {
    fn drop(&mut self) {
        self.counters.handshakes.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicU64;

    use ::metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

    use super::*;

    fn admission(max_connections: usize, max_handshakes: usize) -> Admission {
        Admission::new(AdmissionConfig { max_connections, max_handshakes }).unwrap()
    }

    /// Counts counters by key, for the one thread that installs it.
    #[derive(Debug, Default)]
    struct Counts(Mutex<HashMap<String, Arc<AtomicU64>>>);

    impl Counts {
        fn get(&self, key: &str) -> u64 {
            self.0.lock().unwrap().get(key).map_or(0, |c| c.load(Ordering::Relaxed))
        }
    }

    impl Recorder for Counts {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.0.lock().unwrap().entry(key.to_string()).or_default().clone())
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn zero_limits_are_rejected() {
        let zero_conns = AdmissionConfig { max_connections: 0, max_handshakes: 1 };
        assert_eq!(Admission::new(zero_conns).unwrap_err(), AdmissionError::Zero { setting: "max_connections" });
        let zero_hs = AdmissionConfig { max_connections: 1, max_handshakes: 0 };
        let err = Admission::new(zero_hs).unwrap_err();
        assert_eq!(err.to_string(), "admission: max_handshakes must be at least 1 (zero does not mean unlimited)");
    }

    #[test]
    fn limits_are_honoured_and_permits_release_on_drop() {
        let a = admission(3, 2);
        let conns: Vec<_> = (0..3).map(|_| a.try_connection().unwrap()).collect();
        assert_eq!(a.try_connection().unwrap_err(), Refused::TooManyConnections);
        let hs: Vec<_> = (0..2).map(|_| a.try_handshake().unwrap()).collect();
        assert_eq!(a.try_handshake().unwrap_err(), Refused::TooManyHandshakes);
        assert_eq!((a.connections(), a.handshakes()), (3, 2));
        drop(hs);
        assert_eq!(a.handshakes(), 0);
        let mut conns = conns.into_iter();
        drop(conns.next());
        assert_eq!(a.connections(), 2);
        let again = a.try_connection().unwrap();
        assert_eq!(a.try_connection().unwrap_err(), Refused::TooManyConnections);
        drop((again, conns));
        assert_eq!((a.connections(), a.handshakes()), (0, 0));
        assert_eq!(a.config(), AdmissionConfig { max_connections: 3, max_handshakes: 2 });
    }

    #[test]
    fn refusals_are_counted_by_limit() {
        let counts = Counts::default();
        ::metrics::with_local_recorder(&counts, || {
            let a = admission(1, 1);
            let _conn = a.try_connection().unwrap();
            let _hs = a.try_handshake().unwrap();
            for _ in 0..3 {
                assert!(a.try_connection().is_err());
            }
            assert!(a.try_handshake().is_err());
        });
        assert_eq!(counts.get("Key(quip_admission_refused_total, [limit = connections])"), 3);
        assert_eq!(counts.get("Key(quip_admission_refused_total, [limit = handshakes])"), 1);
    }

    #[test]
    fn the_limit_holds_under_contention() {
        let a = admission(10, 10);
        let admitted = AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..1000 {
                        if let Ok(permit) = a.try_connection() {
                            let now = admitted.fetch_add(1, Ordering::SeqCst) + 1;
                            assert!(now <= 10, "{now} connections admitted");
                            admitted.fetch_sub(1, Ordering::SeqCst);
                            drop(permit);
                        }
                    }
                });
            }
        });
        assert_eq!(a.connections(), 0);
    }
}
