//! The canonical operations: one name per thing the broker offers (the Socket.IO event names of
//! docs/BRIDGE.md), each turning JSON [`Args`](crate::json::Args) into quip requests and their replies
//! into JSON. [`OPERATIONS`] is the one table of them: Socket.IO dispatch, the REST routes, the metrics'
//! labels and the dialects' checks all read it, so the APIs cannot drift apart.
//!
//! One file per family, each with its part of the table and its reply JSON: [`conversations`],
//! [`messages`], [`receipts`], [`presence`], [`calls`], [`notifications`], [`users`], [`session`], and
//! the operators' [`admin`]. Adding
//! an operation is adding an entry to its family's `OPERATIONS` (and to docs/BRIDGE.md and a test).

pub mod admin;
pub mod calls;
pub mod conversations;
pub mod messages;
pub mod notifications;
mod op;
mod page;
pub mod presence;
pub mod receipts;
pub mod session;
pub mod users;

use quip_protocol::ClientBody;

use crate::error::ApiError;
use crate::json::Args;

pub use op::{Build, Connection, Handler, Input, Operation, Outcome, Render, Running};
pub use page::{DEFAULT_PAGE, MAX_OFFSET_REACH, MAX_PAGE};

/// Every canonical operation, family by family, in documentation order.
pub static OPERATIONS: &[&[Operation]] = &[
    conversations::OPERATIONS,
    users::OPERATIONS,
    messages::OPERATIONS,
    receipts::OPERATIONS,
    presence::OPERATIONS,
    notifications::OPERATIONS,
    calls::OPERATIONS,
    session::OPERATIONS,
    admin::OPERATIONS,
];

/// Every operation, in table order.
pub fn all() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS.iter().flat_map(|family| family.iter())
}

/// Every operation's name, in table order.
pub fn names() -> impl Iterator<Item = &'static str> {
    all().map(|op| op.name)
}

/// The operation called `name`.
pub fn find(name: &str) -> Option<&'static Operation> {
    all().find(|op| op.name == name)
}

/// Whether `name` is a canonical operation.
pub fn is_operation(name: &str) -> bool {
    find(name).is_some()
}

/// Runs operation `name` with `input`.
pub async fn run(name: &str, input: &Input<'_>) -> Result<serde_json::Value, ApiError> {
    let op = find(name).ok_or_else(|| ApiError::invalid(format!("unknown operation `{name}`")))?;
    op.run(input).await
}

/// The quip request operation `name` sends, for the operations that send one built from their arguments
/// alone ([`Operation::build`]); `InvalidArgument` for any other name.
pub fn build(name: &str, args: &Args) -> Result<ClientBody, ApiError> {
    match find(name).and_then(|op| op.build()) {
        Some(build) => build(args),
        None => Err(ApiError::invalid(format!("unknown operation `{name}`"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_operation_builds_or_runs_itself() {
        let args = Args::from_value(json!({
            "conversationId": 1, "messageId": 2, "callId": 3, "peerUserId": "bob", "title": "t",
            "userId": "bob", "role": "admin", "text": "hi", "emoji": "👍", "upToSeq": 4, "status": "away",
            "sdpOffer": "o", "sdpAnswer": "a", "candidate": "c", "token": "t",
        }))
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for op in all() {
            assert!(seen.insert(op.name), "{} twice", op.name);
            if op.build().is_some() {
                assert!(build(op.name, &args).is_ok(), "{}", op.name);
            }
        }
        let runs_itself: Vec<_> = all().filter(|op| op.build().is_none()).map(|op| op.name).collect();
        assert_eq!(
            runs_itself,
            [
                "conversation:join",
                "conversation:leave",
                "conversation:toggleBlock",
                "message:send",
                "sync",
                "token:refresh",
                "ping",
                "noop",
                "admin:stats"
            ]
        );
        assert!(build("nope", &args).is_err());
        assert!(find("conversation:join").is_some_and(|op| op.socket_only));
    }
}
