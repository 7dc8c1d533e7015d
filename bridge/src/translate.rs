//! The seam between what a client's app speaks on Socket.IO and the canonical vocabulary
//! (docs/BRIDGE.md). Every incoming event passes through [`Translate::inbound`] once before dispatch,
//! every outgoing canonical event through [`Translate::outbound`] once before it is emitted, and every
//! ack through [`Translate::ack`]. [`Canonical`] is the identity; a legacy app's dialect
//! (`crate::dialect`) plugs in here.

use std::fmt::Debug;

use serde_json::Value;

pub trait Translate: Send + Sync + Debug + 'static {
    /// An incoming event and its payload as a canonical operation name and arguments.
    fn inbound(&self, event: &str, payload: Value) -> (String, Value);

    /// A canonical server event as the events to emit (none, one or several).
    fn outbound(&self, event: &str, payload: Value) -> Vec<(String, Value)>;

    /// The ack of canonical operation `op` (`{success, data}` or `{success: false, error}`) as the client's
    /// callback gets it.
    fn ack(&self, op: &str, ack: Value) -> Value {
        let _ = op;
        ack
    }
}

/// The canonical vocabulary itself: everything passes unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Canonical;

impl Translate for Canonical {
    fn inbound(&self, event: &str, payload: Value) -> (String, Value) {
        (event.to_owned(), payload)
    }

    fn outbound(&self, event: &str, payload: Value) -> Vec<(String, Value)> {
        vec![(event.to_owned(), payload)]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_is_the_identity() {
        let t = Canonical;
        assert_eq!(t.inbound("message:send", json!({"a": 1})), ("message:send".to_owned(), json!({"a": 1})));
        assert_eq!(t.outbound("message:new", json!(2)), vec![("message:new".to_owned(), json!(2))]);
        assert_eq!(t.ack("x", json!({"success": true})), json!({"success": true}));
    }
}
