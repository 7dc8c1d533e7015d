//! Calls: inviting, answering, rejecting, ending, ICE candidates. Extension for legacy dialects
//! (docs/DIALECTS.md): on a Socket.IO connection a call may be named by its conversation
//! (`conversationId` instead of `callId`): the call the connection last saw ringing or active there.

use quip_protocol::ServerBody;
use quip_protocol::family::calls::{CallAccept, CallEnd, CallIce, CallInvite, CallReject};
use quip_protocol::family::messages::CallType;
use serde_json::Value;

use super::op::{Build, Connection, Input, Operation, Outcome, Render, done, request, unknown};
use crate::error::ApiError;
use crate::json::{self, Args};

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{conversationId, callType: audio | video, sdpOffer}` → the call.
    Operation::extended("call:invite", invite_request, |i| Box::pin(invite(i))),
    // `{callId, sdpAnswer}` → the call.
    Operation::extended("call:accept", accept_request, |i| Box::pin(named(i, accept_request, call, false))),
    // `{callId, reason?}` → `{}`.
    Operation::extended("call:reject", reject_request, |i| Box::pin(named(i, reject_request, done, true))),
    // `{callId, reason?}` → `{}`.
    Operation::extended("call:end", end_request, |i| Box::pin(named(i, end_request, done, true))),
    // `{callId, candidate, sdpMid?, sdpMLineIndex?}` → `{}`.
    Operation::extended("call:ice", ice_request, |i| Box::pin(named(i, ice_request, done, false))),
];

fn invite_request(a: &Args) -> Result<quip_protocol::ClientBody, ApiError> {
    let call_type = match a.opt_str("callType")?.as_deref().unwrap_or("audio") {
        "audio" => CallType::Audio,
        "video" => CallType::Video,
        other => return Err(unknown("callType", other, "audio, video")),
    };
    Ok(CallInvite { conversation_id: a.id("conversationId")?, call_type, sdp_offer: a.str("sdpOffer")? }.into())
}

fn accept_request(a: &Args) -> Result<quip_protocol::ClientBody, ApiError> {
    Ok(CallAccept { call_id: a.id("callId")?, sdp_answer: a.str("sdpAnswer")? }.into())
}

fn reject_request(a: &Args) -> Result<quip_protocol::ClientBody, ApiError> {
    Ok(CallReject { call_id: a.id("callId")?, reason: a.opt_str("reason")?.unwrap_or_default() }.into())
}

fn end_request(a: &Args) -> Result<quip_protocol::ClientBody, ApiError> {
    Ok(CallEnd { call_id: a.id("callId")?, reason: a.opt_str("reason")?.unwrap_or_default() }.into())
}

fn ice_request(a: &Args) -> Result<quip_protocol::ClientBody, ApiError> {
    Ok(CallIce {
        call_id: a.id("callId")?,
        candidate: a.str("candidate")?,
        sdp_mid: a.opt_str("sdpMid")?,
        sdp_mline_index: u16::try_from(a.opt_u64("sdpMLineIndex")?.unwrap_or(0))
            .map_err(|_| ApiError::invalid("`sdpMLineIndex` is out of range"))?,
    }
    .into())
}

fn call(reply: ServerBody) -> Value {
    match reply {
        ServerBody::CallInfo(c) => json::call(&c.call),
        other => done(other),
    }
}

/// Invites, and remembers the call as the one in its conversation.
async fn invite(input: &Input<'_>) -> Outcome {
    let call = request(input, invite_request, call).await?;
    if let Some(connection) = input.connection {
        remember(connection, &call);
    }
    Ok(call)
}

/// Runs a call request; on a connection, a call named by its conversation is the one remembered there
/// (`ends`: the request ends it, so it is forgotten).
async fn named(input: &Input<'_>, build: Build, render: Render, ends: bool) -> Outcome {
    let (Some(connection), None, Some(_)) =
        (input.connection, input.args.get("callId"), input.args.get("conversationId"))
    else {
        return request(input, build, render).await;
    };
    let conversation_id = input.args.id("conversationId")?;
    let call_id = connection
        .call_in(conversation_id)
        .ok_or_else(|| ApiError::not_found("no call is ringing or active in this conversation"))?;
    let mut args = input.args.clone();
    args.set("callId", call_id);
    let result = request(&input.with(args), build, render).await?;
    if ends {
        connection.forget_call(conversation_id, call_id);
    }
    Ok(result)
}

/// Remembers a call (`{id, conversationId, ...}`, the JSON form) as the one in its conversation.
pub(crate) fn remember(connection: &dyn Connection, call: &Value) {
    let number = |v: &Value| v.as_u64().or_else(|| v.as_str()?.parse().ok());
    if let (Some(id), Some(conversation_id)) = (number(&call["id"]), number(&call["conversationId"])) {
        connection.remember_call(conversation_id, id);
    }
}
