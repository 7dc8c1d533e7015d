//! Call signaling against a real quipd: every device of the callee rings, the first to answer wins and
//! the others stop ringing, ICE goes to the right device, and a record with the outcome and duration is
//! written into the conversation when the call ends (completed, missed, declined).

use crate::common;

use std::time::Duration;

use crate::common::{RawClient, TestBroker, code, direct, done, history, login, sees, until};
use quip_protocol::family::calls::{
    Call, CallAccept, CallEnd, CallEvent, CallEventKind, CallIce, CallIceEvent, CallInvite, CallReject, CallState,
};
use quip_protocol::family::conversations::BlockUser;
use quip_protocol::family::messages::{CallOutcome, CallRecord, CallType, MessageKind};
use quip_protocol::{ErrorCode, ServerBody};

async fn invite(c: &mut RawClient, conv: u64, call_type: CallType) -> Call {
    match c.call(CallInvite { conversation_id: conv, call_type, sdp_offer: "v=0 offer".into() }).await {
        ServerBody::CallInfo(info) => info.call,
        other => panic!("{other:?}"),
    }
}

async fn call_event(c: &mut RawClient, kind: CallEventKind) -> CallEvent {
    until(c, |e| match e {
        ServerBody::CallEvent(ev) if ev.kind == kind => Some(ev),
        _ => None,
    })
    .await
}

async fn ice_event(c: &mut RawClient) -> CallIceEvent {
    until(c, |e| match e {
        ServerBody::CallIceEvent(ev) => Some(ev),
        _ => None,
    })
    .await
}

fn ice(call_id: u64, candidate: &str) -> CallIce {
    CallIce { call_id, candidate: candidate.into(), sdp_mid: Some("0".into()), sdp_mline_index: 0 }
}

/// The call records written into `conv`, oldest first.
async fn records(c: &mut RawClient, conv: u64) -> Vec<CallRecord> {
    history(c, conv).await.into_iter().filter(|m| m.kind == MessageKind::Call).filter_map(|m| m.call).collect()
}

#[tokio::test]
async fn a_call_rings_every_device_the_first_answer_wins_and_the_record_has_its_duration() {
    let broker = TestBroker::start().await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob1 = login(&broker, "bob", "b1").await;
    let mut bob2 = login(&broker, "bob", "b2").await;
    let mut carol = login(&broker, "carol", "c1").await;
    let dm = direct(&mut alice, "bob").await;

    let call = invite(&mut alice, dm, CallType::Video).await;
    assert_eq!((call.state, call.caller_id.as_str(), call.call_type), (CallState::Ringing, "alice", CallType::Video));
    for bob in [&mut bob1, &mut bob2] {
        let ring = call_event(bob, CallEventKind::Incoming).await;
        assert_eq!((ring.call.id, ring.sdp.as_str(), ring.from_user_id.as_str()), (call.id, "v=0 offer", "alice"));
    }
    // A second call in the same conversation waits; strangers see no call.
    assert_eq!(
        code(&alice.call(CallInvite { conversation_id: dm, call_type: CallType::Audio, sdp_offer: "x".into() }).await),
        ErrorCode::Conflict
    );
    let stranger = carol.call(CallAccept { call_id: call.id, sdp_answer: "a".into() }).await;
    assert_eq!(code(&stranger), ErrorCode::NotFound);

    // bob answers on his second device: alice gets the answer, his first device stops ringing.
    let answered = match bob2.call(CallAccept { call_id: call.id, sdp_answer: "v=0 answer".into() }).await {
        ServerBody::CallInfo(info) => info.call,
        other => panic!("{other:?}"),
    };
    assert_eq!((answered.state, answered.answered_by_device.as_str()), (CallState::Active, "b2"));
    let accepted = call_event(&mut alice, CallEventKind::Accepted).await;
    assert_eq!((accepted.sdp.as_str(), accepted.call.answered_by_device.as_str()), ("v=0 answer", "b2"));
    call_event(&mut bob1, CallEventKind::AnsweredElsewhere).await;
    let late = bob1.call(CallAccept { call_id: call.id, sdp_answer: "late".into() }).await;
    assert_eq!(code(&late), ErrorCode::Conflict);

    // ICE goes between the two ends only.
    done(alice.call(ice(call.id, "candidate:1 alice")).await);
    assert_eq!(ice_event(&mut bob2).await.candidate, "candidate:1 alice");
    done(bob2.call(ice(call.id, "candidate:2 bob")).await);
    let back = ice_event(&mut alice).await;
    assert_eq!((back.candidate.as_str(), back.from_user_id.as_str()), ("candidate:2 bob", "bob"));
    assert!(!sees(&mut bob1, Duration::from_millis(200), |e| matches!(e, ServerBody::CallIceEvent(_))).await);
    assert_eq!(code(&bob1.call(ice(call.id, "candidate:3")).await), ErrorCode::Forbidden);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(code(&bob1.call(CallEnd { call_id: call.id, reason: String::new() }).await), ErrorCode::Forbidden);
    done(alice.call(CallEnd { call_id: call.id, reason: String::new() }).await);
    let ended = call_event(&mut bob2, CallEventKind::Ended).await;
    assert_eq!(ended.call.state, CallState::Ended);
    call_event(&mut bob1, CallEventKind::Ended).await;

    let record = until(&mut bob1, |e| match e {
        ServerBody::MessageEvent(m) if m.message.kind == MessageKind::Call => m.message.call,
        _ => None,
    })
    .await;
    assert_eq!((record.call_id, record.outcome, record.call_type), (call.id, CallOutcome::Completed, CallType::Video));
    assert!(record.duration_ms >= 1000, "{record:?}");
    assert_eq!(record.duration_ms, record.ended_at_ms - record.answered_at_ms);
    assert_eq!(code(&alice.call(CallEnd { call_id: call.id, reason: String::new() }).await), ErrorCode::NotFound);

    // The record is an ordinary message of the conversation: it survives a restart.
    let broker = broker.restart().await;
    let mut alice = login(&broker, "alice", "a1").await;
    assert_eq!(records(&mut alice, dm).await, vec![record]);
}

