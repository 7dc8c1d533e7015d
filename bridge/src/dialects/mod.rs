//! The shipped dialects (`bridge/dialects/<name>.toml`, compiled into the binary) and the bridge's
//! canonical vocabulary they are checked against: the operations of [`crate::ops`] and the events of
//! [`crate::events`]. The mapping engine itself is the `quip-dialect` crate.

use quip_dialect::{Dialect, DialectError, Vocabulary};

mod shipped;
#[cfg(test)]
mod tests;

pub use shipped::{BUILTIN, is_shipped};

/// The bridge's canonical names, as a dialect sees them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Canonical;

impl Vocabulary for Canonical {
    fn is_operation(&self, name: &str) -> bool {
        crate::ops::is_operation(name)
    }

    fn is_event(&self, name: &str) -> bool {
        crate::events::is_event(name)
    }
}

/// A shipped dialect by name: `canonical`, `kaajkaam`, `jivbook`, `ulearn`, `kcs` or `marketplace`.
pub fn builtin(name: &str) -> Result<Dialect, DialectError> {
    let (_, text) =
        BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| DialectError::UnknownDialect(name.to_owned()))?;
    Dialect::from_toml(text, &Canonical)
}
