//! Users: profiles, the caller's own profile, blocking.

use quip_protocol::family::conversations::{BlockUser, ListBlocked, UnblockUser};
use quip_protocol::family::session::{GetUsers, UpdateProfile};
use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::Client;
use serde_json::{Value, json};

use super::op::{Operation, done};
use crate::json;

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{userIds}` → `[profile]`.
    Operation::request("user:get", |a| Ok(GetUsers { user_ids: a.str_list("userIds")? }.into()), profiles),
    // `{userId}` → `{}`.
    Operation::request("user:block", |a| Ok(BlockUser { user_id: a.str("userId")? }.into()), done),
    // `{userId}` → `{}`.
    Operation::request("user:unblock", |a| Ok(UnblockUser { user_id: a.str("userId")? }.into()), done),
    // `{}` → `[userRef]`.
    Operation::request("user:blocked", |_| Ok(ListBlocked.into()), blocked),
    // `{displayName?, avatarUrl?, fields?}` → `{}`.
    Operation::request(
        "profile:update",
        |a| {
            Ok(UpdateProfile {
                display_name: a.opt_str("displayName")?,
                avatar_url: a.opt_str("avatarUrl")?,
                fields: a.key_values("fields")?,
            }
            .into())
        },
        profiles,
    ),
];

fn profiles(reply: ServerBody) -> Value {
    match reply {
        ServerBody::Users(u) => json!(u.users.iter().map(json::user_profile).collect::<Vec<_>>()),
        other => done(other),
    }
}

fn blocked(reply: ServerBody) -> Value {
    match reply {
        ServerBody::BlockedUsers(b) => json!(b.users.iter().map(json::user_ref).collect::<Vec<_>>()),
        other => done(other),
    }
}

/// A user's display name, when quipd has one.
pub(crate) async fn display_name(client: &Client, user_id: &str) -> Option<String> {
    match client.request(ClientBody::from(GetUsers { user_ids: vec![user_id.to_owned()] })).await.ok()? {
        ServerBody::Users(u) => u.users.into_iter().next().and_then(|p| p.display_name).filter(|n| !n.is_empty()),
        _ => None,
    }
}
