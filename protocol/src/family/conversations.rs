//! Conversation frames: direct conversations (with an optional context) and groups, membership,
//! per-user settings (archive, mute, hide), blocking.

use flatbuffers::WIPOffset;

use super::common::UserRef;
use super::messages::Message;
use crate::convert::{
    Fbb, enc_opt_str, enc_str, enc_str_list, enc_str_list_req, enc_table_list, max, opt_str, req_str, str_list,
    str_or_empty, table_list, wire_enum,
};
use crate::{DecodeError, fb};

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

    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ConversationContext<'b>> {
        let kind = Some(fbb.create_string(&self.kind));
        let id = Some(fbb.create_string(&self.id));
        let title = enc_str(fbb, &self.title);
        fb::ConversationContext::create(fbb, &fb::ConversationContextArgs { kind, id, title })
    }

    pub(crate) fn decode(t: fb::ConversationContext<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kind: req_str(t.kind(), "ConversationContext", "kind", max::SHORT)?,
            id: req_str(t.id(), "ConversationContext", "id", max::SHORT)?,
            title: str_or_empty(t.title(), "ConversationContext", "title", max::SHORT)?,
        })
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    pub user: UserRef,
    pub role: MemberRole,
    pub joined_at_ms: u64,
}

impl Member {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Member<'b>> {
        let user = Some(self.user.encode(fbb));
        fb::Member::create(fbb, &fb::MemberArgs { user, role: self.role.to_wire(), joined_at_ms: self.joined_at_ms })
    }

    pub(crate) fn decode(t: fb::Member<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user: UserRef::decode(t.user())?,
            role: MemberRole::from_wire(t.role(), "Member", "role")?,
            joined_at_ms: t.joined_at_ms(),
        })
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

impl Conversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Conversation<'b>> {
        let title = enc_str(fbb, &self.title);
        let avatar_url = enc_str(fbb, &self.avatar_url);
        let description = enc_str(fbb, &self.description);
        let context = self.context.as_ref().map(|c| c.encode(fbb));
        let members = enc_table_list(fbb, &self.members, |m, fbb| m.encode(fbb));
        let created_by = enc_str(fbb, &self.created_by);
        let last_message = self.last_message.as_ref().map(|m| m.encode(fbb));
        fb::Conversation::create(
            fbb,
            &fb::ConversationArgs {
                id: self.id,
                kind: self.kind.to_wire(),
                title,
                avatar_url,
                description,
                context,
                members,
                created_by,
                created_at_ms: self.created_at_ms,
                last_activity_ms: self.last_activity_ms,
                last_seq: self.last_seq,
                last_message,
                unread: self.unread,
                read_up_to_seq: self.read_up_to_seq,
                delivered_up_to_seq: self.delivered_up_to_seq,
                muted_until_ms: self.muted_until_ms,
                archived: self.archived,
                blocked_by_me: self.blocked_by_me,
                blocked_me: self.blocked_me,
            },
        )
    }

    pub(crate) fn decode(t: fb::Conversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: t.id(),
            kind: ConversationKind::from_wire(t.kind(), "Conversation", "kind")?,
            title: str_or_empty(t.title(), "Conversation", "title", max::SHORT)?,
            avatar_url: str_or_empty(t.avatar_url(), "Conversation", "avatar_url", max::URL)?,
            description: str_or_empty(t.description(), "Conversation", "description", max::TEXT)?,
            context: t.context().map(ConversationContext::decode).transpose()?,
            members: table_list(t.members(), "Conversation", "members", max::LIST, Member::decode)?,
            created_by: str_or_empty(t.created_by(), "Conversation", "created_by", max::USER_ID)?,
            created_at_ms: t.created_at_ms(),
            last_activity_ms: t.last_activity_ms(),
            last_seq: t.last_seq(),
            last_message: t.last_message().map(|m| Message::decode(m).map(Box::new)).transpose()?,
            unread: t.unread(),
            read_up_to_seq: t.read_up_to_seq(),
            delivered_up_to_seq: t.delivered_up_to_seq(),
            muted_until_ms: t.muted_until_ms(),
            archived: t.archived(),
            blocked_by_me: t.blocked_by_me(),
            blocked_me: t.blocked_me(),
        })
    }
}

