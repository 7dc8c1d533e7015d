//! Page sizes: what the bridge asks quipd for when a client names none, and the most it asks for.

use crate::error::ApiError;
use crate::json::Args;

/// Default and largest page sizes the bridge asks quipd for.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The `limit` argument, clamped to `1..=MAX_PAGE`.
pub fn page_limit(a: &Args) -> Result<u32, ApiError> {
    Ok(a.u32_or("limit", DEFAULT_PAGE)?.clamp(1, MAX_PAGE))
}
