//! What each user decides for themselves, against a real quipd: archive, mute, delete a conversation
//! for me (hidden until a new message), block and unblock; and attachment limits.

use crate::common;

use std::time::Duration;

use crate::common::{RawClient, TestBroker, code, direct, done, group, history, login, sees, send, send_msg, until};
use quip_protocol::family::conversations::{
    ArchiveConversation, BlockUser, Conversation, ConversationChange, ConversationContext, GetConversation,
    HideConversation, ListBlocked, ListConversations, MuteConversation, OpenDirect, UnblockUser,
};
use quip_protocol::family::messages::{Attachment, AttachmentKind, DeleteMessage, DeleteScope, SendMessage};
use quip_protocol::family::receipts::GetUnreadCounts;
use quip_protocol::{ConversationCursor, ErrorCode, ResumePoint, ServerBody};

async fn list(c: &mut RawClient, include_archived: bool) -> Vec<Conversation> {
    match c.call(ListConversations { cursor: None, limit: 50, include_archived }).await {
        ServerBody::ConversationPage(p) => p.conversations,
        other => panic!("{other:?}"),
    }
}

fn ids(convs: &[Conversation]) -> Vec<u64> {
    convs.iter().map(|c| c.id).collect()
}

async fn view(c: &mut RawClient, conv: u64) -> Conversation {
    match c.call(GetConversation { conversation_id: conv }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    }
}

async fn unread(c: &mut RawClient, conv: u64) -> u32 {
    match c.call(GetUnreadCounts { conversation_ids: vec![conv] }).await {
        ServerBody::UnreadCounts(u) => u.conversations.first().map_or(0, |c| c.unread),
        other => panic!("{other:?}"),
    }
}

fn text_msg(conv: u64, id: &str) -> SendMessage {
    SendMessage { conversation_id: conv, client_msg_id: id.into(), text: "hi".into(), ..SendMessage::default() }
}

#[tokio::test]
async fn archive_and_mute_are_per_user_synced_to_their_devices_and_durable() {
    let broker = TestBroker::start().await;
    let mut a1 = login(&broker, "alice", "a1").await;
    let mut a2 = login(&broker, "alice", "a2").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let dm = direct(&mut a1, "bob").await;
    let team = group(&mut a1, &["bob"]).await;

    let archived = match a1.call(ArchiveConversation { conversation_id: dm, archived: true }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    };
    assert!(archived.archived);
    let synced = until(&mut a2, |e| match e {
        ServerBody::ConversationEvent(ev) if ev.change == ConversationChange::SettingsChanged => Some(ev.conversation),
        _ => None,
    })
    .await;
    assert!(synced.archived && synced.id == dm);
    assert_eq!(ids(&list(&mut a2, false).await), vec![team]);
    assert!(list(&mut a2, true).await.iter().any(|c| c.id == dm && c.archived));
    // Bob's view is his own.
    assert!(!view(&mut bob, dm).await.archived);
    assert_eq!(list(&mut bob, false).await.len(), 2);

    let until_ms = u64::MAX;
    let muted = match a1.call(MuteConversation { conversation_id: team, muted_until_ms: until_ms }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    };
    assert_eq!(muted.muted_until_ms, until_ms);
    assert_eq!(
        code(&bob.call(MuteConversation { conversation_id: 999, muted_until_ms: 1 }).await),
        ErrorCode::NotFound
    );

    let broker = broker.restart().await;
    let mut a1 = login(&broker, "alice", "a1").await;
    assert!(view(&mut a1, dm).await.archived);
    assert_eq!(view(&mut a1, team).await.muted_until_ms, until_ms);
    let unarchived = match a1.call(ArchiveConversation { conversation_id: dm, archived: false }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    };
    assert!(!unarchived.archived);
    assert_eq!(list(&mut a1, false).await.len(), 2);
}

#[tokio::test]
async fn deleting_a_conversation_for_me_hides_it_until_a_new_message_arrives() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let dm = direct(&mut bob, "alice").await;
    for text in ["one", "two", "three"] {
        send(&mut bob, dm, text).await;
    }
    assert_eq!(unread(&mut alice, dm).await, 3);

    let hidden = match alice.call(HideConversation { conversation_id: dm }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    };
    assert_eq!((hidden.unread, hidden.last_message.is_none()), (0, true));
    assert!(list(&mut alice, true).await.is_empty());
    assert!(history(&mut alice, dm).await.is_empty());
    // Bob still has everything.
    assert_eq!(history(&mut bob, dm).await.len(), 3);

    // A new message brings it back, with only what came after.
    send(&mut bob, dm, "four").await;
    assert_eq!(ids(&list(&mut alice, false).await), vec![dm]);
    let texts: Vec<String> = history(&mut alice, dm).await.into_iter().map(|m| m.text).collect();
    assert_eq!(texts, vec!["four"]);
    assert_eq!(unread(&mut alice, dm).await, 1);

    // A message deleted for me no longer counts as unread.
    let five = send(&mut bob, dm, "five").await;
    assert_eq!(unread(&mut alice, dm).await, 2);
    done(alice.call(DeleteMessage { message_id: five.message_id, scope: DeleteScope::ForMe }).await);
    assert_eq!(unread(&mut alice, dm).await, 1);

    // Resuming from the start replays only what alice can see, after a restart too.
    let broker = broker.restart().await;
    let mut again = RawClient::connect(&broker).await;
    let resume = ResumePoint { cursors: vec![ConversationCursor { conversation_id: dm, seq: 0 }], global_cursor: 0 };
    again.hello(&broker.token("alice"), "a1", Some(resume)).await.unwrap();
    let mut replayed = Vec::new();
    loop {
        match again.event().await {
            ServerBody::MessageEvent(m) => replayed.push(m.message.text),
            ServerBody::SyncDone(_) => break,
            _ => {}
        }
    }
    assert_eq!(replayed, vec!["four"]);
}

