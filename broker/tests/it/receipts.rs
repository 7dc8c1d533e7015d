//! Receipts and unread counts against a real quipd: delivered/read watermarks reported automatically
//! by the SDK and explicitly by clients, the events they cause, "who read it and when", unread counts
//! (own messages, message ids, several devices, deleted messages, restarts) and who may ask.

use crate::common;

use std::time::Duration;

use crate::common::{RawClient, TestBroker, direct, group, login};
use quip_protocol::family::conversations::{Conversation, GetConversation, ListConversations, RemoveMember};
use quip_protocol::family::messages::{MessageAck, SendMessage};
use quip_protocol::family::receipts::{
    GetReceipts, GetUnreadCounts, MarkDelivered, MarkRead, MessageReceipts, ReceiptEvent, ReceiptKind, UnreadCounts,
    UnreadEvent,
};
use quip_protocol::{ErrorCode, ServerBody};
use quip_sdk::{Client, ClientConfig, Event, EventStream, Trust};

async fn sdk(broker: &TestBroker, user: &str, device: &str) -> (Client, EventStream) {
    let mut cfg =
        ClientConfig::new(broker.addr, Trust::Fingerprint(broker.fingerprint.clone()), broker.token(user), device);
    cfg.request_timeout = Duration::from_secs(20);
    Client::connect(cfg).await.unwrap()
}

async fn send(c: &mut RawClient, conv: u64, text: &str) -> MessageAck {
    let id = format!("{conv}:{text}");
    send_message(
        c,
        SendMessage { conversation_id: conv, client_msg_id: id, text: text.into(), ..SendMessage::default() },
    )
    .await
}

async fn send_message(c: &mut RawClient, m: SendMessage) -> MessageAck {
    match c.call(m).await {
        ServerBody::MessageAck(ack) => ack,
        other => panic!("{other:?}"),
    }
}

async fn read_up_to(c: &mut RawClient, conv: u64, up_to_seq: u64) {
    let body = c.call(MarkRead { conversation_id: conv, up_to_seq, message_ids: vec![] }).await;
    assert!(matches!(body, ServerBody::Done(_)), "{body:?}");
}

async fn unread(c: &mut RawClient, convs: &[u64]) -> UnreadCounts {
    match c.call(GetUnreadCounts { conversation_ids: convs.to_vec() }).await {
        ServerBody::UnreadCounts(u) => u,
        other => panic!("{other:?}"),
    }
}

/// The unread count of one conversation, and the total.
async fn unread_of(c: &mut RawClient, conv: u64) -> (u32, u32) {
    let u = unread(c, &[conv]).await;
    assert_eq!(u.conversations.len(), 1);
    (u.conversations[0].unread, u.total)
}

async fn conversation(c: &mut RawClient, conv: u64) -> Conversation {
    match c.call(GetConversation { conversation_id: conv }).await {
        ServerBody::ConversationInfo(info) => info.conversation,
        other => panic!("{other:?}"),
    }
}

async fn receipts(c: &mut RawClient, message_id: u64) -> MessageReceipts {
    match c.call(GetReceipts { message_id }).await {
        ServerBody::MessageReceipts(r) => r,
        other => panic!("{other:?}"),
    }
}