/// Get or create the direct conversation with `peer_user_id` (and `context`, when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenDirect {
    pub peer_user_id: String,
    pub context: Option<ConversationContext>,
}

impl OpenDirect {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::OpenDirect<'b>> {
        let peer_user_id = Some(fbb.create_string(&self.peer_user_id));
        let context = self.context.as_ref().map(|c| c.encode(fbb));
        fb::OpenDirect::create(fbb, &fb::OpenDirectArgs { peer_user_id, context })
    }

    pub(crate) fn decode(t: fb::OpenDirect<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            peer_user_id: req_str(t.peer_user_id(), "OpenDirect", "peer_user_id", max::USER_ID)?,
            context: t.context().map(ConversationContext::decode).transpose()?,
        })
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

impl CreateGroup {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CreateGroup<'b>> {
        let title = Some(fbb.create_string(&self.title));
        let member_ids = enc_str_list(fbb, &self.member_ids);
        let avatar_url = enc_str(fbb, &self.avatar_url);
        let description = enc_str(fbb, &self.description);
        fb::CreateGroup::create(fbb, &fb::CreateGroupArgs { title, member_ids, avatar_url, description })
    }

    pub(crate) fn decode(t: fb::CreateGroup<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            title: req_str(t.title(), "CreateGroup", "title", max::SHORT)?,
            member_ids: str_list(t.member_ids(), "CreateGroup", "member_ids", max::USER_ID)?,
            avatar_url: str_or_empty(t.avatar_url(), "CreateGroup", "avatar_url", max::URL)?,
            description: str_or_empty(t.description(), "CreateGroup", "description", max::TEXT)?,
        })
    }
}

/// Fetch one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetConversation {
    pub conversation_id: u64,
}

impl GetConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetConversation<'b>> {
        fb::GetConversation::create(fbb, &fb::GetConversationArgs { conversation_id: self.conversation_id })
    }

    pub(crate) fn decode(t: fb::GetConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id() })
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

impl ListConversations {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ListConversations<'b>> {
        let cursor = enc_opt_str(fbb, self.cursor.as_deref());
        fb::ListConversations::create(
            fbb,
            &fb::ListConversationsArgs { cursor, limit: self.limit, include_archived: self.include_archived },
        )
    }

    pub(crate) fn decode(t: fb::ListConversations<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            cursor: opt_str(t.cursor(), "ListConversations", "cursor", max::SHORT)?,
            limit: t.limit(),
            include_archived: t.include_archived(),
        })
    }
}

/// A page of conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationPage {
    pub conversations: Vec<Conversation>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

impl ConversationPage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ConversationPage<'b>> {
        let conversations = enc_table_list(fbb, &self.conversations, |c, fbb| c.encode(fbb));
        let next_cursor = enc_opt_str(fbb, self.next_cursor.as_deref());
        fb::ConversationPage::create(fbb, &fb::ConversationPageArgs { conversations, next_cursor })
    }

    pub(crate) fn decode(t: fb::ConversationPage<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversations: table_list(
                t.conversations(),
                "ConversationPage",
                "conversations",
                max::LIST,
                Conversation::decode,
            )?,
            next_cursor: opt_str(t.next_cursor(), "ConversationPage", "next_cursor", max::SHORT)?,
        })
    }
}

/// Change a group's title, avatar or description (admins); `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateConversation {
    pub conversation_id: u64,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub description: Option<String>,
}

impl UpdateConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UpdateConversation<'b>> {
        let title = enc_opt_str(fbb, self.title.as_deref());
        let avatar_url = enc_opt_str(fbb, self.avatar_url.as_deref());
        let description = enc_opt_str(fbb, self.description.as_deref());
        fb::UpdateConversation::create(
            fbb,
            &fb::UpdateConversationArgs { conversation_id: self.conversation_id, title, avatar_url, description },
        )
    }

    pub(crate) fn decode(t: fb::UpdateConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            title: opt_str(t.title(), "UpdateConversation", "title", max::SHORT)?,
            avatar_url: opt_str(t.avatar_url(), "UpdateConversation", "avatar_url", max::URL)?,
            description: opt_str(t.description(), "UpdateConversation", "description", max::TEXT)?,
        })
    }
}

