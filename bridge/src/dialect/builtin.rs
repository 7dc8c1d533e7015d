//! The shipped dialects, compiled into the binary.

use super::{Dialect, DialectError};

/// Name and TOML text of every shipped dialect.
pub const BUILTIN: &[(&str, &str)] = &[
    ("canonical", include_str!("../../dialects/canonical.toml")),
    ("kaajkaam", include_str!("../../dialects/kaajkaam.toml")),
    ("jivbook", include_str!("../../dialects/jivbook.toml")),
    ("ulearn", include_str!("../../dialects/ulearn.toml")),
    ("kcs", include_str!("../../dialects/kcs.toml")),
    ("marketplace", include_str!("../../dialects/marketplace.toml")),
];

/// A shipped dialect by name: `canonical`, `kaajkaam`, `jivbook`, `ulearn`, `kcs` or `marketplace`.
pub fn builtin(name: &str) -> Result<Dialect, DialectError> {
    let (_, text) =
        BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| DialectError::UnknownDialect(name.to_owned()))?;
    Dialect::from_toml(text)
}
