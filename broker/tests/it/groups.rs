//! Group management against a real quipd: adding and removing members, roles, renaming, leaving; the
//! system messages that record each change; no access for those who left; all of it after a restart.

use std::time::Duration;

use crate::common::{RawClient, TestBroker, code, direct, group, history, login, sees, send, until};
use quip_protocol::family::conversations::{
    AddMembers, Conversation, ConversationChange, GetConversation, LeaveConversation, MemberRole, RemoveMember,
    SetMemberRole, UpdateConversation,
};
use quip_protocol::family::messages::{Message, MessageKind, SystemKind};
use quip_protocol::{ErrorCode, ServerBody};

async fn conversation(c: &mut RawClient, conv: u64) -> Conversation {
    match c.call(GetConversation { conversation_id: conv }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    }
}

fn role_of(conv: &Conversation, user: &str) -> Option<MemberRole> {
    conv.members.iter().find(|m| m.user.id == user).map(|m| m.role)
}

fn ok_info(body: ServerBody) -> Conversation {
    match body {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    }
}

/// The next system message of kind `kind` on `c`'s event stream.
async fn system_message(c: &mut RawClient, kind: SystemKind) -> Message {
    until(c, |e| match e {
        ServerBody::MessageEvent(m) if m.message.kind == MessageKind::System && m.message.system == kind => {
            Some(m.message)
        }
        _ => None,
    })
    .await
}

