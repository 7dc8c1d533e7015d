//! The edge between the broker's records (`model`) and the wire types (`quip_protocol`).

use quip_protocol::family::conversations::{Conversation, ConversationContext, ConversationKind, Member, MemberRole};
use quip_protocol::family::messages::{
    Attachment, AttachmentKind, CallOutcome, CallRecord, CallType, Message, MessageKind, Reaction, ReplyPreview,
    SystemKind,
};
use quip_protocol::{KeyValue, UserProfile, UserRef};

use quip_store::model::{
    self as rec, AttachmentRec, CallRec, Context, ConvHead, ConvKind, ConvMeta, MemberRec, Profile, ReactionRec,
    ReplyPreviewRec, Role, Sender, StoredMessage,
};

/// Both directions between a protocol enum and the stored kind of the same name: the variants listed
/// map one to one, anything else to the fallback of each side (the protocol's enums are non-exhaustive).
macro_rules! kind_pair {
    ($to_rec:ident, $from_rec:ident, $wire:ident, [$($var:ident),+], $wire_else:ident, $rec_else:ident) => {
        #[allow(dead_code)] // not every kind is written from the wire
        pub fn $to_rec(k: $wire) -> rec::$wire {
            match k {
                $($wire::$var => rec::$wire::$var,)+
                _ => rec::$wire::$rec_else,
            }
        }

        pub fn $from_rec(k: rec::$wire) -> $wire {
            match k {
                $(rec::$wire::$var => $wire::$var,)+
                _ => $wire::$wire_else,
            }
        }
    };
}

kind_pair!(message_kind_to_rec, message_kind, MessageKind, [Image, Video, Audio, File, System, Call], Text, Text);
kind_pair!(attachment_kind_to_rec, attachment_kind, AttachmentKind, [Image, Video, Audio, Pdf, Doc], File, File);
kind_pair!(
    system_kind_to_rec,
    system_kind,
    SystemKind,
    [GroupCreated, MembersAdded, MemberRemoved, MemberLeft, RoleChanged, Renamed],
    Unspecified,
    Unspecified
);
kind_pair!(call_type_to_rec, call_type, CallType, [Video], Audio, Audio);
kind_pair!(call_outcome_to_rec, call_outcome, CallOutcome, [Missed, Declined, Cancelled, Failed], Completed, Completed);

pub fn attachment_to_rec(a: &Attachment) -> AttachmentRec {
    AttachmentRec {
        kind: attachment_kind_to_rec(a.kind),
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
        kind: attachment_kind(a.kind),
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
        kind: message_kind(m.kind),
        text: m.text.clone(),
        attachments: m.attachments.iter().map(attachment_from_rec).collect(),
        reply_to: m.reply_preview.as_ref().map(reply_preview),
        client_msg_id: m.client_msg_id.clone(),
        created_at_ms: m.created_at_ms,
        edited_at_ms: m.edited_at_ms,
        deleted: m.deleted,
        metadata: key_values(&m.metadata),
        system: system_kind(m.system),
        call: m.call.as_ref().map(call_record),
        reactions: Vec::new(),
    }
}

fn call_record(c: &CallRec) -> CallRecord {
    CallRecord {
        call_id: c.call_id,
        call_type: call_type(c.call_type),
        outcome: call_outcome(c.outcome),
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
        kind: message_kind(p.kind),
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
