//! Who a mapping is for and when: `$me` and `$now` in dialect files.

use super::time;

/// The recipient of a mapped payload and the time it is mapped at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ctx {
    /// The user the payload is for (the recipient of an outbound event, the caller of a reply).
    pub user_id: Option<String>,
    /// Milliseconds since the epoch.
    pub now_ms: u64,
}

impl Ctx {
    /// No user, at the current time.
    pub fn now() -> Self {
        Self { user_id: None, now_ms: time::now_ms() }
    }

    /// For `user_id`, at the current time.
    pub fn for_user(user_id: impl Into<String>) -> Self {
        Self { user_id: Some(user_id.into()), now_ms: time::now_ms() }
    }
}
