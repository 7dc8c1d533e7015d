//! Message frames: send (idempotent by client message id), edit, delete, reactions, replies,
//! attachments, history paging and sync.

use flatbuffers::WIPOffset;

use super::common::{KeyValue, ResumePoint, UserRef, dec_fields, enc_fields};
use crate::convert::{
    Fbb, enc_str, enc_str_list, enc_table_list, max, req_str, str_list, str_or_empty, table_list, wire_enum,
};
use crate::{DecodeError, fb};

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
    /// What an attachment is.
    pub enum AttachmentKind => fb::AttachmentKind, default File {
        File,
        Image,
        Video,
        Audio,
        Pdf,
        Doc,
    }
}

wire_enum! {
    /// Audio or video call.
    pub enum CallType => fb::CallType, default Audio {
        Audio,
        Video,
    }
}

wire_enum! {
    /// How a call ended, as recorded in its call message.
    pub enum CallOutcome => fb::CallOutcome, default Completed {
        Completed,
        Missed,
        Declined,
        Cancelled,
        Failed,
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

wire_enum! {
    /// Who a deletion applies to.
    pub enum DeleteScope => fb::DeleteScope, default ForMe {
        ForMe,
        ForEveryone,
    }
}

wire_enum! {
    /// Which way a history page goes from its anchor.
    pub enum Direction => fb::Direction, default Backward {
        /// Older messages (seq < anchor), newest first.
        Backward,
        /// Newer messages (seq > anchor), oldest first.
        Forward,
    }
}

/// A file attached to a message (uploaded elsewhere; the message carries its URL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub url: String,
    pub mime: String,
    pub name: String,
    /// In bytes.
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u32,
    pub thumbnail_url: String,
}

impl Attachment {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Attachment<'b>> {
        let url = Some(fbb.create_string(&self.url));
        let mime = enc_str(fbb, &self.mime);
        let name = enc_str(fbb, &self.name);
        let thumbnail_url = enc_str(fbb, &self.thumbnail_url);
        fb::Attachment::create(
            fbb,
            &fb::AttachmentArgs {
                kind: self.kind.to_wire(),
                url,
                mime,
                name,
                size: self.size,
                width: self.width,
                height: self.height,
                duration_ms: self.duration_ms,
                thumbnail_url,
            },
        )
    }

    pub(crate) fn decode(t: fb::Attachment<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kind: AttachmentKind::from_wire(t.kind(), "Attachment", "kind")?,
            url: req_str(t.url(), "Attachment", "url", max::URL)?,
            mime: str_or_empty(t.mime(), "Attachment", "mime", max::SHORT)?,
            name: str_or_empty(t.name(), "Attachment", "name", max::SHORT)?,
            size: t.size(),
            width: t.width(),
            height: t.height(),
            duration_ms: t.duration_ms(),
            thumbnail_url: str_or_empty(t.thumbnail_url(), "Attachment", "thumbnail_url", max::URL)?,
        })
    }
}

fn enc_attachments<'b>(
    fbb: &mut Fbb<'b>,
    v: &[Attachment],
) -> Option<WIPOffset<flatbuffers::Vector<'b, flatbuffers::ForwardsUOffset<fb::Attachment<'b>>>>> {
    enc_table_list(fbb, v, |a, fbb| a.encode(fbb))
}

fn dec_attachments<'a>(
    v: Option<flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<fb::Attachment<'a>>>>,
    table: &'static str,
) -> Result<Vec<Attachment>, DecodeError> {
    table_list(v, table, "attachments", max::ATTACHMENTS, Attachment::decode)
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

impl ReplyPreview {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ReplyPreview<'b>> {
        let sender_id = enc_str(fbb, &self.sender_id);
        let text = enc_str(fbb, &self.text);
        fb::ReplyPreview::create(
            fbb,
            &fb::ReplyPreviewArgs {
                message_id: self.message_id,
                seq: self.seq,
                sender_id,
                kind: self.kind.to_wire(),
                text,
                deleted: self.deleted,
            },
        )
    }

    pub(crate) fn decode(t: fb::ReplyPreview<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_id: t.message_id(),
            seq: t.seq(),
            sender_id: str_or_empty(t.sender_id(), "ReplyPreview", "sender_id", max::USER_ID)?,
            kind: MessageKind::from_wire(t.kind(), "ReplyPreview", "kind")?,
            text: str_or_empty(t.text(), "ReplyPreview", "text", max::TEXT)?,
            deleted: t.deleted(),
        })
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

