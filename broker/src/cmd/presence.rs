//! Typing and presence requests: Typing, SetPresence, GetPresence, GetOnlineMembers, WatchPresence.
//! The state and the rules live in `crate::presence`; this file checks the requests and answers them.

use std::time::Instant;

use quip_protocol::family::presence::{
    GetOnlineMembers, GetPresence, PresenceList, SetPresence, Typing, WatchPresence,
};
use quip_protocol::family::session::Done;
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid};
use quip_store::model::UserId;

/// Most users one GetPresence or WatchPresence may name.
const MAX_USERS: usize = 500;

/// Typing: coalesced per (user, conversation); a forwarded signal goes to the other members' online
/// devices. Membership is read from the store only when a signal is to be forwarded (at most once per
/// refresh interval while typing), so dropped refreshes cost no store read.
pub async fn typing(ctx: &Ctx, t: Typing) -> Reply {
    let presence = &ctx.broker.presence;
    let (user, conv) = (ctx.who.user.clone(), t.conversation_id);
    let Some(stamp) = presence.typing_gate(&user, conv, t.active, Instant::now()) else {
        return Ok(Done.into());
    };
    let who = user.clone();
    let members = match ctx.blocking(move |s| s.members(conv)).await {
        Ok(members) => members,
        Err(e) => {
            presence.typing_undo(&user, conv, stamp);
            return Err(e);
        }
    };
    if !members.iter().any(|(m, _)| *m == who) {
        presence.typing_undo(&user, conv, stamp);
        return Err(ErrorReply::new(ErrorCode::NotFound, "no such conversation"));
    }
    let others: Vec<UserId> = members.into_iter().map(|(m, _)| m).filter(|m| *m != user).collect();
    presence.typing_forward(&others, conv, &user, t.active);
    Ok(Done.into())
}

/// SetPresence: online, away, busy or invisible (offline is not a status one chooses).
pub async fn set_presence(ctx: &Ctx, p: SetPresence) -> Reply {
    let status =
        crate::presence::chosen(p.status).ok_or_else(|| invalid("status must be online, away, busy or invisible"))?;
    if !ctx.broker.presence.set_status(&ctx.who.user, status) {
        return Err(ErrorReply::new(ErrorCode::Internal, "the session is not counted online"));
    }
    Ok(Done.into())
}

/// GetPresence: the caller sees the truth about themself (with their device count), the public view
/// (invisible shows as offline) of everyone else.
pub async fn get_presence(ctx: &Ctx, g: GetPresence) -> Reply {
    if g.user_ids.len() > MAX_USERS {
        return Err(invalid(format!("at most {MAX_USERS} users per request")));
    }
    let presences = ctx.broker.presence.lookup(&ctx.who.user, g.user_ids).await.map_err(|e| super::store_error(&e))?;
    Ok(PresenceList { presences }.into())
}

/// GetOnlineMembers: the members of a conversation of the caller who are online and not invisible.
pub async fn online_members(ctx: &Ctx, g: GetOnlineMembers) -> Reply {
    let conv = g.conversation_id;
    ctx.require_member(conv).await?;
    let members: Vec<UserId> = ctx.blocking(move |s| s.members(conv)).await?.into_iter().map(|(m, _)| m).collect();
    Ok(PresenceList { presences: ctx.broker.presence.online_among(&ctx.who.user, &members) }.into())
}

/// WatchPresence: this session also hears about these users (or stops, with `unwatch`).
pub async fn watch(ctx: &Ctx, w: WatchPresence) -> Reply {
    if w.user_ids.len() > MAX_USERS {
        return Err(invalid(format!("at most {MAX_USERS} users per request")));
    }
    ctx.broker
        .presence
        .watch(ctx.who.session_id, &ctx.who.user, &w.user_ids, w.unwatch)
        .map_err(|e| ErrorReply::new(ErrorCode::InvalidArgument, e.to_string()))?;
    Ok(Done.into())
}
