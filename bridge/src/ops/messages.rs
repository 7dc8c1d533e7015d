//! Messages: sending (acked once durable), editing, deleting, reacting, reading one and the history.
//! Extension for legacy dialects (docs/DIALECTS.md): offset paging of `message:history` with `total`.

use quip_protocol::family::messages::{
    Attachment, AttachmentKind, DeleteMessage, DeleteScope, Direction, EditMessage, GetHistory, GetMessage, Message,
    MessageKind, React, SendMessage,
};
use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::Client;
use serde_json::{Value, json};

use super::op::{Input, Operation, Outcome, done, request, unexpected, unknown};
use super::page::{MAX_PAGE, offset_and_limit, page_limit};
use crate::error::ApiError;
use crate::json::{self, Args};

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{conversationId, text?, kind?, attachments?, replyTo?, clientMsgId?, metadata?}` → the stored message
    // (`duplicate: true` for a retried `clientMsgId`); without a `clientMsgId` the bridge makes one.
    Operation::handler("message:send", |i| Box::pin(send(i))),
    // `{messageId, text}` → `{}`.
    Operation::request(
        "message:edit",
        |a| Ok(EditMessage { message_id: a.id("messageId")?, text: a.str("text")? }.into()),
        done,
    ),
    // `{messageId, scope: me | everyone}` → `{}`.
    Operation::request(
        "message:delete",
        |a| Ok(DeleteMessage { message_id: a.id("messageId")?, scope: scope(a)? }.into()),
        done,
    ),
    // `{messageId, emoji, remove?}` → `{}`.
    Operation::request(
        "message:react",
        |a| {
            let remove = a.bool_or("remove", false)?;
            Ok(React { message_id: a.id("messageId")?, emoji: a.str("emoji")?, remove }.into())
        },
        done,
    ),
    // `{messageId}` → the message.
    Operation::request("message:get", |a| Ok(GetMessage { message_id: a.id("messageId")? }.into()), message),
    // `{conversationId, before? | after? | cursor? + direction?, limit?}` → `{conversationId, messages,
    // nextCursor, hasMore}`; with `offset`: the page that skips the `offset` newest messages, with `offset`,
    // `limit` and `total`.
    Operation::extended("message:history", |a| Ok(history_request(a)?.into()), |i| Box::pin(history(i))),
];

fn message(reply: ServerBody) -> Value {
    match reply {
        ServerBody::MessageInfo(info) => json::message(&info.message),
        other => done(other),
    }
}

fn history_page(reply: ServerBody) -> Value {
    match reply {
        ServerBody::HistoryPage(p) => json!({
            "conversationId": p.conversation_id,
            "messages": p.messages.iter().map(json::message).collect::<Vec<_>>(),
            "nextCursor": if p.has_more { Some(p.next_anchor_seq) } else { None },
            "hasMore": p.has_more,
        }),
        other => done(other),
    }
}

