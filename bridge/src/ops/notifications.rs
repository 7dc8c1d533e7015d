//! Notifications: the caller's list, marking some or all read.

use quip_protocol::ServerBody;
use quip_protocol::family::notifications::{ListNotifications, MarkAllNotificationsRead, MarkNotificationsRead};
use serde_json::{Value, json};

use super::op::{Operation, done};
use super::page::page_limit;
use crate::json;

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{beforeId?, limit?, unreadOnly?}` → `{notifications, nextCursor, unreadTotal}`.
    Operation::request(
        "notification:list",
        |a| {
            Ok(ListNotifications {
                before_id: a.opt_u64("beforeId")?.unwrap_or(0),
                limit: page_limit(a)?,
                unread_only: a.bool_or("unreadOnly", false)?,
            }
            .into())
        },
        page,
    ),
    // `{ids}` → `{}`.
    Operation::request("notification:read", |a| Ok(MarkNotificationsRead { ids: a.u64_list("ids")? }.into()), done),
    // `{}` → `{}`.
    Operation::request("notification:readAll", |_| Ok(MarkAllNotificationsRead.into()), done),
];

fn page(reply: ServerBody) -> Value {
    match reply {
        ServerBody::NotificationPage(p) => json!({
            "notifications": p.notifications.iter().map(json::notification).collect::<Vec<_>>(),
            "nextCursor": if p.next_before_id == 0 { None } else { Some(p.next_before_id) },
            "unreadTotal": p.unread_total,
        }),
        other => done(other),
    }
}
