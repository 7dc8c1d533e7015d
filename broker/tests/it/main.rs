//! quipd's integration tests, one binary (one link of RocksDB): each file is one area, run against a
//! real quipd on 127.0.0.1:0 with a real RocksDB in a temp dir (`common/`); `crash` kills the real
//! binary (`crash/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed unwrap is a failed test

mod admin;
mod admission;
mod auth;
mod calls;
mod clock;
mod common;
mod crash;
mod delivery;
mod drain;
mod gateway;
mod groups;
mod lifecycle;
mod logs;
mod metrics;
mod notifications;
mod presence;
mod receipts;
mod requests;
mod restart;
mod sdk;
mod settings;
mod webhook;
