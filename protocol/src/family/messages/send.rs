//! Sending: the request, its ack once the message is durable, and the event every member receives.

use super::attachments::Attachment;
use super::message::{Message, MessageKind};
use crate::convert::{max, table_codec};
use crate::family::common::KeyValue;

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
    /// Sending leaves the sender's read state as it is: it does not mark what came before read.
    pub leave_read_state: bool,
}

table_codec! {
    SendMessage => fb::SendMessage, fb::SendMessageArgs {
        conversation_id: scalar,
        client_msg_id: req_str(max::CLIENT_MSG_ID),
        kind: wire_enum(MessageKind),
        text: str_or_empty(max::TEXT),
        attachments: table_list(Attachment, max::ATTACHMENTS),
        reply_to: scalar,
        metadata: table_list(KeyValue, max::FIELDS),
        leave_read_state: scalar,
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

table_codec! {
    MessageAck => fb::MessageAck, fb::MessageAckArgs {
        conversation_id: scalar,
        message_id: scalar,
        seq: scalar,
        created_at_ms: scalar,
        client_msg_id: str_or_empty(max::CLIENT_MSG_ID),
        duplicate: scalar,
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

table_codec! {
    MessageEvent => fb::MessageEvent, fb::MessageEventArgs {
        message: table(Message),
        cursor: scalar,
        replay: scalar,
    }
}
