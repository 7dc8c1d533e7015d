//! Typing indicators and presence against a real quipd: who hears what, coalescing, the grace period
//! after a disconnect, invisibility, watches, online members, and last-seen times across a restart.

use std::time::{Duration, Instant};

use crate::common::{RawClient, TestBroker, WAIT, direct, login};
use quip_broker::PresenceConfig;
use quip_protocol::family::conversations::CreateGroup;
use quip_protocol::family::presence::{
    GetOnlineMembers, GetPresence, Presence, PresenceStatus, SetPresence, Typing, TypingEvent, WatchPresence,
};
use quip_protocol::family::session::Ping;
use quip_protocol::{ClientFrame, ErrorCode, ServerBody};

/// The grace period in these tests: long enough for a reconnect, short enough to wait out.
const GRACE: Duration = Duration::from_secs(1);
/// How long to listen when asserting that nothing (more) arrives.
const QUIET: Duration = Duration::from_millis(600);

fn short_grace() -> PresenceConfig {
    PresenceConfig { presence_grace_ms: GRACE.as_millis() as u64 }
}

/// Closes the connection (as a client that goes away does) and waits until the close was sent.
async fn hang_up(c: RawClient) {
    c.conn.close(0u32.into(), b"bye");
    let _ = tokio::time::timeout(Duration::from_secs(2), c.endpoint.wait_idle()).await;
}

/// The next PresenceEvent within `wait`, skipping other events.
async fn next_presence(c: &mut RawClient, wait: Duration) -> Option<Presence> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.event_within(left).await? {
            ServerBody::PresenceEvent(ev) => return Some(ev.presence),
            _ => continue,
        }
    }
}

/// Every PresenceEvent that arrives within `wait`.
async fn presences_within(c: &mut RawClient, wait: Duration) -> Vec<Presence> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Some(p) = next_presence(c, deadline.saturating_duration_since(Instant::now())).await {
        out.push(p);
    }
    out
}

/// Every TypingEvent that arrives within `wait`.
async fn typing_within(c: &mut RawClient, wait: Duration) -> Vec<TypingEvent> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Some(ev) = c.event_within(deadline.saturating_duration_since(Instant::now())).await {
        if let ServerBody::TypingEvent(t) = ev {
            out.push(t);
        }
    }
    out
}

/// The first TypingEvent within `wait`.
async fn next_typing(c: &mut RawClient, wait: Duration) -> Option<TypingEvent> {
    let deadline = Instant::now() + wait;
    loop {
        match c.event_within(deadline.saturating_duration_since(Instant::now())).await? {
            ServerBody::TypingEvent(t) => return Some(t),
            _ => continue,
        }
    }
}

/// A Typing frame with request_id 0 (no reply), as clients send them.
async fn type_quietly(c: &mut RawClient, conv: u64, active: bool) {
    c.write_raw(&ClientFrame::new(0, Typing { conversation_id: conv, active }).encode()).await;
}

/// Waits until every request sent so far was handled (replies come in order).
async fn settle(c: &mut RawClient) {
    assert!(matches!(c.call(Ping { nonce: 7 }).await, ServerBody::Pong(_)));
}

async fn get_presence(c: &mut RawClient, users: &[&str]) -> Vec<Presence> {
    match c.call(GetPresence { user_ids: users.iter().map(|u| (*u).to_owned()).collect() }).await {
        ServerBody::PresenceList(list) => list.presences,
        other => panic!("{other:?}"),
    }
}

async fn set_status(c: &mut RawClient, status: PresenceStatus) {
    assert!(matches!(c.call(SetPresence { status }).await, ServerBody::Done(_)));
}

