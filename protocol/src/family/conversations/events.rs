//! The conversation event: what changed, who did it, and the conversation after the change.

use super::conversation::Conversation;
use crate::convert::{max, table_codec, wire_enum};
use crate::fb;

wire_enum! {
    /// What happened to a conversation.
    pub enum ConversationChange => fb::ConversationChange, default Created {
        Created,
        Updated,
        MembersAdded,
        MemberRemoved,
        RoleChanged,
        MemberLeft,
        /// The caller's own view changed on another device (archive, mute, hide).
        SettingsChanged,
        BlockChanged,
    }
}

/// A conversation changed; `user_ids` are the members the change is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationEvent {
    pub change: ConversationChange,
    pub conversation: Conversation,
    pub actor_id: String,
    pub user_ids: Vec<String>,
    pub at_ms: u64,
}

table_codec! {
    ConversationEvent => fb::ConversationEvent, fb::ConversationEventArgs {
        change: wire_enum(ConversationChange),
        conversation: table(Conversation),
        actor_id: str_or_empty(max::USER_ID),
        user_ids: str_list(max::USER_ID),
        at_ms: scalar,
    }
}
