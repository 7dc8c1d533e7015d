use super::*;
use crate::convert::{Fbb, max};
use crate::family::common::{KeyValue, UserRef};
use crate::family::messages::{Attachment, AttachmentKind, Message, MessageKind, Reaction, ReplyPreview};
use crate::testing::{roundtrip_client, roundtrip_server};
use crate::{ClientBody, ClientFrame, DecodeError, Limits, ServerBody, ServerFrame, fb};

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
    roundtrip_client(ClientBody::MuteConversation(MuteConversation { conversation_id: 7, muted_until_ms: u64::MAX }));
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
