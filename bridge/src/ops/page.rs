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

/// Most items an offset page may reach into (offset + limit), so one request cannot scan without bound.
pub const MAX_OFFSET_REACH: u64 = 10_000;

/// `offset` and `limit` of a legacy offset page (`message:history`, `conversation:list` with `offset`).
pub fn offset_and_limit(a: &Args) -> Result<(usize, usize), ApiError> {
    let offset = a.opt_u64("offset")?.unwrap_or(0);
    let limit = u64::from(page_limit(a)?);
    if offset.saturating_add(limit) > MAX_OFFSET_REACH {
        let mut e = ApiError::invalid(format!("offset + limit may reach at most {MAX_OFFSET_REACH} items"));
        e.field = Some("offset".to_owned());
        return Err(e);
    }
    Ok((offset as usize, limit as usize))
}
