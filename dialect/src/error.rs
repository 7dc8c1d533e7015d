//! The one error type of the dialect layer: a dialect that does not load, or a payload that does not map.

/// What went wrong while loading a dialect or mapping a payload. Mapping never panics: every bad input
/// (wrong type, missing field, a non-object payload) ends here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialectError {
    /// The TOML text is not valid TOML or does not have the dialect's shape.
    #[error("dialect: invalid TOML: {0}")]
    Toml(String),
    /// The TOML parsed but says something inconsistent (an unknown hook, shape or canonical name, ...).
    #[error("dialect {dialect}: {reason}")]
    Definition { dialect: String, reason: String },
    /// No shipped dialect has this name.
    #[error("no dialect named {0:?}")]
    UnknownDialect(String),
    /// The legacy app sent an event this dialect does not map.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// The payload as a whole has the wrong shape (an array where an object is expected, ...).
    #[error("{event}: {reason}")]
    Payload { event: String, reason: String },
    /// The payload of a canonical event (identity dialect) is not a JSON object: the canonical error
    /// for it, word for word.
    #[error("the payload must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    /// A required field is absent or null.
    #[error("{event}: `{field}` is required")]
    MissingField { event: String, field: String },
    /// A field is present with a value that cannot be converted.
    #[error("{event}: `{field}` {reason}")]
    BadField { event: String, field: String, reason: String },
}

impl DialectError {
    /// The legacy field to blame, when there is one (for the `field` of an error reply).
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingField { field, .. } | Self::BadField { field, .. } => Some(field),
            _ => None,
        }
    }
}
