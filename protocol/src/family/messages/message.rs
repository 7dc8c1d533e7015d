//! The stored message as one user sees it, with what it carries: the reply preview and the reactions.

use super::attachments::Attachment;
use super::call_record::CallRecord;
use crate::convert::{max, table_codec, wire_enum};
use crate::family::common::{KeyValue, UserRef};
use crate::fb;

wire_enum! {
    /// What a message is.
    pub enum MessageKind => fb::MessageKind, default Text {
        Text,
        Image,
        Video,
        Audio,
        File,
        /// Written by the server (group created, members added, ...); see [`SystemKind`].
        System,
        /// A finished call; see [`CallRecord`].
        Call,
    }
}

wire_enum! {
    /// What a system message records.
    pub enum SystemKind => fb::SystemKind, default Unspecified {
        Unspecified,
        GroupCreated,
        MembersAdded,
        MemberRemoved,
        MemberLeft,
        RoleChanged,
        Renamed,
    }
}

/// A short quoted preview of the message replied to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyPreview {
    pub message_id: u64,
    pub seq: u64,
    pub sender_id: String,
    pub kind: MessageKind,
    /// The first characters of its text (empty when it was deleted).
    pub text: String,
    pub deleted: bool,
}

table_codec! {
    ReplyPreview => fb::ReplyPreview, fb::ReplyPreviewArgs {
        message_id: scalar,
        seq: scalar,
        sender_id: str_or_empty(max::USER_ID),
        kind: wire_enum(MessageKind),
        text: str_or_empty(max::TEXT),
        deleted: scalar,
    }
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    /// Who reacted (may be a sample when there are many).
    pub user_ids: Vec<String>,
}

table_codec! {
    Reaction => fb::Reaction, fb::ReactionArgs {
        emoji: req_str(max::SHORT),
        count: scalar,
        user_ids: str_list(max::USER_ID),
    }
}

/// A stored message as seen by one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub id: u64,
    pub conversation_id: u64,
    pub seq: u64,
    pub sender: UserRef,
    pub kind: MessageKind,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub reply_to: Option<ReplyPreview>,
    pub client_msg_id: String,
    pub created_at_ms: u64,
    /// 0: never edited.
    pub edited_at_ms: u64,
    /// A tombstone: deleted for everyone; text and attachments are gone.
    pub deleted: bool,
    pub reactions: Vec<Reaction>,
    /// Set on Call messages.
    pub call: Option<CallRecord>,
    /// Set on System messages.
    pub system: SystemKind,
    pub metadata: Vec<KeyValue>,
}

table_codec! {
    Message => fb::Message, fb::MessageArgs {
        id: scalar,
        conversation_id: scalar,
        seq: scalar,
        sender: table(UserRef),
        kind: wire_enum(MessageKind),
        text: str_or_empty(max::TEXT),
        attachments: table_list(Attachment, max::ATTACHMENTS),
        reply_to: opt_table(ReplyPreview),
        client_msg_id: str_or_empty(max::CLIENT_MSG_ID),
        created_at_ms: scalar,
        edited_at_ms: scalar,
        deleted: scalar,
        reactions: table_list(Reaction, max::LIST),
        call: opt_table(CallRecord),
        system: wire_enum(SystemKind),
        metadata: table_list(KeyValue, max::FIELDS),
    }
}
