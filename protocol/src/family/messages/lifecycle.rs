//! What happens to a message after it is sent: edits, deletions and reactions, and their events.

use super::message::Reaction;
use crate::convert::{max, table_codec, wire_enum};
use crate::fb;

wire_enum! {
    /// Who a deletion applies to.
    pub enum DeleteScope => fb::DeleteScope, default ForMe {
        ForMe,
        ForEveryone,
    }
}

/// Replace a message's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditMessage {
    pub message_id: u64,
    pub text: String,
}

table_codec! {
    EditMessage => fb::EditMessage, fb::EditMessageArgs {
        message_id: scalar,
        text: req_str(max::TEXT),
    }
}

/// Delete a message for the caller or for everyone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteMessage {
    pub message_id: u64,
    pub scope: DeleteScope,
}

table_codec! {
    DeleteMessage => fb::DeleteMessage, fb::DeleteMessageArgs {
        message_id: scalar,
        scope: wire_enum(DeleteScope),
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

table_codec! {
    React => fb::React, fb::ReactArgs {
        message_id: scalar,
        emoji: req_str(max::SHORT),
        remove: scalar,
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

table_codec! {
    MessageEditedEvent => fb::MessageEditedEvent, fb::MessageEditedEventArgs {
        conversation_id: scalar,
        message_id: scalar,
        seq: scalar,
        text: str_or_empty(max::TEXT),
        edited_at_ms: scalar,
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

table_codec! {
    MessageDeletedEvent => fb::MessageDeletedEvent, fb::MessageDeletedEventArgs {
        conversation_id: scalar,
        message_id: scalar,
        seq: scalar,
        scope: wire_enum(DeleteScope),
        deleted_by: str_or_empty(max::USER_ID),
        at_ms: scalar,
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

table_codec! {
    ReactionEvent => fb::ReactionEvent, fb::ReactionEventArgs {
        conversation_id: scalar,
        message_id: scalar,
        user_id: req_str(max::USER_ID),
        emoji: req_str(max::SHORT),
        removed: scalar,
        reactions: table_list(Reaction, max::LIST),
    }
}
