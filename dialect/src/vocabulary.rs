//! The canonical names a dialect may map onto. The bridge owns them (its operation table and its event
//! list); this crate only asks, so that a dialect naming anything else is refused when it loads, not when
//! a client first sends it.

/// What the host (the bridge) calls its canonical operations and events.
pub trait Vocabulary {
    /// `name` is a canonical operation (what inbound rules and REST routes may map to).
    fn is_operation(&self, name: &str) -> bool;
    /// `name` is a canonical event (what outbound rules may map from).
    fn is_event(&self, name: &str) -> bool;
}