/// Add members to a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddMembers {
    pub conversation_id: u64,
    pub user_ids: Vec<String>,
}

impl AddMembers {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::AddMembers<'b>> {
        let user_ids = Some(enc_str_list_req(fbb, &self.user_ids));
        fb::AddMembers::create(fbb, &fb::AddMembersArgs { conversation_id: self.conversation_id, user_ids })
    }

    pub(crate) fn decode(t: fb::AddMembers<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            user_ids: str_list(Some(t.user_ids()), "AddMembers", "user_ids", max::USER_ID)?,
        })
    }
}

/// Remove a member from a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveMember {
    pub conversation_id: u64,
    pub user_id: String,
}

impl RemoveMember {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::RemoveMember<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::RemoveMember::create(fbb, &fb::RemoveMemberArgs { conversation_id: self.conversation_id, user_id })
    }

    pub(crate) fn decode(t: fb::RemoveMember<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            user_id: req_str(t.user_id(), "RemoveMember", "user_id", max::USER_ID)?,
        })
    }
}

/// Change a member's role in a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetMemberRole {
    pub conversation_id: u64,
    pub user_id: String,
    pub role: MemberRole,
}

impl SetMemberRole {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::SetMemberRole<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::SetMemberRole::create(
            fbb,
            &fb::SetMemberRoleArgs { conversation_id: self.conversation_id, user_id, role: self.role.to_wire() },
        )
    }

    pub(crate) fn decode(t: fb::SetMemberRole<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            user_id: req_str(t.user_id(), "SetMemberRole", "user_id", max::USER_ID)?,
            role: MemberRole::from_wire(t.role(), "SetMemberRole", "role")?,
        })
    }
}

/// Leave a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaveConversation {
    pub conversation_id: u64,
}

impl LeaveConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::LeaveConversation<'b>> {
        fb::LeaveConversation::create(fbb, &fb::LeaveConversationArgs { conversation_id: self.conversation_id })
    }

    pub(crate) fn decode(t: fb::LeaveConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id() })
    }
}

/// Delete for me: hidden from the caller's list and history until a new message arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HideConversation {
    pub conversation_id: u64,
}

impl HideConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::HideConversation<'b>> {
        fb::HideConversation::create(fbb, &fb::HideConversationArgs { conversation_id: self.conversation_id })
    }

    pub(crate) fn decode(t: fb::HideConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id() })
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

impl ArchiveConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ArchiveConversation<'b>> {
        fb::ArchiveConversation::create(
            fbb,
            &fb::ArchiveConversationArgs { conversation_id: self.conversation_id, archived: self.archived },
        )
    }

    pub(crate) fn decode(t: fb::ArchiveConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), archived: t.archived() })
    }
}

/// Mute until the given time (0 unmutes; `u64::MAX` mutes for ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MuteConversation {
    pub conversation_id: u64,
    pub muted_until_ms: u64,
}

impl MuteConversation {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MuteConversation<'b>> {
        fb::MuteConversation::create(
            fbb,
            &fb::MuteConversationArgs { conversation_id: self.conversation_id, muted_until_ms: self.muted_until_ms },
        )
    }

    pub(crate) fn decode(t: fb::MuteConversation<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), muted_until_ms: t.muted_until_ms() })
    }
}

/// Block a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockUser {
    pub user_id: String,
}

impl BlockUser {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::BlockUser<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::BlockUser::create(fbb, &fb::BlockUserArgs { user_id })
    }

    pub(crate) fn decode(t: fb::BlockUser<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user_id: req_str(t.user_id(), "BlockUser", "user_id", max::USER_ID)? })
    }
}

/// Unblock a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnblockUser {
    pub user_id: String,
}

impl UnblockUser {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UnblockUser<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::UnblockUser::create(fbb, &fb::UnblockUserArgs { user_id })
    }

    pub(crate) fn decode(t: fb::UnblockUser<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user_id: req_str(t.user_id(), "UnblockUser", "user_id", max::USER_ID)? })
    }
}

/// List the users the caller has blocked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListBlocked;

