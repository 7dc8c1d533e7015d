//! One module per frame family. Each holds the domain types of its frames and their conversion to and
//! from the generated tables, with round-trip and truncation tests.

pub mod calls;
pub mod common;
pub mod conversations;
pub mod errors;
pub mod messages;
pub mod notifications;
pub mod presence;
pub mod receipts;
pub mod session;
