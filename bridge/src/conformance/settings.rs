//! The suites' Engine.IO settings.

use std::time::Duration;

pub const PING_INTERVAL: Duration = Duration::from_millis(300);
pub const PING_TIMEOUT: Duration = Duration::from_millis(200);
pub const MAX_PAYLOAD: u64 = 1_000_000;
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
