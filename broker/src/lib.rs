//! quipd, the Quip broker.
//!
//! Entry point: [`Server::bind`] then [`Server::run`] with a shutdown future. Data flow (see
//! docs/ARCHITECTURE.md): a session (`session/`) reads requests and runs them (`cmd/`); writes go to
//! the single writer (`quip-store`'s writer thread), which commits them to RocksDB in batches and then
//! hands what it committed to `fanout.rs`, which encodes each event once (`wire/`) and pushes it through
//! the routing table (`hub.rs`) into every recipient session's bounded queue.
//!
//! The public surface is what the binary, the tests and the benchmarks use: the server, its
//! configuration, tokens (`auth`), the dev TLS material (`tls`), the routing table's handles (`hub`, for
//! the fan-out benchmark) and the offline hook's batch format (`webhook`).

mod admin;
pub mod auth;
mod background;
mod broker;
mod calls;
mod clock;
mod cmd;
pub mod config;
mod fanout;
pub mod heap;
pub mod hub;
mod io;
pub mod lane;
mod notify;
mod presence;
mod ratelimit;
mod server;
mod session;
mod stats;
mod telemetry;
pub mod tls;
pub mod webhook;
mod wire;

pub use background::{BackgroundServer, Started};
pub(crate) use broker::Broker;
pub use clock::now_ms;
pub use presence::PresenceConfig;
pub use server::{Server, ServerError, TlsReloader};
