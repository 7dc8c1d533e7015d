//! The edge between the broker's records (`model`) and the wire types (`quip_protocol`).

use quip_protocol::family::conversations::{Conversation, ConversationContext, ConversationKind, Member, MemberRole};
use quip_protocol::family::messages::{
    Attachment, AttachmentKind, CallOutcome, CallRecord, CallType, Message, MessageKind, Reaction, ReplyPreview,
    SystemKind,
};
use quip_protocol::{KeyValue, UserProfile, UserRef};

use crate::model::{
    AttachmentRec, CallRec, Context, ConvHead, ConvKind, ConvMeta, MemberRec, Profile, ReactionRec, ReplyPreviewRec,
    Role, Sender, StoredMessage,
};

pub fn message_kind_to_u8(k: MessageKind) -> u8 {
    match k {
        MessageKind::Text => 0,
        MessageKind::Image => 1,
        MessageKind::Video => 2,
        MessageKind::Audio => 3,
        MessageKind::File => 4,
        MessageKind::System => 5,
        MessageKind::Call => 6,
        _ => 0,
    }
}

pub fn message_kind_from_u8(k: u8) -> MessageKind {
    match k {
        1 => MessageKind::Image,
        2 => MessageKind::Video,
        3 => MessageKind::Audio,
        4 => MessageKind::File,
        5 => MessageKind::System,
        6 => MessageKind::Call,
        _ => MessageKind::Text,
    }
}

fn attachment_kind_to_u8(k: AttachmentKind) -> u8 {
    match k {
        AttachmentKind::Image => 1,
        AttachmentKind::Video => 2,
        AttachmentKind::Audio => 3,
        AttachmentKind::Pdf => 4,
        AttachmentKind::Doc => 5,
        _ => 0,
    }
}

fn attachment_kind_from_u8(k: u8) -> AttachmentKind {
    match k {
        1 => AttachmentKind::Image,
        2 => AttachmentKind::Video,
        3 => AttachmentKind::Audio,
        4 => AttachmentKind::Pdf,
        5 => AttachmentKind::Doc,
        _ => AttachmentKind::File,
    }
}

pub fn attachment_to_rec(a: &Attachment) -> AttachmentRec {
    AttachmentRec {
        kind: attachment_kind_to_u8(a.kind),
        url: a.url.clone(),
        mime: a.mime.clone(),
        name: a.name.clone(),
        size: a.size,
        width: a.width,
        height: a.height,
        duration_ms: a.duration_ms,
        thumbnail_url: a.thumbnail_url.clone(),
    }
}

fn attachment_from_rec(a: &AttachmentRec) -> Attachment {
    Attachment {
        kind: attachment_kind_from_u8(a.kind),
        url: a.url.clone(),
        mime: a.mime.clone(),
        name: a.name.clone(),
        size: a.size,
        width: a.width,
        height: a.height,
        duration_ms: a.duration_ms,
        thumbnail_url: a.thumbnail_url.clone(),
    }
}

pub fn sender_ref(s: &Sender) -> UserRef {
    UserRef { id: s.id.clone(), display_name: s.name.clone(), avatar_url: s.avatar_url.clone() }
}

pub fn key_values(v: &[(String, String)]) -> Vec<KeyValue> {
    v.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect()
}

pub fn pairs(v: &[KeyValue]) -> Vec<(String, String)> {
    v.iter().map(|kv| (kv.key.clone(), kv.value.clone())).collect()
}

/// A stored message as clients see it.
pub fn message(m: &StoredMessage) -> Message {
    Message {
        id: m.id,
        conversation_id: m.conv,
        seq: m.seq,
        sender: sender_ref(&m.sender),
        kind: message_kind_from_u8(m.kind),
        text: m.text.clone(),
        attachments: m.attachments.iter().map(attachment_from_rec).collect(),
        reply_to: m.reply_preview.as_ref().map(reply_preview),
        client_msg_id: m.client_msg_id.clone(),
        created_at_ms: m.created_at_ms,
        edited_at_ms: m.edited_at_ms,
        deleted: m.deleted,
        metadata: key_values(&m.metadata),
        system: system_kind_from_u8(m.system),
        call: m.call.as_ref().map(call_record),
        reactions: Vec::new(),
    }
}

fn system_kind_from_u8(k: u8) -> SystemKind {
    match k {
        1 => SystemKind::GroupCreated,
        2 => SystemKind::MembersAdded,
        3 => SystemKind::MemberRemoved,
        4 => SystemKind::MemberLeft,
        5 => SystemKind::RoleChanged,
        6 => SystemKind::Renamed,
        _ => SystemKind::Unspecified,
    }
}

