//! Requests at the protocol level: authorization, idempotent sends, history paging, and bad input.

use crate::common;

use crate::common::{RawClient, TestBroker, login};
use quip_protocol::family::conversations::{ConversationContext, CreateGroup, GetConversation, OpenDirect};
use quip_protocol::family::messages::{Direction, GetHistory, GetMessage, SendMessage};
use quip_protocol::family::session::{Ping, UpdateProfile};
use quip_protocol::{ErrorCode, ServerBody};

async fn open(c: &mut RawClient, peer: &str, context: Option<ConversationContext>) -> (u64, bool) {
    match c.call(OpenDirect { peer_user_id: peer.into(), context }).await {
        ServerBody::ConversationInfo(info) => (info.conversation.id, info.created),
        other => panic!("{other:?}"),
    }
}

fn send(conv: u64, id: &str, text: &str) -> SendMessage {
    SendMessage { conversation_id: conv, client_msg_id: id.into(), text: text.into(), ..SendMessage::default() }
}

fn code(body: &ServerBody) -> ErrorCode {
    match body {
        ServerBody::ErrorReply(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_conversations_are_get_or_create_per_pair_and_context() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let (c1, created) = open(&mut alice, "bob", None).await;
    assert!(created);
    assert_eq!(open(&mut bob, "alice", None).await, (c1, false));
    let order = || Some(ConversationContext::new("order", "A-17"));
    let (c2, created) = open(&mut alice, "bob", order()).await;
    assert!(created && c2 != c1);
    assert_eq!(open(&mut bob, "alice", order()).await, (c2, false));
    assert_eq!(
        code(&alice.call(OpenDirect { peer_user_id: "alice".into(), context: None }).await),
        ErrorCode::InvalidArgument
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_opens_of_the_same_pair_yield_one_conversation() {
    let broker = TestBroker::start().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut c = login(&broker, if i % 2 == 0 { "alice" } else { "bob" }, &format!("d{i}")).await;
        tasks.push(tokio::spawn(async move { open(&mut c, if i % 2 == 0 { "bob" } else { "alice" }, None).await }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    assert_eq!(ids.iter().filter(|(_, created)| *created).count(), 1);
    assert!(ids.iter().all(|(id, _)| *id == ids[0].0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_send_returns_the_original_ack_and_stores_once() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (conv, _) = open(&mut alice, "bob", None).await;
    let ServerBody::MessageAck(first) = alice.call(send(conv, "m-1", "hello")).await else { panic!() };
    let ServerBody::MessageAck(again) = alice.call(send(conv, "m-1", "hello")).await else { panic!() };
    assert!(!first.duplicate && again.duplicate);
    assert_eq!((first.message_id, first.seq, first.created_at_ms), (again.message_id, again.seq, again.created_at_ms));
    let ServerBody::MessageAck(next) = alice.call(send(conv, "m-2", "second")).await else { panic!() };
    assert_eq!(next.seq, first.seq + 1);
    let ServerBody::HistoryPage(page) = alice
        .call(GetHistory { conversation_id: conv, anchor_seq: 0, direction: Direction::Backward, limit: 50 })
        .await
    else {
        panic!()
    };
    assert_eq!(page.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["second", "hello"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_by_sequence_cursor_both_ways() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (conv, _) = open(&mut alice, "bob", None).await;
    for i in 1..=25 {
        assert!(matches!(alice.call(send(conv, &format!("m{i}"), &format!("#{i}"))).await, ServerBody::MessageAck(_)));
    }
    let mut seen = Vec::new();
    let mut anchor = 0;
    loop {
        let ServerBody::HistoryPage(page) = alice
            .call(GetHistory { conversation_id: conv, anchor_seq: anchor, direction: Direction::Backward, limit: 10 })
            .await
        else {
            panic!()
        };
        seen.extend(page.messages.iter().map(|m| m.seq));
        if !page.has_more {
            break;
        }
        anchor = page.next_anchor_seq;
    }
    assert_eq!(seen, (1..=25).rev().collect::<Vec<_>>());
    let ServerBody::HistoryPage(fwd) = alice
        .call(GetHistory { conversation_id: conv, anchor_seq: 20, direction: Direction::Forward, limit: 10 })
        .await
    else {
        panic!()
    };
    assert_eq!(fwd.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [21, 22, 23, 24, 25]);
    assert!(!fwd.has_more);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_member_is_refused_everything() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut eve = login(&broker, "eve", "laptop").await;
    let (conv, _) = open(&mut alice, "bob", None).await;
    let ServerBody::MessageAck(ack) = alice.call(send(conv, "m-1", "secret")).await else { panic!() };

    assert_eq!(code(&eve.call(send(conv, "e-1", "let me in")).await), ErrorCode::Forbidden);
    assert_eq!(code(&eve.call(GetConversation { conversation_id: conv }).await), ErrorCode::NotFound);
    assert_eq!(
        code(
            &eve.call(GetHistory { conversation_id: conv, anchor_seq: 0, direction: Direction::Backward, limit: 10 })
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(code(&eve.call(GetMessage { message_id: ack.message_id }).await), ErrorCode::NotFound);
    assert_eq!(code(&eve.call(send(999_999, "e-2", "nowhere")).await), ErrorCode::NotFound);
    // Eve received nothing of the conversation.
    assert!(eve.event_within(std::time::Duration::from_millis(300)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_deliver_to_members_only() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let ServerBody::ConversationInfo(info) = alice
        .call(CreateGroup { title: "team".into(), member_ids: vec!["bob".into()], ..CreateGroup::default() })
        .await
    else {
        panic!()
    };
    assert_eq!(info.conversation.members.len(), 2);
    let conv = info.conversation.id;
    alice.call(send(conv, "g-1", "hi team")).await;
    loop {
        match bob.event().await {
            ServerBody::MessageEvent(ev) => {
                assert_eq!(ev.message.text, "hi team");
                assert_eq!(ev.message.sender.id, "alice");
                assert_eq!(ev.message.sender.display_name.as_deref(), Some("ALICE"));
                break;
            }
            ServerBody::ConversationEvent(_) => continue,
            other => panic!("{other:?}"),
        }
    }
    assert!(eve.event_within(std::time::Duration::from_millis(300)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_keeps_its_senders_profile_as_it_was_when_sent() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (conv, _) = open(&mut alice, "bob", None).await;
    alice.call(send(conv, "p-1", "before")).await;
    let renamed = UpdateProfile { display_name: Some("Alice B.".into()), ..UpdateProfile::default() };
    assert!(matches!(alice.call(renamed).await, ServerBody::Users(_)));
    alice.call(send(conv, "p-2", "after")).await;

    let ServerBody::HistoryPage(page) =
        alice.call(GetHistory { conversation_id: conv, anchor_seq: 0, direction: Direction::Forward, limit: 10 }).await
    else {
        panic!()
    };
    let names: Vec<_> = page.messages.iter().map(|m| (m.text.as_str(), m.sender.display_name.as_deref())).collect();
    assert_eq!(names, [("before", Some("ALICE")), ("after", Some("Alice B."))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_session_survives() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;

    // A well-framed frame that is not a valid ClientFrame: BadFrame, session continues.
    let mut junk = 8u32.to_le_bytes().to_vec();
    junk.extend_from_slice(&[0xff; 8]);
    alice.write_raw(&junk).await;
    let reply = alice.reply().await.unwrap();
    assert_eq!(code(&reply.body), ErrorCode::BadFrame);
    assert!(matches!(alice.call(Ping { nonce: 1 }).await, ServerBody::Pong(p) if p.nonce == 1));

    // Oversized text: PayloadTooLarge.
    let (conv, _) = open(&mut alice, "bob", None).await;
    assert_eq!(code(&alice.call(send(conv, "big", &"x".repeat(17 * 1024))).await), ErrorCode::PayloadTooLarge);
    // Empty message: InvalidArgument. Client-written system messages: Forbidden.
    assert_eq!(code(&alice.call(send(conv, "empty", "  ")).await), ErrorCode::InvalidArgument);
    let system = SendMessage { kind: quip_protocol::family::messages::MessageKind::System, ..send(conv, "sys", "x") };
    assert_eq!(code(&alice.call(system).await), ErrorCode::Forbidden);
    // A second Hello: UnexpectedFrame.
    let hello = quip_protocol::family::session::Hello {
        token: "t".into(),
        device_id: "d".into(),
        protocol_version: 1,
        ..Default::default()
    };
    assert_eq!(code(&alice.call(hello).await), ErrorCode::UnexpectedFrame);

    // An oversized length prefix: FrameTooLarge, then the connection is closed.
    alice.write_raw(&u32::MAX.to_le_bytes()).await;
    let reply = alice.reply().await.unwrap();
    assert_eq!(code(&reply.body), ErrorCode::FrameTooLarge);
    assert!(tokio::time::timeout(common::WAIT, alice.conn.closed()).await.is_ok());

    // quipd is still up for everyone else.
    let mut bob = login(&broker, "bob", "phone").await;
    assert!(matches!(bob.call(Ping { nonce: 2 }).await, ServerBody::Pong(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_before_hello_is_refused() {
    let broker = TestBroker::start().await;
    let mut c = RawClient::connect(&broker).await;
    c.send_frame(Ping { nonce: 1 }).await;
    let reply = c.reply().await.unwrap();
    assert_eq!(code(&reply.body), ErrorCode::UnexpectedFrame);
    assert!(tokio::time::timeout(common::WAIT, c.conn.closed()).await.is_ok());
}

/// Before Welcome as after it (docs/PROTOCOL.md, "What happens on a failure"): a bad length prefix gets
/// `FrameTooLarge`, then `Goodbye { ProtocolError }`, then the close; a field error in Hello names the
/// Hello's request id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_errors_are_answered_as_documented() {
    use quip_protocol::family::session::{CloseReason, Hello};
    let broker = TestBroker::start().await;
    let mut c = RawClient::connect(&broker).await;
    c.write_raw(&u32::MAX.to_le_bytes()).await;
    let reply = c.reply().await.expect("an answer");
    assert_eq!(code(&reply.body), ErrorCode::FrameTooLarge);
    match c.reply().await.map(|f| f.body) {
        Some(ServerBody::Goodbye(g)) => assert_eq!(g.reason, CloseReason::ProtocolError),
        other => panic!("expected Goodbye, got {other:?}"),
    }
    assert!(tokio::time::timeout(common::WAIT, c.conn.closed()).await.is_ok());

    let mut c = RawClient::connect(&broker).await;
    let hello =
        Hello { protocol_version: 1, token: broker.token("alice"), device_id: "a\nb".into(), ..Hello::default() };
    let id = c.send_frame(hello).await;
    let reply = c.reply().await.expect("an answer");
    assert_eq!((reply.request_id, code(&reply.body)), (id, ErrorCode::InvalidArgument));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_listed_by_last_activity_with_cursor_paging() {
    use quip_protocol::family::conversations::ListConversations;
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut convs = Vec::new();
    for peer in ["bob", "carol", "dave"] {
        convs.push(open(&mut alice, peer, None).await.0);
    }
    // Activity order: dave's chat is oldest now, bob's newest.
    for (i, conv) in [convs[2], convs[1], convs[0]].into_iter().enumerate() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        alice.call(send(conv, &format!("x{i}"), "ping")).await;
    }
    let ServerBody::ConversationPage(first) = alice.call(ListConversations { limit: 2, ..Default::default() }).await
    else {
        panic!()
    };
    let ids: Vec<u64> = first.conversations.iter().map(|c| c.id).collect();
    assert_eq!(ids, [convs[0], convs[1]]);
    assert!(first.conversations[0].last_message.is_some());
    let cursor = first.next_cursor.expect("a second page");
    let ServerBody::ConversationPage(second) =
        alice.call(ListConversations { cursor: Some(cursor), limit: 2, ..Default::default() }).await
    else {
        panic!()
    };
    assert_eq!(second.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [convs[2]]);
    assert!(second.next_cursor.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.rate_limits.native.messages_per_minute = 3;
    cfg.rate_limits.native.conversations_per_hour = 1;
    let broker = TestBroker::start_with(cfg).await;
    let mut alice = login(&broker, "alice", "phone").await;
    let (conv, created) = open(&mut alice, "bob", None).await;
    assert!(created);
    for i in 0..3 {
        assert!(matches!(alice.call(send(conv, &format!("ok{i}"), "hi")).await, ServerBody::MessageAck(_)));
    }
    let ServerBody::ErrorReply(limited) = alice.call(send(conv, "over", "hi")).await else { panic!() };
    assert_eq!(limited.code, ErrorCode::RateLimited);
    let retry = limited.retry_after_ms.unwrap();
    assert!(retry > 0 && retry <= 20_000, "{retry}");
    // Opening the existing conversation again is not creating one: allowed.
    assert_eq!(open(&mut alice, "bob", None).await, (conv, false));
    // A new one is over the hourly allowance.
    let refused = alice.call(OpenDirect { peer_user_id: "carol".into(), context: None }).await;
    assert_eq!(code(&refused), ErrorCode::RateLimited);
    // Limits are per user: Bob is unaffected.
    let mut bob = login(&broker, "bob", "phone").await;
    assert!(matches!(bob.call(send(conv, "b1", "hello")).await, ServerBody::MessageAck(_)));
}
