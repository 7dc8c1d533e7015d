//! The shipped dialects' TOML texts, by name (a leaf: configuration checks names here without loading).

/// Name and TOML text of every shipped dialect.
pub const BUILTIN: &[(&str, &str)] = &[
    ("canonical", include_str!("../../dialects/canonical.toml")),
    ("kaajkaam", include_str!("../../dialects/kaajkaam.toml")),
    ("jivbook", include_str!("../../dialects/jivbook.toml")),
    ("ulearn", include_str!("../../dialects/ulearn.toml")),
    ("kcs", include_str!("../../dialects/kcs.toml")),
    ("marketplace", include_str!("../../dialects/marketplace.toml")),
];

/// A dialect of this name ships with the bridge.
pub fn is_shipped(name: &str) -> bool {
    BUILTIN.iter().any(|(n, _)| *n == name)
}
