//! The compiled rules of a dialect: what `spec` builds from the TOML and the mapping code runs. Plain data,
//! beside [`super::model::Dialect`] that holds them.

use serde_json::{Map, Value};

use super::hooks::Hook;
use super::mapping::{Cond, Mapping, Source};
use super::path::Path;
use super::rooms::RoomKind;

/// One `[[inbound]]` rule: a legacy event (under conditions) to a canonical operation.
#[derive(Debug, Clone)]
pub(crate) struct InRule {
    pub(crate) event: String,
    pub(crate) canonical: String,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) when: Cond,
    pub(crate) unless: Cond,
    pub(crate) fields: Mapping,
    /// The value for the client's ack callback on success (none: the canonical ack).
    pub(crate) ack: Option<Mapping>,
    /// The value for the client's ack callback on failure (none: the canonical error ack).
    pub(crate) ack_error: Option<Mapping>,
    /// An event emitted back to the client on success, instead of (or besides) an ack.
    pub(crate) reply: Option<(String, Mapping)>,
}

/// One `[[outbound]]` rule: a canonical event (under conditions) to one legacy event.
#[derive(Debug, Clone)]
pub(crate) struct OutRule {
    pub(crate) canonical: String,
    pub(crate) event: String,
    /// Who gets it in the legacy app: the user's room (every socket of the user) or the conversation's
    /// room (only sockets that joined it).
    pub(crate) target: RoomKind,
    /// Where the conversation id is, for conversation targets.
    pub(crate) room_id: Source,
    pub(crate) when: Cond,
    pub(crate) unless: Cond,
    /// Emit once per element of this list (`$item` in the fields).
    pub(crate) split: Option<Path>,
    pub(crate) fields: Mapping,
    pub(crate) hooks: Vec<Hook>,
    /// Emit with no argument at all (`socket.emit('notifications:read-all')`).
    pub(crate) no_args: bool,
}

/// One path segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Param(String),
}

/// One `[[rest.route]]`.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) pattern: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) canonical: String,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) status: u16,
    pub(crate) upload: Option<String>,
    pub(crate) request: Mapping,
    pub(crate) response: Mapping,
}

impl Route {
    pub(crate) fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
        if !pattern.starts_with('/') {
            return Err(format!("route path {pattern:?} must start with /"));
        }
        pattern
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix(':') {
                Some("") => Err(format!("route path {pattern:?} has an unnamed parameter")),
                Some(name) => Ok(Segment::Param(name.to_owned())),
                None => Ok(Segment::Literal(s.to_owned())),
            })
            .collect()
    }

    /// The path parameters when `path` matches this route.
    pub(crate) fn matches(&self, method: &str, path: &str) -> Option<Map<String, Value>> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let parts: Vec<&str> = path.split('?').next().unwrap_or("").split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), Value::String(percent_decode(part)?));
                }
            }
        }
        Some(params)
    }
}

/// `%XX` decoding of one path segment; `None` when it is not valid UTF-8 afterwards.
fn percent_decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