pub fn call_type_to_u8(t: CallType) -> u8 {
    match t {
        CallType::Video => 1,
        _ => 0,
    }
}

pub fn call_type_from_u8(t: u8) -> CallType {
    if t == 1 { CallType::Video } else { CallType::Audio }
}

pub fn call_outcome_to_u8(o: CallOutcome) -> u8 {
    match o {
        CallOutcome::Missed => 1,
        CallOutcome::Declined => 2,
        CallOutcome::Cancelled => 3,
        CallOutcome::Failed => 4,
        _ => 0,
    }
}

fn call_outcome_from_u8(o: u8) -> CallOutcome {
    match o {
        1 => CallOutcome::Missed,
        2 => CallOutcome::Declined,
        3 => CallOutcome::Cancelled,
        4 => CallOutcome::Failed,
        _ => CallOutcome::Completed,
    }
}

fn call_record(c: &CallRec) -> CallRecord {
    CallRecord {
        call_id: c.call_id,
        call_type: call_type_from_u8(c.call_type),
        outcome: call_outcome_from_u8(c.outcome),
        caller_id: c.caller_id.clone(),
        started_at_ms: c.started_at_ms,
        answered_at_ms: c.answered_at_ms,
        ended_at_ms: c.ended_at_ms,
        duration_ms: c.duration_ms,
    }
}

/// The stored preview of a replied message as clients see it.
pub fn reply_preview(p: &ReplyPreviewRec) -> ReplyPreview {
    ReplyPreview {
        message_id: p.message_id,
        seq: p.seq,
        sender_id: p.sender_id.clone(),
        kind: message_kind_from_u8(p.kind),
        text: p.text.clone(),
        deleted: p.deleted,
    }
}

/// How many of the users who reacted with one emoji are named; `count` has them all.
pub const REACTION_USERS_SHOWN: usize = 50;

/// A message's reactions as clients see them: every emoji with its count and its first reactors.
pub fn reactions(set: &[ReactionRec]) -> Vec<Reaction> {
    set.iter()
        .map(|r| Reaction {
            emoji: r.emoji.clone(),
            count: u32::try_from(r.users.len()).unwrap_or(u32::MAX),
            user_ids: r.users.iter().take(REACTION_USERS_SHOWN).cloned().collect(),
        })
        .collect()
}

pub fn role(r: Role) -> MemberRole {
    match r {
        Role::Member => MemberRole::Member,
        Role::Admin => MemberRole::Admin,
        Role::Owner => MemberRole::Owner,
    }
}

pub fn context_from_wire(c: &ConversationContext) -> Context {
    Context { kind: c.kind.clone(), id: c.id.clone(), title: (!c.title.is_empty()).then(|| c.title.clone()) }
}

fn context_to_wire(c: &Context) -> ConversationContext {
    ConversationContext { kind: c.kind.clone(), id: c.id.clone(), title: c.title.clone().unwrap_or_default() }
}

/// A conversation as one user sees it.
pub fn conversation(
    meta: &ConvMeta,
    head: &ConvHead,
    members: &[(String, MemberRec, Option<Profile>)],
    last: Option<&StoredMessage>,
) -> Conversation {
    Conversation {
        id: meta.id,
        kind: match meta.kind {
            ConvKind::Direct => ConversationKind::Direct,
            ConvKind::Group => ConversationKind::Group,
        },
        title: meta.title.clone().unwrap_or_default(),
        avatar_url: meta.avatar_url.clone().unwrap_or_default(),
        description: meta.description.clone().unwrap_or_default(),
        context: meta.context.as_ref().map(context_to_wire),
        members: members
            .iter()
            .map(|(id, rec, profile)| Member {
                user: profile.as_ref().map(|p| sender_ref(&p.sender())).unwrap_or_else(|| UserRef::new(id.clone())),
                role: role(rec.role),
                joined_at_ms: rec.joined_at_ms,
            })
            .collect(),
        created_by: meta.created_by.clone(),
        created_at_ms: meta.created_at_ms,
        last_activity_ms: head.last_activity_ms,
        last_seq: head.last_seq,
        last_message: last.map(|m| Box::new(message(m))),
        ..Conversation::default()
    }
}

pub fn profile(p: &Profile) -> UserProfile {
    UserProfile {
        id: p.id.clone(),
        display_name: p.name.clone(),
        avatar_url: p.avatar_url.clone(),
        fields: key_values(&p.fields),
        updated_at_ms: p.updated_at_ms,
    }
}
