//! A message's life after it was sent, against a real quipd: edits, deletions (for everyone, with the
//! record purged on disk, and for one user), reactions, and reply previews.

use std::time::Duration;

use crate::common::{RawClient, TestBroker, code, direct, done, group, history, login, sees, send, send_msg, until};
use quip_protocol::family::messages::{
    DeleteMessage, DeleteScope, EditMessage, GetMessage, Message, React, SendMessage,
};
use quip_protocol::{ErrorCode, KeyValue, ServerBody};

async fn get(c: &mut RawClient, id: u64) -> ServerBody {
    c.call(GetMessage { message_id: id }).await
}

fn edit(id: u64, text: &str) -> EditMessage {
    EditMessage { message_id: id, text: text.into() }
}

fn delete(id: u64, scope: DeleteScope) -> DeleteMessage {
    DeleteMessage { message_id: id, scope }
}

fn react(id: u64, emoji: &str, remove: bool) -> React {
    React { message_id: id, emoji: emoji.into(), remove }
}

/// (emoji, count, user ids) of each reaction.
fn summary(m: &[quip_protocol::family::messages::Reaction]) -> Vec<(String, u32, Vec<String>)> {
    m.iter().map(|r| (r.emoji.clone(), r.count, r.user_ids.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_edits_within_the_window_and_members_see_it() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let ack = send(&mut alice, conv, "helo").await;
    let old = send(&mut alice, conv, "old one").await;

    assert_eq!(code(&bob.call(edit(ack.message_id, "hijack")).await), ErrorCode::Forbidden);
    assert_eq!(code(&eve.call(edit(ack.message_id, "hijack")).await), ErrorCode::NotFound);
    assert_eq!(code(&alice.call(edit(999_999, "nothing")).await), ErrorCode::NotFound);
    assert_eq!(code(&alice.call(edit(ack.message_id, "  ")).await), ErrorCode::InvalidArgument);
    let too_long = "x".repeat(broker.config.limits.max_text_bytes + 1);
    assert_eq!(code(&alice.call(edit(ack.message_id, &too_long)).await), ErrorCode::PayloadTooLarge);

    done(alice.call(edit(ack.message_id, "hello")).await);
    let event = until(&mut bob, |e| match e {
        ServerBody::MessageEditedEvent(ev) => Some(ev),
        _ => None,
    })
    .await;
    assert_eq!((event.conversation_id, event.message_id, event.seq), (conv, ack.message_id, ack.seq));
    assert_eq!(event.text, "hello");
    assert!(event.edited_at_ms >= ack.created_at_ms);

    // A message older than the edit window: its creation time is moved back on disk.
    drop((alice, bob, eve));
    let broker = broker
        .restart_editing_store(|store| {
            let db = store.raw_db();
            let cf = db.cf_handle("msgs").unwrap();
            let mut key = conv.to_be_bytes().to_vec();
            key.extend_from_slice(&old.seq.to_be_bytes());
            let mut v: serde_json::Value = serde_json::from_slice(&db.get_cf(&cf, &key).unwrap().unwrap()).unwrap();
            v["created_at_ms"] = serde_json::json!(old.created_at_ms - 16 * 60 * 1000);
            db.put_cf(&cf, &key, serde_json::to_vec(&v).unwrap()).unwrap();
        })
        .await;
    let mut alice = login(&broker, "alice", "phone").await;
    assert_eq!(code(&alice.call(edit(old.message_id, "too late")).await), ErrorCode::EditWindowClosed);

    let broker = broker.restart().await;
    let mut bob = login(&broker, "bob", "phone").await;
    let msgs = history(&mut bob, conv).await;
    assert_eq!(msgs[0].text, "hello");
    assert_eq!(msgs[0].edited_at_ms, event.edited_at_ms);
    assert_eq!((msgs[1].text.as_str(), msgs[1].edited_at_ms), ("old one", 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_for_everyone_leaves_a_tombstone_with_nothing_of_the_original() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut carol = login(&broker, "carol", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let secret = send_msg(
        &mut alice,
        SendMessage {
            conversation_id: conv,
            client_msg_id: "s-1".into(),
            text: "the-secret-words".into(),
            metadata: vec![KeyValue::new("hidden-key", "hidden-value")],
            ..SendMessage::default()
        },
    )
    .await;

    assert_eq!(code(&bob.call(delete(secret.message_id, DeleteScope::ForEveryone)).await), ErrorCode::Forbidden);
    assert_eq!(code(&eve.call(delete(secret.message_id, DeleteScope::ForEveryone)).await), ErrorCode::NotFound);
    done(alice.call(delete(secret.message_id, DeleteScope::ForEveryone)).await);
    let event = until(&mut bob, |e| match e {
        ServerBody::MessageDeletedEvent(ev) => Some(ev),
        _ => None,
    })
    .await;
    assert_eq!((event.conversation_id, event.message_id, event.seq), (conv, secret.message_id, secret.seq));
    assert_eq!((event.scope, event.deleted_by.as_str()), (DeleteScope::ForEveryone, "alice"));
    assert!(event.at_ms >= secret.created_at_ms);
    // Deleting again changes nothing; editing or reacting to a tombstone is refused.
    done(alice.call(delete(secret.message_id, DeleteScope::ForEveryone)).await);
    assert_eq!(code(&alice.call(edit(secret.message_id, "back")).await), ErrorCode::NotFound);
    assert_eq!(code(&bob.call(react(secret.message_id, "👍", false)).await), ErrorCode::NotFound);

    // In a group, an owner may delete a member's message; another member may not.
    let team = group(&mut alice, &["bob", "carol"]).await;
    let by_bob = send(&mut bob, team, "bob in team").await;
    assert_eq!(code(&carol.call(delete(by_bob.message_id, DeleteScope::ForEveryone)).await), ErrorCode::Forbidden);
    done(alice.call(delete(by_bob.message_id, DeleteScope::ForEveryone)).await);
    let event = until(&mut carol, |e| match e {
        ServerBody::MessageDeletedEvent(ev) => Some(ev),
        _ => None,
    })
    .await;
    assert_eq!((event.message_id, event.deleted_by.as_str()), (by_bob.message_id, "alice"));

    drop((alice, bob, carol, eve));
    let mut raw = Vec::new();
    let mut deleted_row = false;
    let broker = broker
        .restart_editing_store(|store| {
            let db = store.raw_db();
            let mut key = conv.to_be_bytes().to_vec();
            key.extend_from_slice(&secret.seq.to_be_bytes());
            raw = db.get_cf(&db.cf_handle("msgs").unwrap(), &key).unwrap().unwrap();
            deleted_row = db.get_cf(&db.cf_handle("deleted").unwrap(), &key).unwrap().is_some();
        })
        .await;
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"the-secret-words") && !contains(b"hidden-key") && !contains(b"hidden-value"));
    assert!(deleted_row);

    let mut bob = login(&broker, "bob", "phone").await;
    let msgs = history(&mut bob, conv).await;
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].deleted && msgs[0].text.is_empty() && msgs[0].metadata.is_empty());
    assert_eq!(msgs[0].seq, secret.seq);
    let ServerBody::MessageInfo(info) = get(&mut bob, secret.message_id).await else { panic!() };
    assert!(info.message.deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_for_me_hides_the_message_from_that_user_only() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut bob_laptop = login(&broker, "bob", "laptop").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let first = send(&mut alice, conv, "first").await;
    send(&mut alice, conv, "second").await;

    assert_eq!(code(&eve.call(delete(first.message_id, DeleteScope::ForMe)).await), ErrorCode::NotFound);
    done(bob.call(delete(first.message_id, DeleteScope::ForMe)).await);
    let event = until(&mut bob_laptop, |e| match e {
        ServerBody::MessageDeletedEvent(ev) => Some(ev),
        _ => None,
    })
    .await;
    assert_eq!(
        (event.message_id, event.scope, event.deleted_by.as_str()),
        (first.message_id, DeleteScope::ForMe, "bob")
    );
    assert!(
        !sees(&mut alice, Duration::from_millis(500), |e| matches!(e, ServerBody::MessageDeletedEvent(_))).await,
        "a deletion for me is not told to the other members"
    );

    let texts = |m: Vec<Message>| m.into_iter().map(|m| m.text).collect::<Vec<_>>();
    assert_eq!(texts(history(&mut bob, conv).await), ["second"]);
    assert_eq!(texts(history(&mut alice, conv).await), ["first", "second"]);
    assert_eq!(code(&get(&mut bob, first.message_id).await), ErrorCode::NotFound);

    drop((alice, bob, bob_laptop, eve));
    let broker = broker.restart().await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut alice = login(&broker, "alice", "phone").await;
    assert_eq!(texts(history(&mut bob, conv).await), ["second"]);
    assert_eq!(texts(history(&mut alice, conv).await), ["first", "second"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_aggregate_per_emoji_and_survive_a_restart() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let msg = send(&mut alice, conv, "react to me").await;
    let id = msg.message_id;

    assert_eq!(code(&eve.call(react(id, "👍", false)).await), ErrorCode::NotFound);
    assert_eq!(code(&bob.call(react(id, &"x".repeat(65), false)).await), ErrorCode::InvalidArgument);
    done(alice.call(react(id, "👍", false)).await);
    done(bob.call(react(id, "👍", false)).await);
    done(bob.call(react(id, "🎉", false)).await);
    done(alice.call(react(id, "👍", false)).await); // already there: no change
    let reaction_event = |e: ServerBody| match e {
        ServerBody::ReactionEvent(ev) => Some(ev),
        _ => None,
    };
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(until(&mut bob, reaction_event).await);
    }
    assert_eq!(
        events.iter().map(|e| (e.user_id.as_str(), e.emoji.as_str(), e.removed)).collect::<Vec<_>>(),
        [("alice", "👍", false), ("bob", "👍", false), ("bob", "🎉", false)]
    );
    assert_eq!(events[2].conversation_id, conv);
    assert_eq!(
        summary(&events[2].reactions),
        [("👍".into(), 2, vec!["alice".into(), "bob".into()]), ("🎉".into(), 1, vec!["bob".into()])]
    );

    done(bob.call(react(id, "🎉", true)).await);
    let removed = until(&mut bob, reaction_event).await;
    assert!(removed.removed && removed.emoji == "🎉", "{removed:?}");
    let expected = vec![("👍".to_owned(), 2, vec!["alice".to_owned(), "bob".to_owned()])];
    assert_eq!(summary(&removed.reactions), expected);
    let other = until(&mut alice, reaction_event).await;
    assert_eq!(other.user_id, "alice", "alice's devices hear about the changes too");

    drop((alice, bob, eve));
    let broker = broker.restart().await;
    let mut bob = login(&broker, "bob", "phone").await;
    assert_eq!(summary(&history(&mut bob, conv).await[0].reactions), expected);
    let ServerBody::MessageInfo(info) = get(&mut bob, id).await else { panic!() };
    assert_eq!(summary(&info.message.reactions), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_carry_a_preview_live_and_in_history() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let other = direct(&mut alice, "carol").await;
    let long: String = "é".repeat(150);
    let original = send(&mut alice, conv, &long).await;
    let elsewhere = send(&mut alice, other, "elsewhere").await;

    let reply = |to: u64, id: &str| SendMessage {
        conversation_id: conv,
        client_msg_id: id.into(),
        text: "a reply".into(),
        reply_to: to,
        ..SendMessage::default()
    };
    assert_eq!(code(&bob.call(reply(elsewhere.message_id, "r-0")).await), ErrorCode::InvalidArgument);
    let ack = send_msg(&mut bob, reply(original.message_id, "r-1")).await;

    let live = until(&mut alice, |e| match e {
        ServerBody::MessageEvent(ev) if ev.message.id == ack.message_id => Some(ev.message),
        _ => None,
    })
    .await;
    let preview = live.reply_to.expect("the live event carries the preview");
    assert_eq!(
        (preview.message_id, preview.seq, preview.sender_id.as_str()),
        (original.message_id, original.seq, "alice")
    );
    assert_eq!(preview.text, "é".repeat(100));
    assert!(!preview.deleted);

    let msgs = history(&mut alice, conv).await;
    assert_eq!(msgs[1].reply_to, Some(preview.clone()));
    let ServerBody::MessageInfo(info) = get(&mut bob, ack.message_id).await else { panic!() };
    assert_eq!(info.message.reply_to, Some(preview.clone()));

    // Once the original is deleted for everyone, the reply's preview says so and quotes nothing.
    done(alice.call(delete(original.message_id, DeleteScope::ForEveryone)).await);
    drop((alice, bob));
    let broker = broker.restart().await;
    let mut bob = login(&broker, "bob", "phone").await;
    let quoted = history(&mut bob, conv).await[1].reply_to.clone().unwrap();
    assert!(quoted.deleted && quoted.text.is_empty(), "{quoted:?}");
    assert_eq!(quoted.message_id, original.message_id);
}
