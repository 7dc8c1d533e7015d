//! Operators' operations: `admin:stats`. They run only on a legacy app's admin REST routes
//! (`rest/dialect.rs`, [`run`]), for a caller whose bearer token is quipd's admin token
//! (`crate::quipd_admin`), and never through a user's session: on Socket.IO they answer `Forbidden`.

use quip_sdk::ErrorCode;

use super::op::{Operation, Outcome};
use crate::error::ApiError;
use crate::quipd_admin::QuipdAdmin;

/// `{}` → quipd's `/v1/stats` data.
pub const STATS: &str = "admin:stats";

pub(crate) const OPERATIONS: &[Operation] =
    &[Operation::handler(STATS, |_| Box::pin(std::future::ready(Err(only_on_admin_routes()))))];

fn only_on_admin_routes() -> ApiError {
    ApiError::new(ErrorCode::Forbidden, "an admin operation is served only on an admin REST route")
}

/// Whether `name` is an operators' operation (run with [`run`], not with a user's session).
pub fn is_admin(name: &str) -> bool {
    name == STATS
}

/// Runs operators' operation `name` for a caller presenting `token`.
pub async fn run(name: &str, admin: Option<&QuipdAdmin>, token: &str) -> Outcome {
    let admin = admin.ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "admin routes are off: the bridge has no upstream.admin_url")
    })?;
    if !admin.is_admin(token) {
        return Err(ApiError::new(ErrorCode::Forbidden, "an admin route needs quipd's admin token"));
    }
    match name {
        STATS => admin.stats().await,
        _ => Err(only_on_admin_routes()),
    }
}
