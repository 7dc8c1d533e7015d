//! The Quip wire protocol, sans-IO.
//!
//! Everything here is pure data transformation: no sockets, no async runtime, no clocks (callers pass
//! time in). The broker, the SDK and the bridge all speak through this crate.
//!
//! - [`ClientFrame`] / [`ServerFrame`]: the domain form of every frame, with `encode` and `decode`.
//! - [`FrameDecoder`]: splits a byte stream into whole frames, enforcing [`Limits::max_frame_size`].
//! - [`family`]: one module per frame family (session, conversations, messages, receipts, presence,
//!   notifications, calls, errors) holding the domain types and their conversion to and from the
//!   generated FlatBuffers tables.
//!
//! The FlatBuffers schema lives in `protocol/schema/*.fbs`; the generated code is committed and checked
//! against the schema in CI (`scripts/gen-protocol --check`). Wire types never leak out of this crate:
//! callers see plain Rust structs and enums.
//!
//! ```
//! use quip_protocol::{ClientBody, ClientFrame, FrameDecoder, Limits, family::session::Ping};
//!
//! let frame = ClientFrame { request_id: 7, body: ClientBody::Ping(Ping { nonce: 42 }) };
//! let bytes = frame.encode();
//!
//! let limits = Limits::default();
//! let mut decoder = FrameDecoder::new(limits.max_frame_size);
//! decoder.extend(&bytes[..3]);
//! assert!(decoder.next_frame().unwrap().is_none()); // incomplete input is not an error
//! decoder.extend(&bytes[3..]);
//! let whole = decoder.next_frame().unwrap().unwrap();
//! assert_eq!(ClientFrame::decode(&whole, &limits).unwrap(), frame);
//! ```

#[allow(
    unsafe_code,
    unused_imports,
    dead_code,
    non_camel_case_types,
    non_snake_case,
    deprecated,
    missing_debug_implementations,
    mismatched_lifetime_syntaxes,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::extra_unused_lifetimes,
    clippy::derivable_impls
)]
#[rustfmt::skip]
#[path = "generated/frame_generated.rs"]
mod generated;

mod convert;
mod error;
pub mod family;
mod frame;
mod framing;
mod limits;

#[cfg(test)]
mod testing;

pub use error::DecodeError;
pub use family::common::*;
pub use family::errors::{ErrorCode, ErrorReply};
pub use frame::{ClientBody, ClientFrame, ServerBody, ServerFrame};
pub use framing::{FRAME_PREFIX_LEN, FrameDecoder, frame_len};
pub use limits::{Limits, LimitsError};

/// The QUIC ALPN identifier of protocol version 1.
pub const ALPN: &[u8] = b"quip/1";

/// The protocol version carried in `Hello` and `Welcome`.
pub const PROTOCOL_VERSION: u16 = 1;

/// The generated FlatBuffers module for protocol version 1.
pub(crate) use generated::quip::v_1 as fb;