impl Reaction {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Reaction<'b>> {
        let emoji = Some(fbb.create_string(&self.emoji));
        let user_ids = enc_str_list(fbb, &self.user_ids);
        fb::Reaction::create(fbb, &fb::ReactionArgs { emoji, count: self.count, user_ids })
    }

    pub(crate) fn decode(t: fb::Reaction<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            emoji: req_str(t.emoji(), "Reaction", "emoji", max::SHORT)?,
            count: t.count(),
            user_ids: str_list(t.user_ids(), "Reaction", "user_ids", max::USER_ID)?,
        })
    }
}

fn enc_reactions<'b>(
    fbb: &mut Fbb<'b>,
    v: &[Reaction],
) -> Option<WIPOffset<flatbuffers::Vector<'b, flatbuffers::ForwardsUOffset<fb::Reaction<'b>>>>> {
    enc_table_list(fbb, v, |r, fbb| r.encode(fbb))
}

fn dec_reactions<'a>(
    v: Option<flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<fb::Reaction<'a>>>>,
    table: &'static str,
) -> Result<Vec<Reaction>, DecodeError> {
    table_list(v, table, "reactions", max::LIST, Reaction::decode)
}

/// Written into a conversation as a Call message when a call ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRecord {
    pub call_id: u64,
    pub call_type: CallType,
    pub outcome: CallOutcome,
    pub caller_id: String,
    pub started_at_ms: u64,
    pub answered_at_ms: u64,
    pub ended_at_ms: u64,
    pub duration_ms: u64,
}

impl CallRecord {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallRecord<'b>> {
        let caller_id = enc_str(fbb, &self.caller_id);
        fb::CallRecord::create(
            fbb,
            &fb::CallRecordArgs {
                call_id: self.call_id,
                call_type: self.call_type.to_wire(),
                outcome: self.outcome.to_wire(),
                caller_id,
                started_at_ms: self.started_at_ms,
                answered_at_ms: self.answered_at_ms,
                ended_at_ms: self.ended_at_ms,
                duration_ms: self.duration_ms,
            },
        )
    }

    pub(crate) fn decode(t: fb::CallRecord<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            call_id: t.call_id(),
            call_type: CallType::from_wire(t.call_type(), "CallRecord", "call_type")?,
            outcome: CallOutcome::from_wire(t.outcome(), "CallRecord", "outcome")?,
            caller_id: str_or_empty(t.caller_id(), "CallRecord", "caller_id", max::USER_ID)?,
            started_at_ms: t.started_at_ms(),
            answered_at_ms: t.answered_at_ms(),
            ended_at_ms: t.ended_at_ms(),
            duration_ms: t.duration_ms(),
        })
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

impl Message {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Message<'b>> {
        let sender = Some(self.sender.encode(fbb));
        let text = enc_str(fbb, &self.text);
        let attachments = enc_attachments(fbb, &self.attachments);
        let reply_to = self.reply_to.as_ref().map(|r| r.encode(fbb));
        let client_msg_id = enc_str(fbb, &self.client_msg_id);
        let reactions = enc_reactions(fbb, &self.reactions);
        let call = self.call.as_ref().map(|c| c.encode(fbb));
        let metadata = enc_fields(fbb, &self.metadata);
        fb::Message::create(
            fbb,
            &fb::MessageArgs {
                id: self.id,
                conversation_id: self.conversation_id,
                seq: self.seq,
                sender,
                kind: self.kind.to_wire(),
                text,
                attachments,
                reply_to,
                client_msg_id,
                created_at_ms: self.created_at_ms,
                edited_at_ms: self.edited_at_ms,
                deleted: self.deleted,
                reactions,
                call,
                system: self.system.to_wire(),
                metadata,
            },
        )
    }

    pub(crate) fn decode(t: fb::Message<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: t.id(),
            conversation_id: t.conversation_id(),
            seq: t.seq(),
            sender: UserRef::decode(t.sender())?,
            kind: MessageKind::from_wire(t.kind(), "Message", "kind")?,
            text: str_or_empty(t.text(), "Message", "text", max::TEXT)?,
            attachments: dec_attachments(t.attachments(), "Message")?,
            reply_to: t.reply_to().map(ReplyPreview::decode).transpose()?,
            client_msg_id: str_or_empty(t.client_msg_id(), "Message", "client_msg_id", max::CLIENT_MSG_ID)?,
            created_at_ms: t.created_at_ms(),
            edited_at_ms: t.edited_at_ms(),
            deleted: t.deleted(),
            reactions: dec_reactions(t.reactions(), "Message")?,
            call: t.call().map(CallRecord::decode).transpose()?,
            system: SystemKind::from_wire(t.system(), "Message", "system")?,
            metadata: dec_fields(t.metadata(), "Message", "metadata")?,
        })
    }
}

