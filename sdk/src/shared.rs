//! What the app's handles and the connection task share, and where the client stands.
//!
//! Concurrency: plain `std` mutexes, each held only for a copy or a map update and never across an
//! `.await`, so the app's handles never wait on the network.

use std::sync::{Arc, Mutex};

use quip_protocol::family::session::Welcome;
use tokio::sync::watch;

use crate::cursors::CursorTracker;
use crate::receipts::DeliveryReports;
use crate::sync::lock;
use crate::{ClientConfig, Error};

/// Where the client stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    Connected,
    /// Between sessions: sends are queued, other requests fail with [`Error::Disconnected`].
    Reconnecting,
    /// Finished: every request fails (with the error that ended the client).
    Closed,
}

/// What the app's handles and the driver share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The token for the next `Hello` (updated by `refresh_token`).
    pub(crate) token: Mutex<String>,
    pub(crate) tracker: Mutex<CursorTracker>,
    pub(crate) welcome: Mutex<Option<Welcome>>,
    /// Why the client finished, once it has.
    pub(crate) terminal: Mutex<Option<Error>>,
    pub(crate) state: watch::Sender<ConnectionState>,
    /// Messages the app took whose delivery is not reported yet (shared with the `EventStream`).
    pub(crate) reports: Arc<DeliveryReports>,
}

impl Shared {
    pub(crate) fn new(config: &ClientConfig) -> Self {
        Self {
            token: Mutex::new(config.token.clone()),
            tracker: Mutex::new(CursorTracker::from_resume(config.resume.as_ref())),
            welcome: Mutex::new(None),
            terminal: Mutex::new(None),
            state: watch::Sender::new(ConnectionState::Connected),
            reports: Arc::default(),
        }
    }

    pub(crate) fn terminal_error(&self) -> Error {
        lock(&self.terminal).clone().unwrap_or(Error::Closed)
    }
}
