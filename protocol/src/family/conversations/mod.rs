//! Conversation frames: direct conversations (with an optional context) and groups, membership,
//! per-user settings (archive, mute, hide), blocking.

mod blocking;
mod conversation;
mod events;
mod lookup;
mod membership;
mod settings;
#[cfg(test)]
mod tests;

pub use blocking::{BlockUser, BlockedUsers, ListBlocked, UnblockUser};
pub use conversation::{Conversation, ConversationContext, ConversationInfo, ConversationKind, Member, MemberRole};
pub use events::{ConversationChange, ConversationEvent};
pub use lookup::{ConversationPage, CreateGroup, GetConversation, ListConversations, OpenDirect};
pub use membership::{AddMembers, LeaveConversation, RemoveMember, SetMemberRole, UpdateConversation};
pub use settings::{ArchiveConversation, HideConversation, MuteConversation};
