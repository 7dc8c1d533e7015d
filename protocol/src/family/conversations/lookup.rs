//! Opening and finding conversations: open a direct one, create a group, fetch one, list them by page.

use super::conversation::{Conversation, ConversationContext};
use crate::convert::{max, table_codec};

/// Get or create the direct conversation with `peer_user_id` (and `context`, when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenDirect {
    pub peer_user_id: String,
    pub context: Option<ConversationContext>,
}

table_codec! {
    OpenDirect => fb::OpenDirect, fb::OpenDirectArgs {
        peer_user_id: req_str(max::USER_ID),
        context: opt_table(ConversationContext),
    }
}

/// Create a group; the caller becomes its owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateGroup {
    pub title: String,
    pub member_ids: Vec<String>,
    pub avatar_url: String,
    pub description: String,
}

table_codec! {
    CreateGroup => fb::CreateGroup, fb::CreateGroupArgs {
        title: req_str(max::SHORT),
        member_ids: str_list(max::USER_ID),
        avatar_url: str_or_empty(max::URL),
        description: str_or_empty(max::TEXT),
    }
}

/// Fetch one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetConversation {
    pub conversation_id: u64,
}

table_codec! {
    GetConversation => fb::GetConversation, fb::GetConversationArgs {
        conversation_id: scalar,
    }
}

/// The caller's conversations, most recent activity first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListConversations {
    /// Opaque, from ConversationPage.next_cursor; `None` for the first page.
    pub cursor: Option<String>,
    /// The schema's default is 50.
    pub limit: u32,
    pub include_archived: bool,
}

impl Default for ListConversations {
    fn default() -> Self {
        Self { cursor: None, limit: 50, include_archived: false }
    }
}

table_codec! {
    ListConversations => fb::ListConversations, fb::ListConversationsArgs {
        cursor: opt_str(max::SHORT),
        limit: scalar,
        include_archived: scalar,
    }
}

/// A page of conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationPage {
    pub conversations: Vec<Conversation>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

table_codec! {
    ConversationPage => fb::ConversationPage, fb::ConversationPageArgs {
        conversations: table_list(Conversation, max::LIST),
        next_cursor: opt_str(max::SHORT),
    }
}
