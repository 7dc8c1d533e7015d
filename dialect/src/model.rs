//! [`Dialect`], one legacy app's compiled vocabulary, and what every direction of mapping reads of it.
//! The mapping itself is in [`super::inbound`], [`super::outbound`] and [`super::rest`]; loading in
//! [`super::spec`].

use std::collections::BTreeMap;

use super::connect::{Connect, TokenSource};
use super::ctx::Ctx;
use super::mapping::{Env, Mapping};
use super::rooms::Rooms;
use super::rules::{InRule, OutRule, Route};

/// One legacy app's vocabulary. Load one with [`Dialect::from_toml`] (the bridge ships a few); cheap to share
/// (`Arc<Dialect>`), immutable once loaded.
#[derive(Debug, Clone)]
pub struct Dialect {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) identity: bool,
    pub(crate) connect: Connect,
    pub(crate) rest_token: Vec<TokenSource>,
    pub(crate) rooms: Rooms,
    pub(crate) shapes: BTreeMap<String, Mapping>,
    pub(crate) inbound: Vec<InRule>,
    pub(crate) outbound: Vec<OutRule>,
    pub(crate) error: Option<(String, Mapping)>,
    pub(crate) rest: Vec<Route>,
    pub(crate) rest_error: Option<Mapping>,
}

impl Dialect {
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

    /// What a mapping of `event` runs with (`strict`: inbound, a value that does not convert is an error).
    pub(crate) fn env<'a>(&'a self, ctx: &'a Ctx, event: &'a str, strict: bool) -> Env<'a> {
        Env { ctx, shapes: &self.shapes, item: None, strict, event, depth: 0 }
    }
}
