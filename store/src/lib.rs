//! Quip's durable store: RocksDB with one column family per record kind (see `keys.rs`), and the
//! records it keeps (`model.rs`).
//!
//! Writes go through one writer thread (`writer/`) that assigns ids and sequence numbers and groups
//! concurrent writes into one atomic batch, then hands what it committed to a [`Publish`] (the broker's
//! fan-out); reads (`read.rs` and its neighbours) go straight to RocksDB from any thread.

mod codec;
pub mod config;
mod db;
mod error;
mod keys;
mod kinds;
pub mod model;
mod presence;
mod read;
mod receipts;
mod settings;
mod writer;

/// Column family names, for parts of the broker that own a keyspace of their own (its notification feeds).
pub mod cf {
    pub use crate::keys::{NOTIF_UNREAD, NOTIFICATIONS};
}

pub(crate) use codec::{decode, encode};
pub use db::{Store, StoreMemory};
pub use error::StoreError;
pub use presence::{ChosenStatus, PresenceRecord};
pub use read::{Direction, HistoryPage};
pub use receipts::{MemberReceipt, Unread};
pub use writer::{
    Appending, CommandLog, Committed, ConvChange, Delete, Edit, EmbeddedLog, Mark, MemberChange, MemberOp, NewMessage,
    Publish, ReactTo, SettingChange, SettingOp, WriteCmd, Writer,
};
