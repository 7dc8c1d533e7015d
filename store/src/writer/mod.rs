//! The single writer. One OS thread owns every counter (conversation ids, message ids, per-conversation
//! sequence numbers, the store-wide position) and turns queued commands into RocksDB write batches.
//!
//! Why one writer: sequence numbers are then gap-free and total without locks, get-or-create of a
//! direct conversation cannot race, and concurrent sends are grouped into one atomic batch (one WAL
//! write and, with `durability = "fsync"`, one fsync for the whole group). Replies go out and events are
//! published only after the batch is durable, so nothing is acknowledged or delivered that a crash
//! could lose.
//!
//! Receipts go through here too (`writer/receipts.rs`): a watermark's read-modify-write then needs no
//! lock and cannot race with another device of the same user, and a message's implied read by its
//! sender lands in the same batch as the message.
//!
//! Edits, deletions and reactions (`writer/lifecycle.rs`) go through here as well, so that they never
//! race with each other nor with the append of a reply that quotes the message.
//!
//! The files: `cmd.rs` what the writer is asked and what it publishes, `log.rs` the write boundary (the
//! trait a cluster's log will implement), `handle.rs` the handle every requester holds, `state.rs` the thread's counters and caches, `commit.rs` one batch from queue to
//! disk, `messages.rs` appends and new conversations, `unread.rs` the unread counts a batch changed; then one
//! file per command family.

mod cmd;
mod commit;
mod groups;
mod handle;
mod lifecycle;
mod log;
mod messages;
mod receipts;
mod requests;
mod settings;
mod state;
mod unread;

pub use cmd::{Committed, ConvChange, Mark, NewMessage, Publish, WriteCmd};
pub use handle::Writer;
pub use log::{Appending, CommandLog, EmbeddedLog};
pub use requests::{Delete, Edit, MemberChange, MemberOp, ReactTo, SettingChange, SettingOp};