/// `message:send`: the ack becomes the stored message (what every member receives as `message:new`).
async fn send(input: &Input<'_>) -> Outcome {
    let (client, a) = (input.client, &input.args);
    let me = crate::media::http::uploader(client)?;
    let mut attachments = Vec::new();
    for att in a.objects("attachments")? {
        // Stored media goes only into its uploader's messages (an id from someone else's link is refused).
        crate::media::http::check_owner(&att.str("url")?, &me)?;
        if let Some(thumbnail) = att.opt_str("thumbnailUrl")? {
            crate::media::http::check_owner(&thumbnail, &me)?;
        }
        attachments.push(Attachment {
            kind: attachment_kind(att.opt_str("kind")?.as_deref().unwrap_or("file"))?,
            // A stored upload is kept by its stable path; readers get it signed afresh.
            url: crate::media::sign::stable(&att.str("url")?),
            mime: att.opt_str("mime")?.unwrap_or_default(),
            name: att.opt_str("name")?.unwrap_or_default(),
            size: att.opt_u64("size")?.unwrap_or(0),
            width: att.u32_or("width", 0)?,
            height: att.u32_or("height", 0)?,
            duration_ms: att.u32_or("durationMs", 0)?,
            thumbnail_url: crate::media::sign::stable(&att.opt_str("thumbnailUrl")?.unwrap_or_default()),
        });
    }
    let text = a.opt_str("text")?.unwrap_or_default();
    if text.is_empty() && attachments.is_empty() {
        return Err(ApiError::invalid("a message needs `text` or `attachments`"));
    }
    let kind = match a.opt_str("kind")? {
        Some(k) => message_kind(&k)?,
        None if text.is_empty() => attachments.first().map_or(MessageKind::Text, |att| kind_for(att.kind)),
        None => MessageKind::Text,
    };
    let mut request = SendMessage {
        conversation_id: a.id("conversationId")?,
        client_msg_id: a.opt_str("clientMsgId")?.unwrap_or_default(),
        kind,
        text,
        attachments,
        reply_to: a.opt_u64("replyTo")?.unwrap_or(0),
        metadata: a.key_values("metadata")?,
        leave_read_state: a.bool_or("leaveReadState", false)?,
    };
    if request.client_msg_id.is_empty() {
        request.client_msg_id = client.new_client_msg_id();
    }
    let ack = client.send(request.clone()).await?;
    let sender = client.welcome().map(|w| w.user.to_ref()).unwrap_or_default();
    let stored = Message {
        id: ack.message_id,
        conversation_id: ack.conversation_id,
        seq: ack.seq,
        sender,
        kind: request.kind,
        text: request.text,
        attachments: request.attachments,
        client_msg_id: request.client_msg_id,
        created_at_ms: ack.created_at_ms,
        metadata: request.metadata,
        ..Message::default()
    };
    let mut v = json::message(&stored);
    if request.reply_to != 0 {
        v["replyTo"] = json!({ "messageId": request.reply_to });
    }
    v["duplicate"] = json!(ack.duplicate);
    Ok(v)
}

/// `message:history`: `before` a seq (older, the default: the newest page) or `after` one (newer).
pub(crate) fn history_request(a: &Args) -> Result<GetHistory, ApiError> {
    let (anchor_seq, direction) = match (a.opt_u64("before")?, a.opt_u64("after")?) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give `before` or `after`, not both")),
        (Some(before), None) => (before, Direction::Backward),
        (None, Some(after)) => (after, Direction::Forward),
        (None, None) => {
            let direction = match a.opt_str("direction")?.as_deref().unwrap_or("backward") {
                "backward" => Direction::Backward,
                "forward" => Direction::Forward,
                other => return Err(unknown("direction", other, "backward, forward")),
            };
            (a.opt_u64("cursor")?.unwrap_or(0), direction)
        }
    };
    Ok(GetHistory { conversation_id: a.id("conversationId")?, anchor_seq, direction, limit: page_limit(a)? })
}

async fn history(input: &Input<'_>) -> Outcome {
    if input.args.get("offset").is_some() {
        return history_by_offset(input.client, &input.args).await;
    }
    request(input, |a| Ok(history_request(a)?.into()), history_page).await
}

/// `message:history {conversationId, offset, limit}`: the page that skips the `offset` newest messages,
/// newest first, with `total` (the conversation's last seq: every message ever sent in it).
async fn history_by_offset(client: &Client, a: &Args) -> Outcome {
    let conversation_id = a.id("conversationId")?;
    let (offset, limit) = offset_and_limit(a)?;
    let total = super::conversations::get(client, conversation_id).await?.last_seq;
    let mut collected: Vec<Message> = Vec::new();
    let mut anchor_seq = 0;
    let mut more = true;
    while more && collected.len() < offset + limit + 1 {
        let want = (offset + limit + 1 - collected.len()).min(MAX_PAGE as usize) as u32;
        let request = GetHistory { conversation_id, anchor_seq, direction: Direction::Backward, limit: want };
        match client.request(ClientBody::from(request)).await? {
            ServerBody::HistoryPage(p) => {
                more = p.has_more && p.next_anchor_seq != 0 && !p.messages.is_empty();
                anchor_seq = p.next_anchor_seq;
                collected.extend(p.messages);
            }
            other => return Err(unexpected(&other)),
        }
    }
    let has_more = more || collected.len() > offset + limit;
    let page: Vec<Value> = collected.iter().skip(offset).take(limit).map(json::message).collect();
    Ok(json!({
        "conversationId": conversation_id,
        "messages": page,
        "nextCursor": Value::Null,
        "hasMore": has_more,
        "offset": offset,
        "limit": limit,
        "total": total,
    }))
}

