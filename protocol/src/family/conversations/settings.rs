//! The caller's own view of a conversation: hidden, archived, muted.

use crate::convert::table_codec;

/// Delete for me: hidden from the caller's list and history until a new message arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HideConversation {
    pub conversation_id: u64,
}

table_codec! {
    HideConversation => fb::HideConversation, fb::HideConversationArgs {
        conversation_id: scalar,
    }
}

/// Archive (or, with `archived: false`, unarchive) a conversation for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveConversation {
    pub conversation_id: u64,
    /// The schema's default is true.
    pub archived: bool,
}

impl Default for ArchiveConversation {
    fn default() -> Self {
        Self { conversation_id: 0, archived: true }
    }
}

table_codec! {
    ArchiveConversation => fb::ArchiveConversation, fb::ArchiveConversationArgs {
        conversation_id: scalar,
        archived: scalar,
    }
}

/// Mute until the given time (0 unmutes; `u64::MAX` mutes for ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MuteConversation {
    pub conversation_id: u64,
    pub muted_until_ms: u64,
}

table_codec! {
    MuteConversation => fb::MuteConversation, fb::MuteConversationArgs {
        conversation_id: scalar,
        muted_until_ms: scalar,
    }
}
