//! Typing and presence requests: Typing, SetPresence, GetPresence, GetOnlineMembers, WatchPresence.

use quip_protocol::family::presence::{GetOnlineMembers, GetPresence, SetPresence, Typing, WatchPresence};
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply};

fn not_yet(what: &str) -> Reply {
    Err(ErrorReply::new(ErrorCode::UnsupportedFrame, format!("{what} is not supported by this server yet")))
}

pub async fn typing(_ctx: &Ctx, _t: Typing) -> Reply {
    not_yet("Typing")
}

pub async fn set_presence(_ctx: &Ctx, _p: SetPresence) -> Reply {
    not_yet("SetPresence")
}

pub async fn get_presence(_ctx: &Ctx, _g: GetPresence) -> Reply {
    not_yet("GetPresence")
}

pub async fn online_members(_ctx: &Ctx, _g: GetOnlineMembers) -> Reply {
    not_yet("GetOnlineMembers")
}

pub async fn watch(_ctx: &Ctx, _w: WatchPresence) -> Reply {
    not_yet("WatchPresence")
}