fn code(body: &ServerBody) -> ErrorCode {
    match body {
        ServerBody::ErrorReply(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Events until `pick` takes one (the others are skipped).
async fn until<T>(c: &mut RawClient, mut pick: impl FnMut(ServerBody) -> Option<T>) -> T {
    loop {
        if let Some(found) = pick(c.event().await) {
            return found;
        }
    }
}

async fn receipt_event(c: &mut RawClient, user: &str, kind: ReceiptKind) -> ReceiptEvent {
    until(c, |body| match body {
        ServerBody::ReceiptEvent(r) if r.user_id == user && r.kind == kind => Some(r),
        _ => None,
    })
    .await
}

/// Receipt events of `user` in the events that arrive within `wait`.
async fn receipt_events_within(c: &mut RawClient, user: &str, wait: Duration) -> Vec<ReceiptEvent> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Some(body) = c.event_within(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
        match body {
            ServerBody::ReceiptEvent(r) if r.user_id == user => out.push(r),
            _ => {}
        }
    }
    out
}

async fn sdk_unread_event(events: &mut EventStream, conv: u64) -> UnreadEvent {
    loop {
        match events.next_event_timeout(common::WAIT).await.unwrap() {
            Event::Unread(u) if u.conversation_id == conv => return u,
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_sees_delivered_when_the_app_has_it_then_read_and_the_other_device_clears_its_badge() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (_bob_phone, mut phone_events) = sdk(&broker, "bob", "phone").await;
    let mut bob_laptop = login(&broker, "bob", "laptop").await;
    let conv = direct(&mut alice, "bob").await;
    let ack = send(&mut alice, conv, "hello bob").await;

    // The message sits in the phone SDK's buffer, not yet taken by the app: not delivered.
    assert!(receipt_events_within(&mut alice, "bob", Duration::from_millis(300)).await.is_empty());
    assert_eq!(conversation(&mut bob_laptop, conv).await.delivered_up_to_seq, 0);

    // The app takes it: the SDK reports delivery by itself.
    let got = phone_events.next_message(common::WAIT).await.unwrap();
    assert_eq!(got.id, ack.message_id);
    let delivered = receipt_event(&mut alice, "bob", ReceiptKind::Delivered).await;
    assert_eq!((delivered.conversation_id, delivered.up_to_seq), (conv, ack.seq));
    assert!(delivered.at_ms > 0);

    // Bob reads it on the laptop: Alice sees it read, Bob's phone badge goes to 0.
    assert_eq!(unread_of(&mut bob_laptop, conv).await, (1, 1));
    read_up_to(&mut bob_laptop, conv, ack.seq).await;
    let read = receipt_event(&mut alice, "bob", ReceiptKind::Read).await;
    assert_eq!((read.conversation_id, read.up_to_seq), (conv, ack.seq));
    let badge = sdk_unread_event(&mut phone_events, conv).await;
    assert_eq!((badge.unread, badge.total), (0, 0));

    // "Who read it and when" agrees with the events.
    let r = receipts(&mut alice, ack.message_id).await;
    assert_eq!((r.conversation_id, r.seq, r.recipients, r.delivered, r.read), (conv, ack.seq, 1, 1, 1));
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].user_id, "bob");
    assert_eq!((r.members[0].delivered_at_ms, r.members[0].read_at_ms), (delivered.at_ms, read.at_ms));

    // Every view of the conversation carries the caller's own state.
    let view = conversation(&mut bob_laptop, conv).await;
    assert_eq!((view.unread, view.read_up_to_seq, view.delivered_up_to_seq), (0, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automatic_delivery_report_is_kept_across_a_restart() {
    // The SDK's reports ask for no reply, so quipd writes them without an fsync of their own: they are
    // still written, before the sender is told, and a restart keeps them.
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (bob, mut bob_events) = sdk(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let ack = send(&mut alice, conv, "are you there").await;
    bob_events.next_message(common::WAIT).await.unwrap();
    let delivered = receipt_event(&mut alice, "bob", ReceiptKind::Delivered).await;
    assert_eq!(delivered.up_to_seq, ack.seq);
    bob.close().await;
    drop(alice);

    let broker = broker.restart().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let r = receipts(&mut alice, ack.message_id).await;
    assert_eq!((r.delivered, r.read), (1, 0));
    assert_eq!(r.members[0].delivered_at_ms, delivered.at_ms);
    let mut bob = login(&broker, "bob", "laptop").await;
    assert_eq!(conversation(&mut bob, conv).await.delivered_up_to_seq, ack.seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_delivery_reports_are_coalesced_under_load() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (sender, _sender_events) = sdk(&broker, "alice", "laptop").await;
    let (_bob, mut bob_events) = sdk(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let mut acks = Vec::new();
    for i in 0..300 {
        let s = sender.clone();
        acks.push(tokio::spawn(async move { s.send_message(conv, format!("burst {i}")).await }));
    }
    for a in acks {
        a.await.unwrap().unwrap();
    }
    for _ in 0..300 {
        bob_events.next_message(common::WAIT).await.unwrap();
    }
    let mut reports = Vec::new();
    loop {
        let r = receipt_event(&mut alice, "bob", ReceiptKind::Delivered).await;
        reports.push(r.up_to_seq);
        if r.up_to_seq == 300 {
            break;
        }
    }
    assert!(reports.windows(2).all(|w| w[0] < w[1]), "{reports:?}");
    assert!(reports.len() <= 30, "{} reports for 300 messages: {reports:?}", reports.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_receipts_count_who_got_and_read_a_message() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut others = Vec::new();
    for user in ["bob", "carol", "dave", "erin"] {
        others.push(login(&broker, user, "phone").await);
    }
    let conv = group(&mut alice, &["bob", "carol", "dave", "erin"]).await;
    let ack = send(&mut alice, conv, "standup in 5").await;

    let r = receipts(&mut alice, ack.message_id).await;
    assert_eq!((r.recipients, r.delivered, r.read), (4, 0, 0));
    for reader in &mut others[..3] {
        read_up_to(reader, conv, ack.seq).await;
    }
    for user in ["bob", "carol", "dave"] {
        let ev = receipt_event(&mut alice, user, ReceiptKind::Read).await;
        assert_eq!(ev.up_to_seq, ack.seq);
    }
    // Asked by any member, not only the sender.
    let r = receipts(&mut others[3], ack.message_id).await;
    assert_eq!((r.conversation_id, r.message_id, r.seq), (conv, ack.message_id, ack.seq));
    assert_eq!((r.recipients, r.delivered, r.read), (4, 3, 3));
    let mut readers: Vec<&str> = r.members.iter().filter(|m| m.read_at_ms > 0).map(|m| m.user_id.as_str()).collect();
    readers.sort_unstable();
    assert_eq!(readers, ["bob", "carol", "dave"]);
    assert!(r.members.iter().all(|m| m.user_id != "alice"), "the sender is no recipient");
    assert!(r.members.iter().all(|m| m.read_at_ms == 0 || m.delivered_at_ms == m.read_at_ms));
    let erin = r.members.iter().find(|m| m.user_id == "erin").unwrap();
    assert_eq!((erin.delivered_at_ms, erin.read_at_ms), (0, 0));

    // Erin's device has it now; she has not read it.
    let done = others[3].call(MarkDelivered { conversation_id: conv, up_to_seq: ack.seq }).await;
    assert!(matches!(done, ServerBody::Done(_)));
    let r = receipts(&mut alice, ack.message_id).await;
    assert_eq!((r.recipients, r.delivered, r.read), (4, 4, 3));
    let erin = r.members.iter().find(|m| m.user_id == "erin").unwrap();
    assert!(erin.delivered_at_ms > 0 && erin.read_at_ms == 0);

    // Sending implies reading: Bob's message, then Alice answers: Alice has read Bob's message.
    let bobs = send(&mut others[0], conv, "ok").await;
    let r = receipts(&mut alice, bobs.message_id).await;
    assert_eq!((r.recipients, r.read), (4, 0));
    send(&mut alice, conv, "thanks").await;
    let r = receipts(&mut alice, bobs.message_id).await;
    assert_eq!((r.recipients, r.delivered, r.read), (4, 1, 1));
    assert!(r.members.iter().find(|m| m.user_id == "alice").unwrap().read_at_ms > 0);
}

/// Past `limits.receipt_broadcast_max_members`, a receipt reaches the senders of the messages it covers
/// and the marking user's other devices, not every member (which would be quadratic in the group size).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_in_large_groups_go_to_the_senders_they_concern() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.limits.receipt_broadcast_max_members = 3;
    let broker = TestBroker::start_with(cfg).await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut carol = login(&broker, "carol", "phone").await;
    let mut carol_laptop = login(&broker, "carol", "laptop").await;
    let mut dave = login(&broker, "dave", "phone").await;
    let conv = group(&mut alice, &["bob", "carol", "dave"]).await;
    let first = send(&mut alice, conv, "one").await;
    let second = send(&mut bob, conv, "two").await;

    // Carol reads up to Bob's message: her watermark moves over Alice's and Bob's messages, so both
    // senders are told, and so is Carol's laptop; Dave is not.
    read_up_to(&mut carol, conv, second.seq).await;
    assert_eq!(receipt_event(&mut bob, "carol", ReceiptKind::Read).await.up_to_seq, second.seq);
    assert_eq!(receipt_event(&mut alice, "carol", ReceiptKind::Read).await.up_to_seq, second.seq);
    assert_eq!(receipt_event(&mut carol_laptop, "carol", ReceiptKind::Read).await.up_to_seq, second.seq);
    assert!(receipt_events_within(&mut dave, "carol", Duration::from_millis(500)).await.is_empty());

    // Dave has the first message only: Alice is told, Bob is not.
    let done = dave.call(MarkDelivered { conversation_id: conv, up_to_seq: first.seq }).await;
    assert!(matches!(done, ServerBody::Done(_)));
    assert_eq!(receipt_event(&mut alice, "dave", ReceiptKind::Delivered).await.up_to_seq, first.seq);
    assert!(receipt_events_within(&mut bob, "dave", Duration::from_millis(500)).await.is_empty());
    assert!(
        receipt_events_within(&mut dave, "dave", Duration::from_millis(300)).await.is_empty(),
        "the device that reported a delivery is not told about it"
    );

    // Everyone can still ask who got and read a message.
    let r = receipts(&mut dave, second.message_id).await;
    assert_eq!((r.recipients, r.delivered, r.read), (3, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_times_are_kept_per_message_and_bounded() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    let mut ids = Vec::new();
    for i in 1..=300u64 {
        ids.push(send(&mut alice, conv, &format!("m{i}")).await.message_id);
    }
    read_up_to(&mut bob, conv, 2).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    read_up_to(&mut bob, conv, 3).await;
    let first = receipts(&mut alice, ids[0]).await.members[0].read_at_ms;
    let second = receipts(&mut alice, ids[1]).await.members[0].read_at_ms;
    let third = receipts(&mut alice, ids[2]).await.members[0].read_at_ms;
    assert!(first > 0 && first == second && third >= first + 20, "{first} {second} {third}");
    assert_eq!(receipts(&mut alice, ids[3]).await.read, 0);

    // One step per message read, far more than are kept.
    for seq in 4..=300 {
        read_up_to(&mut bob, conv, seq).await;
    }
    let newest = receipts(&mut alice, ids[299]).await.members[0].read_at_ms;
    let oldest = receipts(&mut alice, ids[0]).await.members[0].read_at_ms;
    assert!(oldest >= third && oldest <= newest, "{oldest} {third} {newest}");
    drop((alice, bob));
    let mut steps = 0;
    let broker = broker
        .restart_editing_store(|store| {
            let db = store.raw_db();
            let cf = db.cf_handle("receipts").unwrap();
            steps = db.iterator_cf(&cf, rocksdb::IteratorMode::Start).count();
        })
        .await;
    // Per kind at most 256 + 32 steps are kept, plus one watermark row per member.
    assert!(steps <= 2 * (256 + 32) + 2, "{steps} rows in receipts");
    let mut alice = login(&broker, "alice", "phone").await;
    assert_eq!(receipts(&mut alice, ids[0]).await.members[0].read_at_ms, oldest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_follow_reads_sends_devices_deletions_and_restarts() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut bob_laptop = login(&broker, "bob", "laptop").await;
    let conv = direct(&mut alice, "bob").await;
    let mut ids = Vec::new();
    for i in 1..=3 {
        ids.push(send(&mut alice, conv, &format!("a{i}")).await.message_id);
    }
    assert_eq!(unread_of(&mut bob, conv).await, (3, 3));
    assert_eq!(unread_of(&mut alice, conv).await, (0, 0), "own messages are not unread");

    // By message ids: the watermark moves to the highest of those in this conversation.
    let other = direct(&mut alice, "carol").await;
    let foreign = send(&mut alice, other, "for carol").await.message_id;
    let by_ids = MarkRead { conversation_id: conv, up_to_seq: 0, message_ids: vec![ids[1], foreign, ids[0]] };
    assert!(matches!(bob.call(by_ids).await, ServerBody::Done(_)));
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    // At or below the watermark: nothing moves, still Done.
    read_up_to(&mut bob, conv, 1).await;
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));

    // Each read tells the reader's devices; read on the laptop, the phone is told, and counts agree.
    let own = until(&mut bob, |b| match b {
        ServerBody::UnreadEvent(u) if u.conversation_id == conv => Some(u),
        _ => None,
    })
    .await;
    assert_eq!((own.unread, own.total), (1, 1));
    read_up_to(&mut bob_laptop, conv, 3).await;
    let badge = until(&mut bob, |b| match b {
        ServerBody::UnreadEvent(u) if u.conversation_id == conv => Some(u),
        _ => None,
    })
    .await;
    assert_eq!((badge.unread, badge.total), (0, 0));
    assert_eq!(unread_of(&mut bob, conv).await, (0, 0));

    // Watermarks merge over devices: the highest wins; a lower report from a device changes nothing.
    send(&mut alice, conv, "a4").await;
    send(&mut alice, conv, "a5").await;
    assert_eq!(unread_of(&mut bob_laptop, conv).await, (2, 2));
    read_up_to(&mut bob, conv, 4).await;
    read_up_to(&mut bob_laptop, conv, 3).await;
    assert_eq!(unread_of(&mut bob_laptop, conv).await, (1, 1));
    // Beyond the last message: clamped to it.
    read_up_to(&mut bob_laptop, conv, 999).await;
    let view = conversation(&mut bob, conv).await;
    assert_eq!((view.unread, view.read_up_to_seq, view.delivered_up_to_seq), (0, 5, 5));

    // Sending implies reading, for Bob and then for Alice.
    send(&mut alice, conv, "a6").await;
    send(&mut bob, conv, "b7").await;
    assert_eq!(unread_of(&mut bob, conv).await, (0, 0));
    assert_eq!(unread_of(&mut alice, conv).await, (1, 1));
    send(&mut alice, conv, "a8").await;
    assert_eq!(unread_of(&mut alice, conv).await, (0, 0));

    // Totals span conversations; an empty list means all of them; lists carry the views too.
    let mut carol = login(&broker, "carol", "phone").await;
    let with_carol = direct(&mut carol, "bob").await;
    send(&mut carol, with_carol, "c1").await;
    send(&mut carol, with_carol, "c2").await;
    tokio::time::sleep(Duration::from_millis(5)).await; // a later activity time than Carol's
    send(&mut alice, conv, "a9").await;
    let all = unread(&mut bob, &[]).await;
    assert_eq!(all.total, 4);
    let mut per: Vec<(u64, u32)> = all.conversations.iter().map(|c| (c.conversation_id, c.unread)).collect();
    per.sort_unstable();
    assert_eq!(per, [(conv, 2), (with_carol, 2)]);
    let ServerBody::ConversationPage(page) = bob.call(ListConversations { limit: 10, ..Default::default() }).await
    else {
        panic!()
    };
    let listed: Vec<(u64, u32, u64)> = page.conversations.iter().map(|c| (c.id, c.unread, c.read_up_to_seq)).collect();
    assert_eq!(listed, [(conv, 2, 7), (with_carol, 2, 0)]);

    // Computed from stored state: the same after a restart, and messages deleted for everyone (seq 9
    // unread, seq 3 already read) are not counted.
    drop((alice, bob, bob_laptop, carol));
    let broker = broker
        .restart_editing_store(|store| {
            let db = store.raw_db();
            let cf = db.cf_handle("deleted").unwrap();
            for seq in [9u64, 3] {
                let mut key = conv.to_be_bytes().to_vec();
                key.extend_from_slice(&seq.to_be_bytes());
                db.put_cf(&cf, key, []).unwrap();
            }
        })
        .await;
    let mut bob = login(&broker, "bob", "tablet").await;
    assert_eq!(unread_of(&mut bob, conv).await, (1, 3));
    assert_eq!(unread_of(&mut bob, with_carol).await, (2, 3));
    assert_eq!(conversation(&mut bob, conv).await.unread, 1);
    read_up_to(&mut bob, with_carol, 2).await;
    assert_eq!(unread(&mut bob, &[]).await.total, 1);
}

/// The next UnreadEvent for `conv`: (unread there, total).
async fn unread_event(c: &mut RawClient, conv: u64) -> (u32, u32) {
    until(c, |b| match b {
        ServerBody::UnreadEvent(u) if u.conversation_id == conv => Some((u.unread, u.total)),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_totals_follow_the_readers_conversations_as_they_join_and_leave() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut carol = login(&broker, "carol", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    send(&mut alice, conv, "a1").await;
    send(&mut alice, conv, "a2").await;
    read_up_to(&mut bob, conv, 1).await;
    assert_eq!(unread_event(&mut bob, conv).await, (1, 1));

    // A group bob is added to after that counts in his total from its first message.
    let team = group(&mut carol, &["bob"]).await;
    send(&mut carol, team, "c1").await;
    send(&mut carol, team, "c2").await;
    read_up_to(&mut bob, conv, 2).await;
    assert_eq!(unread_event(&mut bob, conv).await, (0, 2));
    // Bob's own send reads the group.
    send(&mut bob, team, "b1").await;
    assert_eq!(unread_event(&mut bob, team).await, (0, 0));

    // Removed from the group, its messages no longer count.
    send(&mut carol, team, "c3").await;
    let removed = RemoveMember { conversation_id: team, user_id: "bob".into() };
    assert!(matches!(carol.call(removed).await, ServerBody::Done(_) | ServerBody::ConversationInfo(_)));
    send(&mut alice, conv, "a3").await;
    read_up_to(&mut bob, conv, 3).await;
    assert_eq!(unread_event(&mut bob, conv).await, (0, 0));
    assert_eq!(unread(&mut bob, &[]).await.total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_members_may_mark_or_ask_and_foreign_ids_are_refused() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "laptop").await;
    let conv = direct(&mut alice, "bob").await;
    let ack = send(&mut alice, conv, "private").await;
    let elsewhere = direct(&mut eve, "mallory").await;
    let foreign = send(&mut eve, elsewhere, "other chat").await;

    let not_found = [
        eve.call(MarkRead { conversation_id: conv, up_to_seq: 1, message_ids: vec![] }).await,
        eve.call(MarkRead { conversation_id: conv, up_to_seq: 0, message_ids: vec![ack.message_id] }).await,
        eve.call(MarkRead { conversation_id: conv, up_to_seq: 0, message_ids: vec![foreign.message_id] }).await,
        eve.call(MarkDelivered { conversation_id: conv, up_to_seq: 1 }).await,
        eve.call(GetReceipts { message_id: ack.message_id }).await,
        eve.call(GetUnreadCounts { conversation_ids: vec![conv] }).await,
        eve.call(GetUnreadCounts { conversation_ids: vec![elsewhere, conv] }).await,
        bob.call(MarkRead { conversation_id: 999_999, up_to_seq: 1, message_ids: vec![] }).await,
        bob.call(GetReceipts { message_id: 999_999 }).await,
    ];
    for body in &not_found {
        assert_eq!(code(body), ErrorCode::NotFound, "{body:?}");
    }
    // Eve learnt nothing: no receipt moved.
    let r = receipts(&mut alice, ack.message_id).await;
    assert_eq!((r.delivered, r.read), (0, 0));

    // A member naming only messages of other conversations (or none that exist): InvalidArgument.
    for ids in [vec![foreign.message_id], vec![424_242]] {
        let body = bob.call(MarkRead { conversation_id: conv, up_to_seq: 5, message_ids: ids }).await;
        assert_eq!(code(&body), ErrorCode::InvalidArgument);
    }
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    let zero = bob.call(MarkRead { conversation_id: 0, up_to_seq: 1, message_ids: vec![] }).await;
    assert_eq!(code(&zero), ErrorCode::InvalidArgument);
}

async fn send_leaving_read_state(c: &mut RawClient, conv: u64, text: &str) -> MessageAck {
    let id = format!("{conv}:{text}");
    let m = SendMessage {
        conversation_id: conv,
        client_msg_id: id,
        text: text.into(),
        leave_read_state: true,
        ..Default::default()
    };
    send_message(c, m).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_leaves_read_state_reads_nothing_and_is_never_unread_for_its_sender() {
    use quip_protocol::family::messages::{DeleteMessage, DeleteScope};
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;
    send(&mut alice, conv, "one").await;

    // Bob replies the legacy apps' way: Alice hears no read, and Alice's message stays unread for Bob
    // while his own reply is not unread for him.
    let reply = send_leaving_read_state(&mut bob, conv, "two").await;
    let reads = receipt_events_within(&mut alice, "bob", Duration::from_millis(300)).await;
    assert!(reads.iter().all(|r| r.kind != ReceiptKind::Read), "{reads:?}");
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    assert_eq!(unread_of(&mut alice, conv).await, (1, 1));

    // His explicit read names where his watermark was: everything after it is newly read.
    read_up_to(&mut bob, conv, reply.seq).await;
    let read = receipt_event(&mut alice, "bob", ReceiptKind::Read).await;
    assert_eq!((read.from_seq, read.up_to_seq), (0, reply.seq));
    assert_eq!(unread_of(&mut bob, conv).await, (0, 0));

    // The same mark again moves nothing and is still announced, as the legacy apps do.
    read_up_to(&mut bob, conv, reply.seq).await;
    let again = receipt_event(&mut alice, "bob", ReceiptKind::Read).await;
    assert_eq!((again.from_seq, again.up_to_seq), (reply.seq, reply.seq));

    // One of his own messages he hides is out of his count once, not twice.
    send(&mut alice, conv, "three").await;
    let four = send_leaving_read_state(&mut bob, conv, "four").await;
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    let hide = DeleteMessage { message_id: four.message_id, scope: DeleteScope::ForMe };
    assert!(matches!(bob.call(hide).await, ServerBody::Done(_)));
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    let five = send_leaving_read_state(&mut bob, conv, "five").await;
    let gone = DeleteMessage { message_id: five.message_id, scope: DeleteScope::ForEveryone };
    assert!(matches!(bob.call(gone).await, ServerBody::Done(_)));
    assert_eq!(unread_of(&mut bob, conv).await, (1, 1));
    assert_eq!(unread_of(&mut alice, conv).await, (1, 1), "hidden for Bob only, \"four\" is unread for Alice");
}
