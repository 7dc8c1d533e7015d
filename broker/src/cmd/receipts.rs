//! Receipt requests: MarkDelivered, MarkRead, GetUnreadCounts, GetReceipts.

use quip_protocol::family::receipts::{GetReceipts, GetUnreadCounts, MarkDelivered, MarkRead};
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply};

fn not_yet(what: &str) -> Reply {
    Err(ErrorReply::new(ErrorCode::UnsupportedFrame, format!("{what} is not supported by this server yet")))
}

pub async fn mark_delivered(_ctx: &Ctx, _m: MarkDelivered) -> Reply {
    not_yet("MarkDelivered")
}

pub async fn mark_read(_ctx: &Ctx, _m: MarkRead) -> Reply {
    not_yet("MarkRead")
}

pub async fn unread_counts(_ctx: &Ctx, _g: GetUnreadCounts) -> Reply {
    not_yet("GetUnreadCounts")
}

pub async fn receipts(_ctx: &Ctx, _g: GetReceipts) -> Reply {
    not_yet("GetReceipts")
}