/// Send a message; a retry with the same `client_msg_id` returns the first ack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessage {
    pub conversation_id: u64,
    /// Chosen by the client (at most 64 bytes).
    pub client_msg_id: String,
    pub kind: MessageKind,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The id of a message in the same conversation (0: not a reply).
    pub reply_to: u64,
    pub metadata: Vec<KeyValue>,
}

impl SendMessage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::SendMessage<'b>> {
        let client_msg_id = Some(fbb.create_string(&self.client_msg_id));
        let text = enc_str(fbb, &self.text);
        let attachments = enc_attachments(fbb, &self.attachments);
        let metadata = enc_fields(fbb, &self.metadata);
        fb::SendMessage::create(
            fbb,
            &fb::SendMessageArgs {
                conversation_id: self.conversation_id,
                client_msg_id,
                kind: self.kind.to_wire(),
                text,
                attachments,
                reply_to: self.reply_to,
                metadata,
            },
        )
    }

    pub(crate) fn decode(t: fb::SendMessage<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            client_msg_id: req_str(t.client_msg_id(), "SendMessage", "client_msg_id", max::CLIENT_MSG_ID)?,
            kind: MessageKind::from_wire(t.kind(), "SendMessage", "kind")?,
            text: str_or_empty(t.text(), "SendMessage", "text", max::TEXT)?,
            attachments: dec_attachments(t.attachments(), "SendMessage")?,
            reply_to: t.reply_to(),
            metadata: dec_fields(t.metadata(), "SendMessage", "metadata")?,
        })
    }
}

/// The answer to SendMessage, sent only once the message is durable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAck {
    pub conversation_id: u64,
    pub message_id: u64,
    pub seq: u64,
    pub created_at_ms: u64,
    pub client_msg_id: String,
    /// True when this is the ack of an earlier send with the same client_msg_id.
    pub duplicate: bool,
}

impl MessageAck {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageAck<'b>> {
        let client_msg_id = enc_str(fbb, &self.client_msg_id);
        fb::MessageAck::create(
            fbb,
            &fb::MessageAckArgs {
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                seq: self.seq,
                created_at_ms: self.created_at_ms,
                client_msg_id,
                duplicate: self.duplicate,
            },
        )
    }

    pub(crate) fn decode(t: fb::MessageAck<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            message_id: t.message_id(),
            seq: t.seq(),
            created_at_ms: t.created_at_ms(),
            client_msg_id: str_or_empty(t.client_msg_id(), "MessageAck", "client_msg_id", max::CLIENT_MSG_ID)?,
            duplicate: t.duplicate(),
        })
    }
}

/// Replace a message's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditMessage {
    pub message_id: u64,
    pub text: String,
}

impl EditMessage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::EditMessage<'b>> {
        let text = Some(fbb.create_string(&self.text));
        fb::EditMessage::create(fbb, &fb::EditMessageArgs { message_id: self.message_id, text })
    }

    pub(crate) fn decode(t: fb::EditMessage<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message_id: t.message_id(), text: req_str(t.text(), "EditMessage", "text", max::TEXT)? })
    }
}

/// Delete a message for the caller or for everyone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteMessage {
    pub message_id: u64,
    pub scope: DeleteScope,
}

impl DeleteMessage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::DeleteMessage<'b>> {
        fb::DeleteMessage::create(
            fbb,
            &fb::DeleteMessageArgs { message_id: self.message_id, scope: self.scope.to_wire() },
        )
    }

    pub(crate) fn decode(t: fb::DeleteMessage<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message_id: t.message_id(), scope: DeleteScope::from_wire(t.scope(), "DeleteMessage", "scope")? })
    }
}

