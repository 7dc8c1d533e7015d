//! Typing and presence: typing indicators, the caller's status, other users' presence and watching it.

use quip_protocol::ServerBody;
use quip_protocol::family::presence::{
    GetOnlineMembers, GetPresence, PresenceStatus, SetPresence, Typing, WatchPresence,
};
use serde_json::{Value, json};

use super::op::{Operation, done, unknown};
use crate::error::ApiError;
use crate::json;

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{conversationId}` → `{}`.
    Operation::request(
        "typing:start",
        |a| Ok(Typing { conversation_id: a.id("conversationId")?, active: true }.into()),
        done,
    ),
    // `{conversationId}` → `{}`.
    Operation::request(
        "typing:stop",
        |a| Ok(Typing { conversation_id: a.id("conversationId")?, active: false }.into()),
        done,
    ),
    // `{status: online | away | busy | invisible}` → `{}`.
    Operation::request("presence:set", |a| Ok(SetPresence { status: status(&a.str("status")?)? }.into()), done),
    // `{userIds}` → `[presence]`.
    Operation::request("presence:get", |a| Ok(GetPresence { user_ids: a.str_list("userIds")? }.into()), presences),
    // `{userIds, unwatch?}` → `[presence]`.
    Operation::request(
        "presence:watch",
        |a| {
            let unwatch = a.bool_or("unwatch", false)?;
            Ok(WatchPresence { user_ids: a.str_list("userIds")?, unwatch }.into())
        },
        presences,
    ),
    // Members of a conversation online now: `{conversationId}` → `[presence]`.
    Operation::request(
        "presence:online",
        |a| Ok(GetOnlineMembers { conversation_id: a.id("conversationId")? }.into()),
        presences,
    ),
];

fn presences(reply: ServerBody) -> Value {
    match reply {
        ServerBody::PresenceList(p) => json!(p.presences.iter().map(json::presence).collect::<Vec<_>>()),
        other => done(other),
    }
}

fn status(s: &str) -> Result<PresenceStatus, ApiError> {
    match s {
        "online" => Ok(PresenceStatus::Online),
        "away" => Ok(PresenceStatus::Away),
        "busy" => Ok(PresenceStatus::Busy),
        "invisible" => Ok(PresenceStatus::Invisible),
        other => Err(unknown("status", other, "online, away, busy, invisible")),
    }
}
