//! The scenarios, one file each. Chat and fan-out share their plumbing (`pubsub`) and the sweep.

pub mod chat;
pub mod connect;
pub mod disk_full;
pub mod fanout;
pub mod idle;
pub mod idle_sockets;
pub mod pubsub;
pub mod restart_storm;
pub mod resume;
pub mod soak;
pub mod suite;
pub mod sweep;