/// Add (or, with `remove`, take back) a reaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct React {
    pub message_id: u64,
    pub emoji: String,
    /// false adds the reaction, true removes it.
    pub remove: bool,
}

impl React {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::React<'b>> {
        let emoji = Some(fbb.create_string(&self.emoji));
        fb::React::create(fbb, &fb::ReactArgs { message_id: self.message_id, emoji, remove: self.remove })
    }

    pub(crate) fn decode(t: fb::React<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_id: t.message_id(),
            emoji: req_str(t.emoji(), "React", "emoji", max::SHORT)?,
            remove: t.remove(),
        })
    }
}

/// Fetch one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetMessage {
    pub message_id: u64,
}

impl GetMessage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetMessage<'b>> {
        fb::GetMessage::create(fbb, &fb::GetMessageArgs { message_id: self.message_id })
    }

    pub(crate) fn decode(t: fb::GetMessage<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message_id: t.message_id() })
    }
}

/// A page of one conversation's history by sequence cursor (anchor 0 going backward: from the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetHistory {
    pub conversation_id: u64,
    pub anchor_seq: u64,
    pub direction: Direction,
    /// The schema's default is 50.
    pub limit: u32,
}

impl Default for GetHistory {
    fn default() -> Self {
        Self { conversation_id: 0, anchor_seq: 0, direction: Direction::Backward, limit: 50 }
    }
}

impl GetHistory {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetHistory<'b>> {
        fb::GetHistory::create(
            fbb,
            &fb::GetHistoryArgs {
                conversation_id: self.conversation_id,
                anchor_seq: self.anchor_seq,
                direction: self.direction.to_wire(),
                limit: self.limit,
            },
        )
    }

    pub(crate) fn decode(t: fb::GetHistory<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            anchor_seq: t.anchor_seq(),
            direction: Direction::from_wire(t.direction(), "GetHistory", "direction")?,
            limit: t.limit(),
        })
    }
}

/// A page of history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    pub conversation_id: u64,
    pub messages: Vec<Message>,
    /// Pass as anchor_seq for the next page in the same direction; 0 when there is none.
    pub next_anchor_seq: u64,
    pub has_more: bool,
}

impl HistoryPage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::HistoryPage<'b>> {
        let messages = enc_table_list(fbb, &self.messages, |m, fbb| m.encode(fbb));
        fb::HistoryPage::create(
            fbb,
            &fb::HistoryPageArgs {
                conversation_id: self.conversation_id,
                messages,
                next_anchor_seq: self.next_anchor_seq,
                has_more: self.has_more,
            },
        )
    }

    pub(crate) fn decode(t: fb::HistoryPage<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            messages: table_list(t.messages(), "HistoryPage", "messages", max::LIST, Message::decode)?,
            next_anchor_seq: t.next_anchor_seq(),
            has_more: t.has_more(),
        })
    }
}

/// Replay what the client missed since `since` (as MessageEvents before SyncDone), then go on live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    pub since: ResumePoint,
}

impl SyncRequest {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::SyncRequest<'b>> {
        let since = Some(self.since.encode(fbb));
        fb::SyncRequest::create(fbb, &fb::SyncRequestArgs { since })
    }

    pub(crate) fn decode(t: fb::SyncRequest<'_>) -> Result<Self, DecodeError> {
        Ok(Self { since: ResumePoint::decode(t.since())? })
    }
}

/// The replay asked for by SyncRequest is complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncDone {
    pub global_cursor: u64,
    pub replayed: u32,
}

impl SyncDone {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::SyncDone<'b>> {
        fb::SyncDone::create(fbb, &fb::SyncDoneArgs { global_cursor: self.global_cursor, replayed: self.replayed })
    }

    pub(crate) fn decode(t: fb::SyncDone<'_>) -> Result<Self, DecodeError> {
        Ok(Self { global_cursor: t.global_cursor(), replayed: t.replayed() })
    }
}

/// A message was stored in a conversation the user is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageEvent {
    pub message: Message,
    /// The store-wide position of this message: keep the highest for ResumePoint.global_cursor.
    pub cursor: u64,
    /// True while replaying (resume or Sync) rather than live.
    pub replay: bool,
}

impl MessageEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageEvent<'b>> {
        let message = Some(self.message.encode(fbb));
        fb::MessageEvent::create(fbb, &fb::MessageEventArgs { message, cursor: self.cursor, replay: self.replay })
    }

    pub(crate) fn decode(t: fb::MessageEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message: Message::decode(t.message())?, cursor: t.cursor(), replay: t.replay() })
    }
}