#[tokio::test]
async fn unanswered_calls_are_missed_declined_calls_are_recorded_and_blocks_stop_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.calls.ring_timeout_ms = 300;
    let broker = TestBroker::start_with(cfg).await;
    let mut alice = login(&broker, "alice", "a1").await;
    let mut bob = login(&broker, "bob", "b1").await;
    let dm = direct(&mut alice, "bob").await;

    let missed = invite(&mut alice, dm, CallType::Audio).await;
    call_event(&mut bob, CallEventKind::Incoming).await;
    assert_eq!(call_event(&mut bob, CallEventKind::Missed).await.call.id, missed.id);
    assert_eq!(call_event(&mut alice, CallEventKind::Missed).await.call.id, missed.id);

    let declined = invite(&mut alice, dm, CallType::Audio).await;
    call_event(&mut bob, CallEventKind::Incoming).await;
    done(bob.call(CallReject { call_id: declined.id, reason: "busy".into() }).await);
    let rejected = call_event(&mut alice, CallEventKind::Rejected).await;
    assert_eq!((rejected.reason.as_str(), rejected.from_user_id.as_str()), ("busy", "bob"));

    let cancelled = invite(&mut alice, dm, CallType::Video).await;
    done(alice.call(CallEnd { call_id: cancelled.id, reason: String::new() }).await);
    call_event(&mut bob, CallEventKind::Ended).await;

    let outcomes: Vec<(u64, CallOutcome, u64)> =
        records(&mut bob, dm).await.into_iter().map(|r| (r.call_id, r.outcome, r.duration_ms)).collect();
    assert_eq!(
        outcomes,
        vec![
            (missed.id, CallOutcome::Missed, 0),
            (declined.id, CallOutcome::Declined, 0),
            (cancelled.id, CallOutcome::Cancelled, 0)
        ]
    );

    done(bob.call(BlockUser { user_id: "alice".into() }).await);
    let refused =
        alice.call(CallInvite { conversation_id: dm, call_type: CallType::Audio, sdp_offer: "o".into() }).await;
    assert_eq!(code(&refused), ErrorCode::Blocked);
    let empty =
        alice.call(CallInvite { conversation_id: dm, call_type: CallType::Audio, sdp_offer: String::new() }).await;
    assert_eq!(code(&empty), ErrorCode::InvalidArgument);
}
