//! Running a group: its title, avatar and description, who is in it and with what role, leaving it.

use super::conversation::MemberRole;
use crate::convert::{max, table_codec};

/// Change a group's title, avatar or description (admins); `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateConversation {
    pub conversation_id: u64,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub description: Option<String>,
}

table_codec! {
    UpdateConversation => fb::UpdateConversation, fb::UpdateConversationArgs {
        conversation_id: scalar,
        title: opt_str(max::SHORT),
        avatar_url: opt_str(max::URL),
        description: opt_str(max::TEXT),
    }
}

/// Add members to a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddMembers {
    pub conversation_id: u64,
    pub user_ids: Vec<String>,
}

table_codec! {
    AddMembers => fb::AddMembers, fb::AddMembersArgs {
        conversation_id: scalar,
        user_ids: str_list_req(max::USER_ID),
    }
}

/// Remove a member from a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveMember {
    pub conversation_id: u64,
    pub user_id: String,
}

table_codec! {
    RemoveMember => fb::RemoveMember, fb::RemoveMemberArgs {
        conversation_id: scalar,
        user_id: req_str(max::USER_ID),
    }
}

/// Change a member's role in a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetMemberRole {
    pub conversation_id: u64,
    pub user_id: String,
    pub role: MemberRole,
}

table_codec! {
    SetMemberRole => fb::SetMemberRole, fb::SetMemberRoleArgs {
        conversation_id: scalar,
        user_id: req_str(max::USER_ID),
        role: wire_enum(MemberRole),
    }
}

/// Leave a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaveConversation {
    pub conversation_id: u64,
}

table_codec! {
    LeaveConversation => fb::LeaveConversation, fb::LeaveConversationArgs {
        conversation_id: scalar,
    }
}