/// A message's text was edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageEditedEvent {
    pub conversation_id: u64,
    pub message_id: u64,
    pub seq: u64,
    pub text: String,
    pub edited_at_ms: u64,
}

impl MessageEditedEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageEditedEvent<'b>> {
        let text = enc_str(fbb, &self.text);
        fb::MessageEditedEvent::create(
            fbb,
            &fb::MessageEditedEventArgs {
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                seq: self.seq,
                text,
                edited_at_ms: self.edited_at_ms,
            },
        )
    }

    pub(crate) fn decode(t: fb::MessageEditedEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            message_id: t.message_id(),
            seq: t.seq(),
            text: str_or_empty(t.text(), "MessageEditedEvent", "text", max::TEXT)?,
            edited_at_ms: t.edited_at_ms(),
        })
    }
}

/// A message was deleted (for the caller only, or for everyone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageDeletedEvent {
    pub conversation_id: u64,
    pub message_id: u64,
    pub seq: u64,
    pub scope: DeleteScope,
    pub deleted_by: String,
    pub at_ms: u64,
}

impl MessageDeletedEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageDeletedEvent<'b>> {
        let deleted_by = enc_str(fbb, &self.deleted_by);
        fb::MessageDeletedEvent::create(
            fbb,
            &fb::MessageDeletedEventArgs {
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                seq: self.seq,
                scope: self.scope.to_wire(),
                deleted_by,
                at_ms: self.at_ms,
            },
        )
    }

    pub(crate) fn decode(t: fb::MessageDeletedEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            message_id: t.message_id(),
            seq: t.seq(),
            scope: DeleteScope::from_wire(t.scope(), "MessageDeletedEvent", "scope")?,
            deleted_by: str_or_empty(t.deleted_by(), "MessageDeletedEvent", "deleted_by", max::USER_ID)?,
            at_ms: t.at_ms(),
        })
    }
}

/// Someone added or removed a reaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReactionEvent {
    pub conversation_id: u64,
    pub message_id: u64,
    pub user_id: String,
    pub emoji: String,
    pub removed: bool,
    /// All reactions on the message after the change.
    pub reactions: Vec<Reaction>,
}

impl ReactionEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ReactionEvent<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        let emoji = Some(fbb.create_string(&self.emoji));
        let reactions = enc_reactions(fbb, &self.reactions);
        fb::ReactionEvent::create(
            fbb,
            &fb::ReactionEventArgs {
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                user_id,
                emoji,
                removed: self.removed,
                reactions,
            },
        )
    }

    pub(crate) fn decode(t: fb::ReactionEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            message_id: t.message_id(),
            user_id: req_str(t.user_id(), "ReactionEvent", "user_id", max::USER_ID)?,
            emoji: req_str(t.emoji(), "ReactionEvent", "emoji", max::SHORT)?,
            removed: t.removed(),
            reactions: dec_reactions(t.reactions(), "ReactionEvent")?,
        })
    }
}

/// The answer to GetMessage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageInfo {
    pub message: Message,
}

