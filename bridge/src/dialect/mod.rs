//! Dialects: how a legacy app's Socket.IO events, payload fields, rooms and REST routes map onto the
//! bridge's canonical vocabulary ([`canonical`], docs/BRIDGE.md), both ways.
//!
//! A dialect is data — `bridge/dialects/<name>.toml`, documented in docs/DIALECTS.md — with a few named
//! Rust [`hooks`] for what data cannot say. This module is pure: no sockets, no async. The core uses it so:
//!
//! - a client event: [`Dialect::inbound`] gives the canonical operation and payload; after running it,
//!   [`Dialect::reply`] (or [`Dialect::reply_error`]) says what to answer (ack value, reply events);
//! - a canonical event for a socket's user: [`Dialect::outbound_with`] gives the legacy events to emit
//!   (zero or more), each with the legacy room it belongs to;
//! - a REST request: [`Dialect::rest`] gives the canonical operation, [`Dialect::rest_response`] and
//!   [`Dialect::rest_error`] the legacy response body;
//! - [`Dialect::connect_spec`] says where the handshake carries the token, [`Dialect::rooms`] how rooms are
//!   named.

mod builtin;
pub mod canonical;
mod connect;
mod error;
pub mod hooks;
mod inbound;
mod mapping;
mod outbound;
mod path;
mod rest;
mod rooms;
mod spec;
mod time;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use builtin::{BUILTIN, builtin};
pub use connect::{Connect, TokenSource, bearer};
pub use error::DialectError;
pub use hooks::{Hook, ValueHook};
pub use inbound::{Inbound, Reply};
pub use outbound::Outbound;
pub use rest::{RestCall, RestResponse, RouteInfo};
pub use rooms::{Room, RoomKind, Rooms};
pub use time::iso;

use inbound::InRule;
use mapping::Mapping;
use outbound::OutRule;
use rest::Route;

/// One legacy app's vocabulary. Load one with [`Dialect::from_toml`] or [`builtin`]; cheap to share
/// (`Arc<Dialect>`), immutable once loaded.
#[derive(Debug, Clone)]
pub struct Dialect {
    name: String,
    description: String,
    identity: bool,
    connect: Connect,
    rest_token: Vec<TokenSource>,
    rooms: Rooms,
    shapes: BTreeMap<String, Mapping>,
    inbound: Vec<InRule>,
    outbound: Vec<OutRule>,
    error: Option<(String, Mapping)>,
    rest: Vec<Route>,
    rest_error: Option<Mapping>,
}

/// Who a mapping is for and when: `$me` and `$now` in dialect files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ctx {
    /// The user the payload is for (the recipient of an outbound event, the caller of a reply).
    pub user_id: Option<String>,
    /// Milliseconds since the epoch.
    pub now_ms: u64,
}

impl Ctx {
    /// No user, at the current time.
    pub fn now() -> Self {
        Self { user_id: None, now_ms: time::now_ms() }
    }

    /// For `user_id`, at the current time.
    pub fn for_user(user_id: impl Into<String>) -> Self {
        Self { user_id: Some(user_id.into()), now_ms: time::now_ms() }
    }
}

impl Dialect {
    /// Parses and checks a dialect file: unknown keys, hooks, shapes, canonical names and bad paths are
    /// errors here, not at run time.
    pub fn from_toml(text: &str) -> Result<Self, DialectError> {
        spec::compile(text)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The canonical dialect: everything passes unchanged.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Where the Socket.IO handshake carries the token (and the client's own claim of its user id).
    pub fn connect_spec(&self) -> &Connect {
        &self.connect
    }

    /// Where REST requests carry the token, first found wins.
    pub fn rest_token(&self) -> &[TokenSource] {
        &self.rest_token
    }

    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// Legacy event names the client may send, in file order (duplicates removed).
    pub fn inbound_events(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for rule in &self.inbound {
            if !seen.contains(&rule.event.as_str()) {
                seen.push(&rule.event);
            }
        }
        seen
    }

    /// Canonical events this dialect forwards to its clients (others are dropped).
    pub fn outbound_events(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for rule in &self.outbound {
            if !seen.contains(&rule.canonical.as_str()) {
                seen.push(&rule.canonical);
            }
        }
        seen
    }
}