impl ListBlocked {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ListBlocked<'b>> {
        fb::ListBlocked::create(fbb, &fb::ListBlockedArgs {})
    }

    pub(crate) fn decode(_: fb::ListBlocked<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

/// The users the caller has blocked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockedUsers {
    pub users: Vec<UserRef>,
}

impl BlockedUsers {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::BlockedUsers<'b>> {
        let users = enc_table_list(fbb, &self.users, |u, fbb| u.encode(fbb));
        fb::BlockedUsers::create(fbb, &fb::BlockedUsersArgs { users })
    }

    pub(crate) fn decode(t: fb::BlockedUsers<'_>) -> Result<Self, DecodeError> {
        Ok(Self { users: table_list(t.users(), "BlockedUsers", "users", max::LIST, UserRef::decode)? })
    }
}

/// The answer to OpenDirect, CreateGroup, GetConversation and the membership requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationInfo {
    pub conversation: Conversation,
    /// OpenDirect: true when this request created it.
    pub created: bool,
}

impl ConversationInfo {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ConversationInfo<'b>> {
        let conversation = Some(self.conversation.encode(fbb));
        fb::ConversationInfo::create(fbb, &fb::ConversationInfoArgs { conversation, created: self.created })
    }

    pub(crate) fn decode(t: fb::ConversationInfo<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation: Conversation::decode(t.conversation())?, created: t.created() })
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