async fn conversation_event(c: &mut RawClient, change: ConversationChange) -> (Conversation, Vec<String>) {
    until(c, |e| match e {
        ServerBody::ConversationEvent(ev) if ev.change == change => Some((ev.conversation, ev.user_ids)),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn admins_manage_members_and_everyone_sees_the_system_messages() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let mut carol = login(&broker, "carol", "c1").await;
    let conv = group(&mut alice, &["bob"]).await;
    let add_carol = || AddMembers { conversation_id: conv, user_ids: vec!["carol".into()] };

    // A plain member may not add; a stranger does not even see the group.
    assert_eq!(code(&bob.call(add_carol()).await), ErrorCode::Forbidden);
    assert_eq!(code(&carol.call(add_carol()).await), ErrorCode::NotFound);

    let after = ok_info(alice.call(add_carol()).await);
    assert_eq!(role_of(&after, "carol"), Some(MemberRole::Member));
    let (seen, users) = conversation_event(&mut carol, ConversationChange::MembersAdded).await;
    assert_eq!((seen.id, users), (conv, vec!["carol".to_owned()]));
    let note = system_message(&mut bob, SystemKind::MembersAdded).await;
    assert_eq!((note.sender.id.as_str(), note.text.as_str()), ("alice", "ALICE added carol"));
    system_message(&mut carol, SystemKind::MembersAdded).await;

    // Only the owner changes roles; an admin then removes a member, but not the owner.
    let make_admin = SetMemberRole { conversation_id: conv, user_id: "bob".into(), role: MemberRole::Admin };
    assert_eq!(code(&carol.call(make_admin.clone()).await), ErrorCode::Forbidden);
    assert_eq!(role_of(&ok_info(alice.call(make_admin).await), "bob"), Some(MemberRole::Admin));
    system_message(&mut carol, SystemKind::RoleChanged).await;
    let remove_alice = RemoveMember { conversation_id: conv, user_id: "alice".into() };
    assert_eq!(code(&bob.call(remove_alice).await), ErrorCode::Forbidden);
    let removed = ok_info(bob.call(RemoveMember { conversation_id: conv, user_id: "carol".into() }).await);
    assert_eq!(role_of(&removed, "carol"), None);

    // Carol hears she was removed, then nothing more, and can no longer read or write.
    let note = system_message(&mut carol, SystemKind::MemberRemoved).await;
    assert_eq!(note.text, "BOB removed carol");
    send(&mut alice, conv, "after carol left").await;
    assert!(!sees(&mut carol, Duration::from_millis(300), |e| matches!(e, ServerBody::MessageEvent(_))).await);
    assert_eq!(code(&carol.call(GetConversation { conversation_id: conv }).await), ErrorCode::NotFound);
    let history_req = quip_protocol::family::messages::GetHistory { conversation_id: conv, ..Default::default() };
    assert_eq!(code(&carol.call(history_req).await), ErrorCode::NotFound);
    let carol_send = quip_protocol::family::messages::SendMessage {
        conversation_id: conv,
        client_msg_id: "late".into(),
        text: "hi".into(),
        ..Default::default()
    };
    assert!(matches!(code(&carol.call(carol_send).await), ErrorCode::Forbidden | ErrorCode::NotFound));

    // Admins rename; members see the new title in the event and the system message.
    let rename = UpdateConversation { conversation_id: conv, title: Some("core team".into()), ..Default::default() };
    assert_eq!(ok_info(bob.call(rename).await).title, "core team");
    let (seen, _) = conversation_event(&mut alice, ConversationChange::Updated).await;
    assert_eq!(seen.title, "core team");
    let note = system_message(&mut alice, SystemKind::Renamed).await;
    assert_eq!(note.text, "BOB renamed the group to \"core team\"");

    // The whole story is in the history, in order, and survives a restart.
    let broker = broker.restart().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let conv_now = conversation(&mut alice, conv).await;
    assert_eq!(conv_now.title, "core team");
    assert_eq!(role_of(&conv_now, "alice"), Some(MemberRole::Owner));
    assert_eq!(role_of(&conv_now, "bob"), Some(MemberRole::Admin));
    assert_eq!(role_of(&conv_now, "carol"), None);
    let systems: Vec<SystemKind> = history(&mut alice, conv)
        .await
        .into_iter()
        .filter(|m| m.kind == MessageKind::System)
        .map(|m| m.system)
        .collect();
    assert_eq!(
        systems,
        vec![SystemKind::MembersAdded, SystemKind::RoleChanged, SystemKind::MemberRemoved, SystemKind::Renamed]
    );
    let mut carol = login(&broker, "carol", "c1").await;
    assert_eq!(code(&carol.call(GetConversation { conversation_id: conv }).await), ErrorCode::NotFound);
}

#[tokio::test]
async fn the_owner_leaving_hands_the_group_over_and_direct_conversations_stay_fixed() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let conv = group(&mut alice, &["bob", "carol"]).await;
    let make_admin = SetMemberRole { conversation_id: conv, user_id: "carol".into(), role: MemberRole::Admin };
    ok_info(alice.call(make_admin).await);

    // The owner leaves: the admin (not the member who joined as early) becomes the owner.
    assert!(matches!(alice.call(LeaveConversation { conversation_id: conv }).await, ServerBody::Done(_)));
    let note = system_message(&mut bob, SystemKind::MemberLeft).await;
    assert_eq!(note.text, "ALICE left");
    let now = conversation(&mut bob, conv).await;
    assert_eq!(role_of(&now, "carol"), Some(MemberRole::Owner));
    assert_eq!(role_of(&now, "alice"), None);
    assert_eq!(code(&alice.call(GetConversation { conversation_id: conv }).await), ErrorCode::NotFound);
    assert_eq!(code(&alice.call(LeaveConversation { conversation_id: conv }).await), ErrorCode::NotFound);

    // Handing over ownership demotes the old owner to admin.
    let mut carol = login(&broker, "carol", "c1").await;
    let hand_over = SetMemberRole { conversation_id: conv, user_id: "bob".into(), role: MemberRole::Owner };
    let after = ok_info(carol.call(hand_over).await);
    assert_eq!((role_of(&after, "bob"), role_of(&after, "carol")), (Some(MemberRole::Owner), Some(MemberRole::Admin)));

    // A direct conversation has fixed members.
    let dm = direct(&mut alice, "bob").await;
    assert_eq!(code(&alice.call(LeaveConversation { conversation_id: dm }).await), ErrorCode::InvalidArgument);
    let add = AddMembers { conversation_id: dm, user_ids: vec!["carol".into()] };
    assert_eq!(code(&alice.call(add).await), ErrorCode::InvalidArgument);
}
