//! Receipts and unread counts: delivered and read watermarks, who got and read a message.

use quip_protocol::ServerBody;
use quip_protocol::family::receipts::{GetReceipts, GetUnreadCounts, MarkDelivered, MarkRead};
use serde_json::{Value, json};

use super::op::{Operation, done};

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{conversationId, upToSeq}` → `{}`.
    Operation::request(
        "message:delivered",
        |a| Ok(MarkDelivered { conversation_id: a.id("conversationId")?, up_to_seq: a.u64("upToSeq")? }.into()),
        done,
    ),
    // `{conversationId, upToSeq? | messageIds?}`; neither: everything so far → `{}`.
    Operation::request(
        "message:read",
        |a| {
            let message_ids = a.u64_list("messageIds")?;
            let everything = if message_ids.is_empty() { u64::MAX } else { 0 };
            let up_to_seq = a.opt_u64("upToSeq")?.unwrap_or(everything);
            Ok(MarkRead { conversation_id: a.id("conversationId")?, up_to_seq, message_ids }.into())
        },
        done,
    ),
    // `{messageId}` → `{recipients, delivered, read, members: [{userId, deliveredAt, readAt}]}`.
    Operation::request("message:receipts", |a| Ok(GetReceipts { message_id: a.id("messageId")? }.into()), receipts),
    // `{conversationIds?}` → `{total, conversations: [{conversationId, unread}]}`.
    Operation::request(
        "unread:get",
        |a| Ok(GetUnreadCounts { conversation_ids: a.u64_list("conversationIds")? }.into()),
        unread,
    ),
];

fn receipts(reply: ServerBody) -> Value {
    match reply {
        ServerBody::MessageReceipts(r) => json!({
            "conversationId": r.conversation_id,
            "messageId": r.message_id,
            "seq": r.seq,
            "recipients": r.recipients,
            "delivered": r.delivered,
            "read": r.read,
            "members": r.members.iter()
                .map(|m| json!({ "userId": m.user_id, "deliveredAt": m.delivered_at_ms, "readAt": m.read_at_ms }))
                .collect::<Vec<_>>(),
        }),
        other => done(other),
    }
}

fn unread(reply: ServerBody) -> Value {
    match reply {
        ServerBody::UnreadCounts(u) => json!({
            "total": u.total,
            "conversations": u.conversations.iter()
                .map(|c| json!({ "conversationId": c.conversation_id, "unread": c.unread }))
                .collect::<Vec<_>>(),
        }),
        other => done(other),
    }
}