#[tokio::test]
async fn a_blocked_user_cannot_write_or_start_a_conversation_with_the_blocker() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut alice2 = login(&broker, "alice", "a2").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let dm = direct(&mut alice, "bob").await;
    let team = group(&mut alice, &["bob"]).await;
    send(&mut bob, dm, "before").await;
    until(&mut alice, |e| matches!(e, ServerBody::MessageEvent(_)).then_some(())).await;

    done(alice.call(BlockUser { user_id: "bob".into() }).await);
    let synced = until(&mut alice2, |e| match e {
        ServerBody::ConversationEvent(ev) if ev.change == ConversationChange::BlockChanged => Some(ev.conversation),
        _ => None,
    })
    .await;
    assert!(synced.blocked_by_me && synced.id == dm);

    let refused = bob.call(text_msg(dm, "b-1")).await;
    assert_eq!(code(&refused), ErrorCode::Blocked);
    let with_context = OpenDirect {
        peer_user_id: "alice".into(),
        context: Some(ConversationContext { kind: "order".into(), id: "7".into(), title: String::new() }),
    };
    assert_eq!(code(&bob.call(with_context).await), ErrorCode::Blocked);
    assert_eq!(code(&alice.call(text_msg(dm, "a-1")).await), ErrorCode::Blocked);
    // Nothing reached alice; groups are not affected.
    assert!(!sees(&mut alice, Duration::from_millis(200), |e| matches!(e, ServerBody::MessageEvent(_))).await);
    send(&mut bob, team, "in the group").await;

    let blocked_list = |body: ServerBody| match body {
        ServerBody::BlockedUsers(b) => b.users.into_iter().map(|u| u.id).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(blocked_list(alice.call(ListBlocked).await), vec!["bob"]);
    assert!(blocked_list(bob.call(ListBlocked).await).is_empty());
    assert!(view(&mut bob, dm).await.blocked_me);
    assert_eq!(code(&alice.call(BlockUser { user_id: "alice".into() }).await), ErrorCode::InvalidArgument);

    // Blocks survive a restart; unblocking lets both write again.
    let broker = broker.restart().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob = login(&broker, "bob", "b1").await;
    assert_eq!(code(&bob.call(text_msg(dm, "b-2")).await), ErrorCode::Blocked);
    assert!(view(&mut alice, dm).await.blocked_by_me);
    done(alice.call(UnblockUser { user_id: "bob".into() }).await);
    send_msg(&mut bob, text_msg(dm, "b-3")).await;
    assert!(!view(&mut alice, dm).await.blocked_by_me);
    assert!(blocked_list(alice.call(ListBlocked).await).is_empty());
}

fn attachment(kind: AttachmentKind, size: u64) -> Attachment {
    Attachment {
        kind,
        url: "https://cdn.example/f/1".into(),
        mime: "image/png".into(),
        name: "cat.png".into(),
        size,
        width: 640,
        height: 480,
        ..Attachment::default()
    }
}

#[tokio::test]
async fn attachments_are_checked_against_the_configured_limits() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.limits.max_attachments = 2;
    cfg.limits.max_attachment_bytes = 1000;
    cfg.limits.attachment_kinds = vec!["image".into(), "pdf".into()];
    let broker = TestBroker::start_with(cfg).await;
    let mut alice = login(&broker, "alice", "a1").await;
    let dm = direct(&mut alice, "bob").await;
    let with = |id: &str, attachments: Vec<Attachment>| SendMessage {
        conversation_id: dm,
        client_msg_id: id.into(),
        attachments,
        ..SendMessage::default()
    };

    let three = vec![attachment(AttachmentKind::Image, 10); 3];
    assert_eq!(code(&alice.call(with("m1", three)).await), ErrorCode::TooManyAttachments);
    let video = vec![attachment(AttachmentKind::Video, 10)];
    assert_eq!(code(&alice.call(with("m2", video)).await), ErrorCode::AttachmentNotAllowed);
    let big = vec![attachment(AttachmentKind::Image, 1001)];
    assert_eq!(code(&alice.call(with("m3", big)).await), ErrorCode::AttachmentNotAllowed);
    let mut bad_url = attachment(AttachmentKind::Image, 10);
    bad_url.url = "javascript:alert(1)".into();
    assert_eq!(code(&alice.call(with("m4", vec![bad_url])).await), ErrorCode::InvalidArgument);

    let ok = vec![attachment(AttachmentKind::Image, 1000), attachment(AttachmentKind::Pdf, 5)];
    send_msg(&mut alice, with("m5", ok.clone())).await;
    let stored = history(&mut alice, dm).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].attachments, ok);
}
