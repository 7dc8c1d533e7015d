//! Dialects: how a legacy app's Socket.IO events, payload fields, rooms and REST routes map onto the
//! bridge's canonical vocabulary (docs/BRIDGE.md; the bridge passes its names in as a [`Vocabulary`]),
//! both ways. The canonical dialect is the identity: everything passes unchanged.
//!
//! A dialect is data — `dialect/dialects/<name>.toml`, documented in docs/DIALECTS.md — with a few named
//! Rust [`hooks`] for what data cannot say. This crate is pure: no sockets, no async, no I/O. The bridge
//! uses it so:
//!
//! - a client event: [`Dialect::inbound`] gives the canonical operation and payload; after running it,
//!   [`Dialect::reply`] (or [`Dialect::reply_error`]) says what to answer (ack value, reply events);
//! - a canonical event for a socket's user: [`Dialect::outbound_with`] gives the legacy events to emit
//!   (zero or more), each with the legacy room it belongs to;
//! - a REST request: [`Dialect::rest`] gives the canonical operation, [`Dialect::rest_response`] and
//!   [`Dialect::rest_error`] the legacy response body;
//! - [`Dialect::connect_spec`] says where the handshake carries the token, [`Dialect::rooms`] how rooms are
//!   named.

mod connect;
mod ctx;
mod error;
pub mod hooks;
mod inbound;
mod mapping;
mod model;
mod outbound;
mod path;
mod rest;
mod rooms;
mod rules;
mod spec;
mod time;
mod vocabulary;

#[cfg(test)]
mod tests;

pub use connect::{Connect, TokenSource, bearer};
pub use ctx::Ctx;
pub use error::DialectError;
pub use hooks::{Hook, ValueHook};
pub use inbound::{Inbound, Reply};
pub use model::Dialect;
pub use outbound::Outbound;
pub use rest::{RestCall, RestResponse, RouteInfo};
pub use rooms::{Room, RoomKind, Rooms};
pub use time::iso;
pub use vocabulary::Vocabulary;
