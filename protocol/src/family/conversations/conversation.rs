//! The conversation as one user sees it: its kind, context and members, and the answer carrying it.

use crate::convert::{max, table_codec, wire_enum};
use crate::family::common::UserRef;
use crate::family::messages::Message;
use crate::fb;

wire_enum! {
    /// Direct (two users) or group.
    pub enum ConversationKind => fb::ConversationKind, default Direct {
        Direct,
        Group,
    }
}

wire_enum! {
    /// A member's role in a group.
    pub enum MemberRole => fb::MemberRole, default Member {
        Member,
        Admin,
        Owner,
    }
}

/// What a direct conversation is about (an order, gig, job or pet listing); the same pair of users with
/// the same context always yields the same conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationContext {
    /// "order", "gig", "job", "pet", ...
    pub kind: String,
    /// The app's id of that thing.
    pub id: String,
    /// A label the app may show.
    pub title: String,
}

impl ConversationContext {
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self { kind: kind.into(), id: id.into(), title: String::new() }
    }
}

table_codec! {
    ConversationContext => fb::ConversationContext, fb::ConversationContextArgs {
        kind: req_str(max::SHORT),
        id: req_str(max::SHORT),
        title: str_or_empty(max::SHORT),
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    pub user: UserRef,
    pub role: MemberRole,
    pub joined_at_ms: u64,
}

table_codec! {
    Member => fb::Member, fb::MemberArgs {
        user: table(UserRef),
        role: wire_enum(MemberRole),
        joined_at_ms: scalar,
    }
}

/// A conversation as one user sees it: shared state plus that user's own view (unread, mute, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    pub id: u64,
    pub kind: ConversationKind,
    pub title: String,
    pub avatar_url: String,
    pub description: String,
    pub context: Option<ConversationContext>,
    pub members: Vec<Member>,
    pub created_by: String,
    pub created_at_ms: u64,
    pub last_activity_ms: u64,
    pub last_seq: u64,
    pub last_message: Option<Box<Message>>,
    /// The caller's unread count.
    pub unread: u32,
    pub read_up_to_seq: u64,
    pub delivered_up_to_seq: u64,
    /// 0: not muted; `u64::MAX`: muted for ever.
    pub muted_until_ms: u64,
    pub archived: bool,
    /// Direct only: the caller has blocked the other member.
    pub blocked_by_me: bool,
    /// Direct only: the other member has blocked the caller.
    pub blocked_me: bool,
}

table_codec! {
    Conversation => fb::Conversation, fb::ConversationArgs {
        id: scalar,
        kind: wire_enum(ConversationKind),
        title: str_or_empty(max::SHORT),
        avatar_url: str_or_empty(max::URL),
        description: str_or_empty(max::TEXT),
        context: opt_table(ConversationContext),
        members: table_list(Member, max::LIST),
        created_by: str_or_empty(max::USER_ID),
        created_at_ms: scalar,
        last_activity_ms: scalar,
        last_seq: scalar,
        last_message: opt_table(Message),
        unread: scalar,
        read_up_to_seq: scalar,
        delivered_up_to_seq: scalar,
        muted_until_ms: scalar,
        archived: scalar,
        blocked_by_me: scalar,
        blocked_me: scalar,
    }
}

/// The answer to OpenDirect, CreateGroup, GetConversation and the membership requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationInfo {
    pub conversation: Conversation,
    /// OpenDirect: true when this request created it.
    pub created: bool,
}

table_codec! {
    ConversationInfo => fb::ConversationInfo, fb::ConversationInfoArgs {
        conversation: table(Conversation),
        created: scalar,
    }
}
