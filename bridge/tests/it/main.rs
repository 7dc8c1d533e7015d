//! The bridge's integration tests, one binary (one link of RocksDB): each file is one area, run against a
//! real quipd (quip-testkit) and a real bridge on 127.0.0.1:0 in this process (`common/`), driven by REST
//! calls and by the real Node, Python and browser clients (`bridge/tests/js`, `py`, `seeds`); `metrics`
//! runs the real `quipd` and `quip-bridge` binaries (`common/processes.rs`), whose counters only its
//! traffic reaches.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed unwrap is a failed test

mod bad_input;
mod common;
mod conformance;
mod dialects;
mod media;
mod metrics;
mod rest;
mod seeds;
mod slow_clients;
mod socketio_node;
mod socketio_python;
mod web;
