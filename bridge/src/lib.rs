//! quip-bridge: serves existing web and mobile clients (Socket.IO v4 and REST) on top of the Quip
//! broker, through the SDK, with one dialect per legacy app. See docs/BRIDGE.md.
//!
//! Layout: [`config`] (typed, validated settings), [`server`] (the HTTP listeners and their lifecycle),
//! [`socket`] (Socket.IO: every event through the listener's dialect, an operation and back), [`rest`] (the
//! canonical REST API and its OpenAPI document), [`ops`] (the table of canonical operations both APIs
//! run), [`events`] (quipd's events as canonical server events), [`upstream`] (the one place SDK clients
//! to quipd are opened), [`dialects`] (the shipped legacy vocabularies, one per listener or path, for the
//! `quip-dialect` engine; the canonical one is the identity), [`json`] (the canonical JSON forms).

pub mod app;
pub mod auth;
pub mod config;
pub mod conformance;
pub mod dialects;
pub mod error;
pub mod events;
pub mod json;
pub mod listener;
pub mod media;
pub mod ops;
pub mod quipd_admin;
pub mod renders;
pub mod rest;
pub mod rest_clients;
pub mod server;
pub mod socket;
pub mod telemetry;
pub mod upstream;

pub use config::Config;
pub use error::ApiError;
pub use server::{Bridge, BridgeError, Listeners};
