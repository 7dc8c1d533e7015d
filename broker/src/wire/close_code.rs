//! The QUIC application close codes quipd closes a connection with (docs/PROTOCOL.md lists them).

pub const NORMAL: u32 = 0;
pub const PROTOCOL_ERROR: u32 = 1;
pub const AUTH_FAILED: u32 = 2;
pub const SHUTDOWN: u32 = 3;
pub const TOKEN_EXPIRED: u32 = 4;