impl ConversationEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ConversationEvent<'b>> {
        let conversation = Some(self.conversation.encode(fbb));
        let actor_id = enc_str(fbb, &self.actor_id);
        let user_ids = enc_str_list(fbb, &self.user_ids);
        fb::ConversationEvent::create(
            fbb,
            &fb::ConversationEventArgs {
                change: self.change.to_wire(),
                conversation,
                actor_id,
                user_ids,
                at_ms: self.at_ms,
            },
        )
    }

    pub(crate) fn decode(t: fb::ConversationEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            change: ConversationChange::from_wire(t.change(), "ConversationEvent", "change")?,
            conversation: Conversation::decode(t.conversation())?,
            actor_id: str_or_empty(t.actor_id(), "ConversationEvent", "actor_id", max::USER_ID)?,
            user_ids: str_list(t.user_ids(), "ConversationEvent", "user_ids", max::USER_ID)?,
            at_ms: t.at_ms(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::common::KeyValue;
    use crate::family::messages::{Attachment, AttachmentKind, MessageKind, Reaction, ReplyPreview};
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, ClientFrame, Limits, ServerBody, ServerFrame};

    fn alice() -> UserRef {
        UserRef {
            id: "u-alice".into(),
            display_name: Some("Alice".into()),
            avatar_url: Some("https://cdn.example/a.png".into()),
        }
    }

    fn last_message() -> Message {
        Message {
            id: 9001,
            conversation_id: 7,
            seq: 42,
            sender: alice(),
            kind: MessageKind::Image,
            text: "here it is".into(),
            attachments: vec![Attachment {
                kind: AttachmentKind::Image,
                url: "https://cdn.example/p.jpg".into(),
                mime: "image/jpeg".into(),
                size: 1024,
                width: 640,
                height: 480,
                ..Attachment::default()
            }],
            reply_to: Some(ReplyPreview { message_id: 9000, seq: 41, sender_id: "u-bob".into(), ..Default::default() }),
            client_msg_id: "c-1".into(),
            created_at_ms: 1_700_000_000_000,
            reactions: vec![Reaction { emoji: "👍".into(), count: 1, user_ids: vec!["u-bob".into()] }],
            metadata: vec![KeyValue::new("k", "v")],
            ..Message::default()
        }
    }

    fn full_conversation() -> Conversation {
        Conversation {
            id: 7,
            kind: ConversationKind::Direct,
            title: "Golden retriever puppy".into(),
            avatar_url: "https://cdn.example/c.png".into(),
            description: "About listing pet-12".into(),
            context: Some(ConversationContext {
                kind: "pet".into(),
                id: "pet-12".into(),
                title: "Golden retriever puppy".into(),
            }),
            members: vec![
                Member { user: alice(), role: MemberRole::Owner, joined_at_ms: 1 },
                Member { user: UserRef::new("u-bob"), role: MemberRole::Member, joined_at_ms: 2 },
            ],
            created_by: "u-alice".into(),
            created_at_ms: 1_699_000_000_000,
            last_activity_ms: 1_700_000_000_000,
            last_seq: 42,
            last_message: Some(Box::new(last_message())),
            unread: 3,
            read_up_to_seq: 39,
            delivered_up_to_seq: 42,
            muted_until_ms: u64::MAX,
            archived: true,
            blocked_by_me: true,
            blocked_me: true,
        }
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::OpenDirect(OpenDirect {
            peer_user_id: "u-bob".into(),
            context: Some(ConversationContext { kind: "order".into(), id: "o-1".into(), title: "Order #1".into() }),
        }));
        roundtrip_client(ClientBody::OpenDirect(OpenDirect {
            peer_user_id: "u-bob".into(),
            context: Some(ConversationContext::new("gig", "g-9")),
        }));
        roundtrip_client(ClientBody::OpenDirect(OpenDirect { peer_user_id: "b".into(), context: None }));
        roundtrip_client(ClientBody::CreateGroup(CreateGroup {
            title: "Dog walkers".into(),
            member_ids: vec!["u-bob".into(), "u-carol".into()],
            avatar_url: "https://cdn.example/g.png".into(),
            description: "Mornings in the park".into(),
        }));
        roundtrip_client(ClientBody::CreateGroup(CreateGroup { title: "g".into(), ..CreateGroup::default() }));
        roundtrip_client(ClientBody::GetConversation(GetConversation { conversation_id: 7 }));
        roundtrip_client(ClientBody::GetConversation(GetConversation::default()));
        roundtrip_client(ClientBody::ListConversations(ListConversations {
            cursor: Some("eyJvIjo1MH0".into()),
            limit: 20,
            include_archived: true,
        }));
        roundtrip_client(ClientBody::ListConversations(ListConversations::default()));
        roundtrip_client(ClientBody::ListConversations(ListConversations { limit: 0, ..Default::default() }));
        roundtrip_client(ClientBody::UpdateConversation(UpdateConversation {
            conversation_id: 7,
            title: Some("Dog walkers (north)".into()),
            avatar_url: Some(String::new()),
            description: None,
        }));
        roundtrip_client(ClientBody::UpdateConversation(UpdateConversation::default()));
        roundtrip_client(ClientBody::AddMembers(AddMembers {
            conversation_id: 7,
            user_ids: vec!["u-dave".into(), "u-erin".into()],
        }));
        roundtrip_client(ClientBody::AddMembers(AddMembers::default()));
        roundtrip_client(ClientBody::RemoveMember(RemoveMember { conversation_id: 7, user_id: "u-dave".into() }));
        roundtrip_client(ClientBody::RemoveMember(RemoveMember { user_id: "d".into(), ..Default::default() }));
        roundtrip_client(ClientBody::SetMemberRole(SetMemberRole {
            conversation_id: 7,
            user_id: "u-bob".into(),
            role: MemberRole::Admin,
        }));
        roundtrip_client(ClientBody::SetMemberRole(SetMemberRole { user_id: "b".into(), ..Default::default() }));
        roundtrip_client(ClientBody::LeaveConversation(LeaveConversation { conversation_id: 7 }));
        roundtrip_client(ClientBody::LeaveConversation(LeaveConversation::default()));
        roundtrip_client(ClientBody::HideConversation(HideConversation { conversation_id: 7 }));
        roundtrip_client(ClientBody::HideConversation(HideConversation::default()));
        roundtrip_client(ClientBody::ArchiveConversation(ArchiveConversation { conversation_id: 7, archived: false }));
        roundtrip_client(ClientBody::ArchiveConversation(ArchiveConversation::default()));
        roundtrip_client(ClientBody::MuteConversation(MuteConversation {
            conversation_id: 7,
            muted_until_ms: u64::MAX,
        }));
        roundtrip_client(ClientBody::MuteConversation(MuteConversation::default()));
        roundtrip_client(ClientBody::BlockUser(BlockUser { user_id: "u-spam".into() }));
        roundtrip_client(ClientBody::UnblockUser(UnblockUser { user_id: "u-spam".into() }));
        roundtrip_client(ClientBody::ListBlocked(ListBlocked));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::ConversationInfo(ConversationInfo {
            conversation: full_conversation(),
            created: true,
        }));
        roundtrip_server(ServerBody::ConversationInfo(ConversationInfo::default()));
        roundtrip_server(ServerBody::ConversationPage(ConversationPage {
            conversations: vec![
                full_conversation(),
                Conversation { id: 8, kind: ConversationKind::Group, title: "g".into(), ..Conversation::default() },
            ],
            next_cursor: Some("next".into()),
        }));
        roundtrip_server(ServerBody::ConversationPage(ConversationPage::default()));
        roundtrip_server(ServerBody::BlockedUsers(BlockedUsers { users: vec![alice(), UserRef::new("u-spam")] }));
        roundtrip_server(ServerBody::BlockedUsers(BlockedUsers::default()));
        roundtrip_server(ServerBody::ConversationEvent(ConversationEvent {
            change: ConversationChange::MembersAdded,
            conversation: full_conversation(),
            actor_id: "u-alice".into(),
            user_ids: vec!["u-dave".into(), "u-erin".into()],
            at_ms: 1_700_000_000_001,
        }));
        roundtrip_server(ServerBody::ConversationEvent(ConversationEvent::default()));
    }

    fn decode_client(body: impl Into<ClientBody>) -> Result<ClientFrame, DecodeError> {
        ClientFrame::decode(&ClientFrame::new(1, body).encode(), &Limits::default())
    }

    #[test]
    fn empty_required_fields_are_rejected() {
        assert_eq!(
            decode_client(OpenDirect::default()).unwrap_err(),
            DecodeError::MissingField { table: "OpenDirect", field: "peer_user_id" }
        );
        let open = OpenDirect { peer_user_id: "b".into(), context: Some(ConversationContext::new("order", "")) };
        assert_eq!(
            decode_client(open).unwrap_err(),
            DecodeError::MissingField { table: "ConversationContext", field: "id" }
        );
        assert_eq!(
            decode_client(CreateGroup::default()).unwrap_err(),
            DecodeError::MissingField { table: "CreateGroup", field: "title" }
        );
        assert_eq!(
            decode_client(AddMembers { conversation_id: 1, user_ids: vec!["a".into(), String::new()] }).unwrap_err(),
            DecodeError::MissingField { table: "AddMembers", field: "user_ids" }
        );
        assert_eq!(
            decode_client(BlockUser::default()).unwrap_err(),
            DecodeError::MissingField { table: "BlockUser", field: "user_id" }
        );
        let info = ConversationInfo {
            conversation: Conversation { members: vec![Member::default()], ..Conversation::default() },
            created: false,
        };
        let err = ServerFrame::decode(&ServerFrame::new(1, info).encode(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "UserRef", field: "id" });
    }

    #[test]
    fn overlong_fields_are_rejected() {
        let err = decode_client(BlockUser { user_id: "u".repeat(max::USER_ID + 1) }).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "BlockUser", field: "user_id", len: 129, max: 128 });
        assert_eq!(err.code(), crate::ErrorCode::PayloadTooLarge);
        let update = UpdateConversation { title: Some("t".repeat(max::SHORT + 1)), ..Default::default() };
        assert_eq!(
            decode_client(update).unwrap_err(),
            DecodeError::TooLong { table: "UpdateConversation", field: "title", len: 257, max: 256 }
        );
    }

    #[test]
    fn unknown_enum_values_are_rejected() {
        let mut fbb = Fbb::with_capacity(64);
        let user_id = Some(fbb.create_string("u-bob"));
        let body = fb::SetMemberRole::create(
            &mut fbb,
            &fb::SetMemberRoleArgs { conversation_id: 1, user_id, role: fb::MemberRole(200) },
        );
        let root = fb::ClientFrame::create(
            &mut fbb,
            &fb::ClientFrameArgs {
                request_id: 1,
                body_type: fb::ClientBody::SetMemberRole,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ClientFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "SetMemberRole", field: "role", value: 200 });
    }
}