/// Messages `first..=last` of a conversation that are there, oldest first (for receipts that name every
/// message they cover); empty when quipd has none or fails.
pub(crate) async fn messages_between(client: &Client, conversation_id: u64, first: u64, last: u64) -> Vec<Message> {
    if first == 0 || last == u64::MAX || first > last {
        return Vec::new();
    }
    let limit = u32::try_from(last - first + 1).unwrap_or(u32::MAX);
    let request = GetHistory { conversation_id, anchor_seq: last + 1, direction: Direction::Backward, limit };
    let Ok(ServerBody::HistoryPage(page)) = client.request(ClientBody::from(request)).await else {
        return Vec::new();
    };
    let mut messages: Vec<Message> = page.messages.into_iter().filter(|m| (first..=last).contains(&m.seq)).collect();
    messages.sort_by_key(|m| m.seq);
    messages
}

fn scope(a: &Args) -> Result<DeleteScope, ApiError> {
    match a.opt_str("scope")?.as_deref().unwrap_or("me") {
        "me" | "forMe" => Ok(DeleteScope::ForMe),
        "everyone" | "forEveryone" => Ok(DeleteScope::ForEveryone),
        other => Err(unknown("scope", other, "me, everyone")),
    }
}

fn message_kind(s: &str) -> Result<MessageKind, ApiError> {
    match s {
        "text" => Ok(MessageKind::Text),
        "image" => Ok(MessageKind::Image),
        "video" => Ok(MessageKind::Video),
        "audio" => Ok(MessageKind::Audio),
        "file" => Ok(MessageKind::File),
        other => Err(unknown("kind", other, "text, image, video, audio, file")),
    }
}

fn attachment_kind(s: &str) -> Result<AttachmentKind, ApiError> {
    match s {
        "file" => Ok(AttachmentKind::File),
        "image" => Ok(AttachmentKind::Image),
        "video" => Ok(AttachmentKind::Video),
        "audio" => Ok(AttachmentKind::Audio),
        "pdf" => Ok(AttachmentKind::Pdf),
        "doc" => Ok(AttachmentKind::Doc),
        other => Err(unknown("attachments[].kind", other, "file, image, video, audio, pdf, doc")),
    }
}

fn kind_for(kind: AttachmentKind) -> MessageKind {
    match kind {
        AttachmentKind::Image => MessageKind::Image,
        AttachmentKind::Video => MessageKind::Video,
        AttachmentKind::Audio => MessageKind::Audio,
        _ => MessageKind::File,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::page::DEFAULT_PAGE;

    #[test]
    fn history_directions_and_bad_enums() {
        let h = history_request(&Args::from_value(json!({"conversationId": 1, "after": 5, "limit": 1000})).unwrap())
            .unwrap();
        assert_eq!((h.anchor_seq, h.direction, h.limit), (5, Direction::Forward, MAX_PAGE));
        let h = history_request(&Args::from_value(json!({"conversationId": 1})).unwrap()).unwrap();
        assert_eq!((h.anchor_seq, h.direction, h.limit), (0, Direction::Backward, DEFAULT_PAGE));
        let bad = Args::from_value(json!({"messageId": 1, "scope": "all"})).unwrap();
        assert_eq!(crate::ops::build("message:delete", &bad).unwrap_err().field.as_deref(), Some("scope"));
    }
}
