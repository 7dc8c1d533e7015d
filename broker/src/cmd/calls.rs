//! Call signaling requests: CallInvite, CallAccept, CallReject, CallEnd, CallIce. The call state
//! machine and its events are in `crate::calls`.

use quip_protocol::family::calls::{
    CallAccept, CallEnd, CallEvent, CallEventKind, CallIce, CallIceEvent, CallInfo, CallInvite, CallReject, CallState,
};
use quip_protocol::family::messages::CallOutcome;
use quip_protocol::family::session::Done;
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid};
use crate::calls;
use crate::wire::frame;
use quip_store::model::ConvKind;

/// Longest SDP or ICE candidate relayed, in bytes.
const MAX_SDP: usize = 64 * 1024;

fn check_sdp(sdp: &str, field: &str) -> Result<(), ErrorReply> {
    if sdp.is_empty() {
        return Err(invalid(format!("{field} is required")));
    }
    if sdp.len() > MAX_SDP {
        return Err(ErrorReply::new(ErrorCode::PayloadTooLarge, format!("{field} is over {MAX_SDP} bytes")));
    }
    Ok(())
}

pub async fn invite(ctx: &Ctx, c: CallInvite) -> Reply {
    if c.conversation_id == 0 {
        return Err(invalid("conversation_id is required"));
    }
    check_sdp(&c.sdp_offer, "sdp_offer")?;
    ctx.require_member(c.conversation_id).await?;
    let (conv, me) = (c.conversation_id, ctx.who.user.clone());
    let (members, blocked) = ctx
        .blocking(move |s| {
            let meta = s.conv_meta(conv)?.ok_or(quip_store::StoreError::NotFound)?;
            let members: Vec<String> = s.members(conv)?.into_iter().map(|(u, _)| u).filter(|u| *u != me).collect();
            let blocked = meta.kind == ConvKind::Direct
                && match members.first() {
                    Some(peer) => s.blocked_either(&me, peer)?,
                    None => false,
                };
            Ok((members, blocked))
        })
        .await?;
    if blocked {
        return Err(ErrorReply::new(ErrorCode::Blocked, "one of you has blocked the other"));
    }
    if members.is_empty() {
        return Err(invalid("nobody else is in this conversation"));
    }
    let call = ctx.broker.calls.start(conv, c.call_type, ctx.who.user.clone(), ctx.who.device_id.clone(), members)?;
    let ring = CallEvent {
        kind: CallEventKind::Incoming,
        call: call.wire(CallState::Ringing),
        from_user_id: call.caller.clone(),
        sdp: c.sdp_offer,
        reason: String::new(),
        at_ms: call.started_at_ms,
    };
    ctx.broker.calls.tell(&call.callees, &ring, None);
    tokio::spawn(calls::watch(std::sync::Arc::downgrade(&ctx.broker.calls), ctx.broker.calls.ring_timeout(), call.id));
    metrics::counter!("quip_calls_total").increment(1);
    Ok(CallInfo { call: call.wire(CallState::Ringing) }.into())
}

pub async fn accept(ctx: &Ctx, a: CallAccept) -> Reply {
    check_sdp(&a.sdp_answer, "sdp_answer")?;
    let call = ctx.broker.calls.accept(a.call_id, &ctx.who.user, ctx.who.device_id.clone())?;
    let now = call.answered_at_ms;
    let accepted = CallEvent {
        kind: CallEventKind::Accepted,
        call: call.wire(CallState::Active),
        from_user_id: ctx.who.user.clone(),
        sdp: a.sdp_answer,
        reason: String::new(),
        at_ms: now,
    };
    ctx.broker.calls.tell_device(&call.caller, &call.caller_device, frame(0, accepted));
    // Every other ringing device stops: the answering user's other devices and the other callees.
    let elsewhere = CallEvent {
        kind: CallEventKind::AnsweredElsewhere,
        call: call.wire(CallState::Active),
        from_user_id: ctx.who.user.clone(),
        sdp: String::new(),
        reason: String::new(),
        at_ms: now,
    };
    ctx.broker.calls.tell(&call.callees, &elsewhere, Some((&ctx.who.user, &ctx.who.device_id)));
    Ok(CallInfo { call: call.wire(CallState::Active) }.into())
}

pub async fn reject(ctx: &Ctx, r: CallReject) -> Reply {
    let (call, everyone_declined) = ctx.broker.calls.decline(r.call_id, &ctx.who.user)?;
    let reason = if r.reason.is_empty() { "declined".to_owned() } else { r.reason };
    if everyone_declined {
        ctx.broker
            .calls
            .conclude(call.id, CallEventKind::Rejected, CallOutcome::Declined, &ctx.who.user, &reason)
            .await;
    } else {
        // In a group call the others may still answer: only the caller and the decliner's devices hear.
        let event = CallEvent {
            kind: CallEventKind::Rejected,
            call: call.wire(CallState::Ringing),
            from_user_id: ctx.who.user.clone(),
            sdp: String::new(),
            reason,
            at_ms: crate::now_ms(),
        };
        ctx.broker.calls.tell(&[call.caller.clone(), ctx.who.user.clone()], &event, None);
    }
    Ok(Done.into())
}

pub async fn end(ctx: &Ctx, e: CallEnd) -> Reply {
    let call = ctx.broker.calls.get(e.call_id, &ctx.who.user)?;
    let (kind, outcome) = match call.state() {
        CallState::Ringing if call.caller == ctx.who.user => (CallEventKind::Ended, CallOutcome::Cancelled),
        CallState::Active if call.is_party(&ctx.who.user, &ctx.who.device_id) => {
            (CallEventKind::Ended, CallOutcome::Completed)
        }
        _ => return Err(ErrorReply::new(ErrorCode::Forbidden, "only the two ends of a call can end it")),
    };
    let reason = if e.reason.is_empty() { "hung up".to_owned() } else { e.reason };
    ctx.broker.calls.conclude(call.id, kind, outcome, &ctx.who.user, &reason).await;
    Ok(Done.into())
}

/// Relays an ICE candidate to the other end: the caller's device, or the device that answered (every
/// callee device while it still rings).
pub async fn ice(ctx: &Ctx, i: CallIce) -> Reply {
    check_sdp(&i.candidate, "candidate")?;
    let call = ctx.broker.calls.get(i.call_id, &ctx.who.user)?;
    let event = CallIceEvent {
        call_id: call.id,
        from_user_id: ctx.who.user.clone(),
        candidate: i.candidate,
        sdp_mid: i.sdp_mid,
        sdp_mline_index: i.sdp_mline_index,
    };
    let bytes = frame(0, event);
    let from_caller = call.caller == ctx.who.user && *call.caller_device == *ctx.who.device_id;
    match (&call.answered, from_caller) {
        (Some((user, device)), true) => ctx.broker.calls.tell_device(user, device, bytes),
        (None, true) => ctx.broker.calls.push_to(&call.callees, &bytes, None),
        (Some(_), false) if call.is_party(&ctx.who.user, &ctx.who.device_id) => {
            ctx.broker.calls.tell_device(&call.caller, &call.caller_device, bytes)
        }
        _ => return Err(ErrorReply::new(ErrorCode::Forbidden, "not an end of this call")),
    }
    Ok(Done.into())
}