fn code(body: &ServerBody) -> ErrorCode {
    match body {
        ServerBody::ErrorReply(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_other_members_online_devices_only() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut alice_laptop = login(&broker, "alice", "laptop").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    let conv = direct(&mut alice, "bob").await;

    let sent = Instant::now();
    type_quietly(&mut alice, conv, true).await;
    let ev = next_typing(&mut bob, WAIT).await.expect("bob hears alice typing");
    assert!(sent.elapsed() < Duration::from_secs(2), "typing took {:?}", sent.elapsed());
    let name = Some("ALICE".to_owned());
    let expected = TypingEvent {
        conversation_id: conv,
        user_id: "alice".into(),
        active: true,
        expires_in_ms: 6000,
        display_name: name,
    };
    assert_eq!(ev, expected, "the typing event names the typer as their token does");
    assert!(typing_within(&mut alice_laptop, QUIET).await.is_empty(), "not the typer's own devices");
    assert!(typing_within(&mut eve, Duration::from_millis(100)).await.is_empty(), "not a stranger");

    // With a request id there is a reply; a stranger is refused and nobody hears it.
    assert!(matches!(bob.call(Typing { conversation_id: conv, active: true }).await, ServerBody::Done(_)));
    assert_eq!(next_typing(&mut alice, WAIT).await.map(|t| t.user_id), Some("bob".into()));
    assert_eq!(code(&eve.call(Typing { conversation_id: conv, active: true }).await), ErrorCode::NotFound);
    assert_eq!(code(&eve.call(Typing { conversation_id: 999_999, active: true }).await), ErrorCode::NotFound);
    assert!(typing_within(&mut bob, QUIET).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_typing_is_coalesced_into_one_event_and_one_stop() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut alice, "bob").await;

    // Ten keystrokes within a second.
    for _ in 0..10 {
        type_quietly(&mut alice, conv, true).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(&mut alice).await;
    let events = typing_within(&mut bob, Duration::from_millis(800)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].active && events[0].expires_in_ms == 6000);

    // Stopping is forwarded once; a second stop (nothing active any more) is not.
    type_quietly(&mut alice, conv, false).await;
    type_quietly(&mut alice, conv, false).await;
    settle(&mut alice).await;
    let events = typing_within(&mut bob, Duration::from_millis(800)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].active, events[0].user_id.as_str()), (false, "alice"));

    // A stop without a start is not forwarded either; typing again starts a new indicator.
    let other = direct(&mut alice, "carol").await;
    type_quietly(&mut alice, other, false).await;
    type_quietly(&mut alice, conv, true).await;
    settle(&mut alice).await;
    let events = typing_within(&mut bob, Duration::from_millis(800)).await;
    assert_eq!(events.iter().map(|e| (e.conversation_id, e.active)).collect::<Vec<_>>(), [(conv, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_see_a_user_come_online_and_go_offline_after_the_grace_period() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    let mut eve = login(&broker, "eve", "phone").await;
    direct(&mut bob, "alice").await;

    let alice = login(&broker, "alice", "phone").await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice come online");
    assert_eq!((p.user_id.as_str(), p.status), ("alice", PresenceStatus::Online));
    assert!(p.last_seen_ms > 0);

    // A reconnect within the grace period: no offline/online pair.
    hang_up(alice).await;
    let alice = login(&broker, "alice", "phone").await;
    let seen = presences_within(&mut bob, GRACE * 2).await;
    assert!(seen.is_empty(), "a quick reconnect is invisible to contacts: {seen:?}");

    // Gone for longer than the grace period: exactly one offline event, with the last-seen time.
    let before = quip_broker::now_ms();
    hang_up(alice).await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice go offline");
    assert_eq!((p.user_id.as_str(), p.status), ("alice", PresenceStatus::Offline));
    assert!(p.last_seen_ms >= before && p.last_seen_ms <= quip_broker::now_ms(), "{p:?}");
    assert!(presences_within(&mut bob, GRACE + QUIET).await.is_empty(), "one offline event");
    assert_eq!(get_presence(&mut bob, &["alice"]).await[0].last_seen_ms, p.last_seen_ms);

    // Eve shares no conversation with alice: she heard nothing of it.
    assert!(presences_within(&mut eve, Duration::from_millis(100)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invisible_looks_offline_to_others_but_not_to_oneself() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    let conv = direct(&mut bob, "alice").await;
    let mut alice = login(&broker, "alice", "phone").await;
    let mut alice_laptop = login(&broker, "alice", "laptop").await;
    assert_eq!(next_presence(&mut bob, WAIT).await.map(|p| p.status), Some(PresenceStatus::Online));

    let before = quip_broker::now_ms();
    set_status(&mut alice, PresenceStatus::Invisible).await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice go offline");
    assert_eq!(p.status, PresenceStatus::Offline);
    let frozen = p.last_seen_ms;
    assert!(frozen >= before);
    // Her other device hears the truth.
    let own = next_presence(&mut alice_laptop, WAIT).await.expect("her laptop hears the change");
    assert_eq!((own.status, own.devices), (PresenceStatus::Invisible, 2));

    let seen_by_bob = get_presence(&mut bob, &["alice"]).await;
    assert_eq!((seen_by_bob[0].status, seen_by_bob[0].last_seen_ms), (PresenceStatus::Offline, frozen));
    let seen_by_alice = get_presence(&mut alice, &["alice"]).await;
    assert_eq!(seen_by_alice[0].status, PresenceStatus::Invisible);
    assert!(seen_by_alice[0].devices >= 1);
    let ServerBody::PresenceList(online) = bob.call(GetOnlineMembers { conversation_id: conv }).await else { panic!() };
    assert_eq!(online.presences.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), ["bob"]);

    // Leaving and coming back while invisible changes nothing for others, not even the last-seen time.
    hang_up(alice_laptop).await;
    hang_up(alice).await;
    tokio::time::sleep(GRACE + QUIET).await;
    let mut alice = login(&broker, "alice", "phone").await;
    assert!(presences_within(&mut bob, QUIET).await.is_empty());
    assert_eq!(get_presence(&mut bob, &["alice"]).await[0].last_seen_ms, frozen);
    assert_eq!(get_presence(&mut alice, &["alice"]).await[0].status, PresenceStatus::Invisible);

    // Visible again.
    set_status(&mut alice, PresenceStatus::Away).await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice again");
    assert_eq!(p.status, PresenceStatus::Away);
    assert!(p.last_seen_ms > frozen);
    // Offline is not a status one sets.
    assert_eq!(code(&alice.call(SetPresence { status: PresenceStatus::Offline }).await), ErrorCode::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_hears_of_a_user_it_shares_no_conversation_with() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut eve = login(&broker, "eve", "phone").await;
    let mut eve_laptop = login(&broker, "eve", "laptop").await;
    assert!(matches!(
        eve.call(WatchPresence { user_ids: vec!["alice".into()], unwatch: false }).await,
        ServerBody::Done(_)
    ));

    let mut alice = login(&broker, "alice", "phone").await;
    let p = next_presence(&mut eve, WAIT).await.expect("the watcher hears alice come online");
    assert_eq!((p.user_id.as_str(), p.status), ("alice", PresenceStatus::Online));
    assert!(presences_within(&mut eve_laptop, QUIET).await.is_empty(), "watches are per session");

    set_status(&mut alice, PresenceStatus::Busy).await;
    assert_eq!(next_presence(&mut eve, WAIT).await.map(|p| p.status), Some(PresenceStatus::Busy));

    assert!(matches!(
        eve.call(WatchPresence { user_ids: vec!["alice".into()], unwatch: true }).await,
        ServerBody::Done(_)
    ));
    set_status(&mut alice, PresenceStatus::Online).await;
    assert!(presences_within(&mut eve, QUIET).await.is_empty(), "unwatched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_members_are_those_online_and_visible() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut alice = login(&broker, "alice", "phone").await;
    let ServerBody::ConversationInfo(info) = alice
        .call(CreateGroup {
            title: "team".into(),
            member_ids: vec!["bob".into(), "carol".into(), "dave".into()],
            ..CreateGroup::default()
        })
        .await
    else {
        panic!()
    };
    let conv = info.conversation.id;
    let _bob = login(&broker, "bob", "phone").await;
    let mut dave = login(&broker, "dave", "phone").await;
    set_status(&mut dave, PresenceStatus::Invisible).await;
    let mut eve = login(&broker, "eve", "phone").await;

    let ServerBody::PresenceList(list) = alice.call(GetOnlineMembers { conversation_id: conv }).await else { panic!() };
    let mut online: Vec<_> = list.presences.iter().map(|p| (p.user_id.as_str(), p.status)).collect();
    online.sort_by_key(|(user, _)| *user);
    assert_eq!(online, [("alice", PresenceStatus::Online), ("bob", PresenceStatus::Online)]);
    assert_eq!(code(&eve.call(GetOnlineMembers { conversation_id: conv }).await), ErrorCode::NotFound);

    // Unknown users are simply offline.
    let nobody = get_presence(&mut eve, &["nobody"]).await;
    assert_eq!((nobody[0].status, nobody[0].last_seen_ms), (PresenceStatus::Offline, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_seen_and_status_survive_a_restart() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    direct(&mut bob, "alice").await;
    let mut alice = login(&broker, "alice", "phone").await;
    assert_eq!(next_presence(&mut bob, WAIT).await.map(|p| p.status), Some(PresenceStatus::Online));
    set_status(&mut alice, PresenceStatus::Away).await;
    assert_eq!(next_presence(&mut bob, WAIT).await.map(|p| p.status), Some(PresenceStatus::Away));
    hang_up(alice).await;
    let gone = next_presence(&mut bob, WAIT).await.expect("alice goes offline");
    assert_eq!(gone.status, PresenceStatus::Offline);
    assert!(gone.last_seen_ms > 0);
    hang_up(bob).await;

    let broker = broker.restart_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    let p = get_presence(&mut bob, &["alice"]).await;
    assert_eq!((p[0].status, p[0].last_seen_ms), (PresenceStatus::Offline, gone.last_seen_ms));
    // The status she chose is kept: she comes back away.
    let _alice = login(&broker, "alice", "phone").await;
    assert_eq!(next_presence(&mut bob, WAIT).await.map(|p| p.status), Some(PresenceStatus::Away));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passive_session_does_not_make_its_user_online() {
    let broker = TestBroker::start_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    direct(&mut bob, "alice").await;

    // Requests alone (a gateway's HTTP caller): alice stays offline for bob, before and after.
    let mut rest = RawClient::connect(&broker).await;
    let hello = quip_protocol::family::session::Hello {
        protocol_version: 1,
        token: broker.token("alice"),
        device_id: "web-rest-1".into(),
        passive: true,
        ..Default::default()
    };
    rest.hello_with(hello).await.unwrap();
    direct(&mut rest, "bob").await;
    assert!(presences_within(&mut bob, GRACE * 2).await.is_empty(), "a passive session announces nothing");
    assert_eq!(get_presence(&mut bob, &["alice"]).await[0].status, PresenceStatus::Offline);

    // A live client then makes her online, and its end offline, with the passive session still open.
    let alice = login(&broker, "alice", "laptop").await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice come online");
    assert_eq!((p.user_id.as_str(), p.status), ("alice", PresenceStatus::Online));
    hang_up(alice).await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice go offline");
    assert_eq!((p.user_id.as_str(), p.status), ("alice", PresenceStatus::Offline));
    drop(rest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_names_users_and_carries_the_fields_tokens_give() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = quip_testkit::config(dir.path());
    cfg.auth.profile_claims = vec!["userType=role".into()];
    let broker = TestBroker::start_with_config_and_presence(cfg.clone(), short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    direct(&mut bob, "alice").await;

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let mut claims = quip_broker::auth::dev_claims("alice", Some("Alice Martin"), now, 3600, &cfg.auth);
    claims.extra.insert("role".into(), "Teacher".into());
    let mut alice = RawClient::connect(&broker).await;
    alice.hello(&broker.token_with(&claims), "laptop", None).await.expect("alice connects");
    let card = |p: &Presence| {
        (p.display_name.clone(), p.fields.iter().map(|f| (f.key.clone(), f.value.clone())).collect::<Vec<_>>())
    };
    let teacher = (Some("Alice Martin".to_owned()), vec![("userType".to_owned(), "Teacher".to_owned())]);
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice come online");
    assert_eq!((p.status, card(&p)), (PresenceStatus::Online, teacher.clone()), "the event names her");

    let conv = direct(&mut bob, "alice").await;
    let ServerBody::PresenceList(list) = bob.call(GetOnlineMembers { conversation_id: conv }).await else { panic!() };
    let found = list.presences.iter().find(|p| p.user_id == "alice").expect("alice is online");
    assert_eq!(card(found), teacher, "online lists carry the name and the token's user type");

    // The token's fields are the token's to say: a profile update keeps them and takes the rest.
    let fields = vec![quip_protocol::KeyValue::new("userType", "Admin"), quip_protocol::KeyValue::new("city", "Lyon")];
    let update = quip_protocol::family::session::UpdateProfile { fields, ..Default::default() };
    let ServerBody::Users(users) = alice.call(update).await else { panic!("the update is answered") };
    let kept: Vec<_> = users.users[0].fields.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
    assert_eq!(kept, [("userType", "Teacher"), ("city", "Lyon")]);

    // Offline, the stored profile still names her.
    hang_up(alice).await;
    let p = next_presence(&mut bob, WAIT).await.expect("bob sees alice go offline");
    assert_eq!((p.status, card(&p)), (PresenceStatus::Offline, teacher.clone()));
    let broker = broker.restart_with_presence(short_grace()).await;
    let mut bob = login(&broker, "bob", "phone").await;
    let p = get_presence(&mut bob, &["alice"]).await.remove(0);
    assert_eq!(card(&p), teacher, "after a restart, from the store");
}