impl MessageInfo {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageInfo<'b>> {
        let message = Some(self.message.encode(fbb));
        fb::MessageInfo::create(fbb, &fb::MessageInfoArgs { message })
    }

    pub(crate) fn decode(t: fb::MessageInfo<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message: Message::decode(t.message())? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::common::ConversationCursor;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, ClientFrame, Limits, ServerBody, ServerFrame};

    fn image() -> Attachment {
        Attachment {
            kind: AttachmentKind::Image,
            url: "https://cdn.example/p/1.jpg".into(),
            mime: "image/jpeg".into(),
            name: "1.jpg".into(),
            size: 482_113,
            width: 1920,
            height: 1080,
            duration_ms: 0,
            thumbnail_url: "https://cdn.example/p/1_t.jpg".into(),
        }
    }

    /// A message with every field filled.
    fn full_message() -> Message {
        Message {
            id: 9001,
            conversation_id: 7,
            seq: 42,
            sender: UserRef {
                id: "u-alice".into(),
                display_name: Some("Alice".into()),
                avatar_url: Some("https://cdn.example/a.png".into()),
            },
            kind: MessageKind::Image,
            text: "look at this 🐕".into(),
            attachments: vec![
                image(),
                Attachment {
                    kind: AttachmentKind::Audio,
                    url: "https://cdn.example/v.ogg".into(),
                    duration_ms: 12_500,
                    ..Attachment::default()
                },
            ],
            reply_to: Some(ReplyPreview {
                message_id: 9000,
                seq: 41,
                sender_id: "u-bob".into(),
                kind: MessageKind::Text,
                text: "is the puppy still avail".into(),
                deleted: false,
            }),
            client_msg_id: "c-0f3a".into(),
            created_at_ms: 1_700_000_000_000,
            edited_at_ms: 1_700_000_060_000,
            deleted: false,
            reactions: vec![
                Reaction { emoji: "👍".into(), count: 2, user_ids: vec!["u-bob".into(), "u-carol".into()] },
                Reaction { emoji: "❤️".into(), count: 1, user_ids: vec![] },
            ],
            call: Some(CallRecord {
                call_id: 55,
                call_type: CallType::Video,
                outcome: CallOutcome::Completed,
                caller_id: "u-alice".into(),
                started_at_ms: 1,
                answered_at_ms: 2,
                ended_at_ms: 3,
                duration_ms: 4,
            }),
            system: SystemKind::Renamed,
            metadata: vec![KeyValue::new("listing", "pet-12"), KeyValue::new("empty", "")],
        }
    }

    fn minimal_message() -> Message {
        Message { sender: UserRef::new("u"), ..Message::default() }
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::SendMessage(SendMessage {
            conversation_id: 7,
            client_msg_id: "c".repeat(max::CLIENT_MSG_ID),
            kind: MessageKind::File,
            text: "the contract".into(),
            attachments: vec![image(); max::ATTACHMENTS],
            reply_to: 9000,
            metadata: vec![KeyValue::new("k", "v")],
        }));
        roundtrip_client(ClientBody::SendMessage(SendMessage { client_msg_id: "c1".into(), ..SendMessage::default() }));
        roundtrip_client(ClientBody::EditMessage(EditMessage { message_id: 9001, text: "fixed typo".into() }));
        roundtrip_client(ClientBody::DeleteMessage(DeleteMessage {
            message_id: 9001,
            scope: DeleteScope::ForEveryone,
        }));
        roundtrip_client(ClientBody::DeleteMessage(DeleteMessage::default()));
        roundtrip_client(ClientBody::React(React { message_id: 9001, emoji: "👍".into(), remove: true }));
        roundtrip_client(ClientBody::React(React { emoji: "x".into(), ..React::default() }));
        roundtrip_client(ClientBody::GetMessage(GetMessage { message_id: u64::MAX }));
        roundtrip_client(ClientBody::GetMessage(GetMessage::default()));
        roundtrip_client(ClientBody::GetHistory(GetHistory {
            conversation_id: 7,
            anchor_seq: 100,
            direction: Direction::Forward,
            limit: 200,
        }));
        roundtrip_client(ClientBody::GetHistory(GetHistory::default()));
        roundtrip_client(ClientBody::GetHistory(GetHistory { limit: 0, ..GetHistory::default() }));
        roundtrip_client(ClientBody::SyncRequest(SyncRequest {
            since: ResumePoint {
                cursors: vec![
                    ConversationCursor { conversation_id: 7, seq: 42 },
                    ConversationCursor { conversation_id: 8, seq: 0 },
                ],
                global_cursor: 1234,
            },
        }));
        roundtrip_client(ClientBody::SyncRequest(SyncRequest::default()));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::MessageAck(MessageAck {
            conversation_id: 7,
            message_id: 9001,
            seq: 42,
            created_at_ms: 1_700_000_000_000,
            client_msg_id: "c-0f3a".into(),
            duplicate: true,
        }));
        roundtrip_server(ServerBody::MessageAck(MessageAck::default()));
        roundtrip_server(ServerBody::MessageInfo(MessageInfo { message: full_message() }));
        roundtrip_server(ServerBody::MessageInfo(MessageInfo { message: minimal_message() }));
        roundtrip_server(ServerBody::HistoryPage(HistoryPage {
            conversation_id: 7,
            messages: vec![full_message(), minimal_message()],
            next_anchor_seq: 41,
            has_more: true,
        }));
        roundtrip_server(ServerBody::HistoryPage(HistoryPage::default()));
        roundtrip_server(ServerBody::SyncDone(SyncDone { global_cursor: 99, replayed: 12 }));
        roundtrip_server(ServerBody::SyncDone(SyncDone::default()));
        roundtrip_server(ServerBody::MessageEvent(MessageEvent {
            message: full_message(),
            cursor: 1234,
            replay: true,
        }));
        roundtrip_server(ServerBody::MessageEvent(MessageEvent {
            message: Message {
                kind: MessageKind::System,
                system: SystemKind::MembersAdded,
                deleted: true,
                ..minimal_message()
            },
            ..MessageEvent::default()
        }));
        roundtrip_server(ServerBody::MessageEditedEvent(MessageEditedEvent {
            conversation_id: 7,
            message_id: 9001,
            seq: 42,
            text: "fixed typo".into(),
            edited_at_ms: 5,
        }));
        roundtrip_server(ServerBody::MessageEditedEvent(MessageEditedEvent::default()));
        roundtrip_server(ServerBody::MessageDeletedEvent(MessageDeletedEvent {
            conversation_id: 7,
            message_id: 9001,
            seq: 42,
            scope: DeleteScope::ForEveryone,
            deleted_by: "u-alice".into(),
            at_ms: 6,
        }));
        roundtrip_server(ServerBody::MessageDeletedEvent(MessageDeletedEvent::default()));
        roundtrip_server(ServerBody::ReactionEvent(ReactionEvent {
            conversation_id: 7,
            message_id: 9001,
            user_id: "u-bob".into(),
            emoji: "👍".into(),
            removed: false,
            reactions: full_message().reactions,
        }));
        roundtrip_server(ServerBody::ReactionEvent(ReactionEvent {
            user_id: "u".into(),
            emoji: "x".into(),
            removed: true,
            ..ReactionEvent::default()
        }));
    }

    fn decode_client(body: impl Into<ClientBody>) -> Result<ClientFrame, DecodeError> {
        ClientFrame::decode(&ClientFrame::new(1, body).encode(), &Limits::default())
    }

    #[test]
    fn empty_required_fields_are_rejected() {
        let err = decode_client(SendMessage::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "SendMessage", field: "client_msg_id" });
        let err = decode_client(EditMessage { message_id: 1, text: String::new() }).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "EditMessage", field: "text" });
        let send = SendMessage {
            client_msg_id: "c".into(),
            attachments: vec![Attachment::default()],
            ..SendMessage::default()
        };
        assert_eq!(decode_client(send).unwrap_err(), DecodeError::MissingField { table: "Attachment", field: "url" });
        let event = MessageEvent { message: Message::default(), ..MessageEvent::default() };
        let err = ServerFrame::decode(&ServerFrame::new(0, event).encode(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "UserRef", field: "id" });
    }

    #[test]
    fn overlong_fields_are_rejected() {
        let send = SendMessage { client_msg_id: "c".repeat(max::CLIENT_MSG_ID + 1), ..SendMessage::default() };
        let err = decode_client(send).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "SendMessage", field: "client_msg_id", len: 65, max: 64 });
        assert_eq!(err.code(), crate::ErrorCode::PayloadTooLarge);

        let send = SendMessage {
            client_msg_id: "c".into(),
            attachments: vec![image(); max::ATTACHMENTS + 1],
            ..SendMessage::default()
        };
        assert_eq!(
            decode_client(send).unwrap_err(),
            DecodeError::TooLong { table: "SendMessage", field: "attachments", len: 33, max: 32 }
        );

        let react = React { message_id: 1, emoji: "e".repeat(max::SHORT + 1), remove: false };
        assert_eq!(
            decode_client(react).unwrap_err(),
            DecodeError::TooLong { table: "React", field: "emoji", len: max::SHORT + 1, max: max::SHORT }
        );
    }

    #[test]
    fn unknown_enum_values_are_rejected() {
        let mut fbb = Fbb::with_capacity(64);
        let body =
            fb::DeleteMessage::create(&mut fbb, &fb::DeleteMessageArgs { message_id: 1, scope: fb::DeleteScope(9) });
        let root = fb::ClientFrame::create(
            &mut fbb,
            &fb::ClientFrameArgs {
                request_id: 1,
                body_type: fb::ClientBody::DeleteMessage,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ClientFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "DeleteMessage", field: "scope", value: 9 });
    }
}
