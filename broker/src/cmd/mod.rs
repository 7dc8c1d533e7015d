//! Requests: the reader loop and the dispatch to one handler file per request family.
//!
//! Requests are run one after another in the order they arrive, except that a send does not hold up
//! the next request while its write is committed: it is queued to the writer in order (so a client's
//! sends keep their order) and its ack is awaited in a task of its own, bounded per session.

mod calls;
mod context;
pub(crate) mod conversations;
mod groups;
mod lifecycle;
mod messages;
mod notifications;
mod presence;
mod receipts;
mod session;
mod settings;

use std::sync::Arc;

use bytes::Bytes;
use quip_protocol::family::session::{CloseReason, Goodbye};
use quip_protocol::{ClientBody, ClientFrame, ErrorCode, ErrorReply};
use tokio::sync::{Semaphore, mpsc};

use crate::Broker;
use crate::io::{FrameReader, ReadError};
use crate::ratelimit::Class;
use crate::session::ToWriter;
use crate::wire::error_frame;
pub use context::{Ctx, MAX_INFLIGHT_SENDS, Reply, SessionInfo, invalid, store_error};

/// Reads requests until the stream ends, a fatal framing error happens, or the session closes.
pub async fn read_loop(
    broker: Arc<Broker>,
    who: SessionInfo,
    mut reader: FrameReader,
    replies: mpsc::Sender<Bytes>,
    to_writer: mpsc::Sender<ToWriter>,
) {
    tracing::debug!(device = %who.device_id, session = who.session_id, "reading requests");
    let ctx = Arc::new(Ctx { broker, who, replies, to_writer, inflight: Arc::new(Semaphore::new(MAX_INFLIGHT_SENDS)) });
    loop {
        let bytes = match reader.next().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(ReadError::Frame(e)) => {
                // The stream cannot be resynchronised after a bad length: say why and close.
                tracing::info!(error = %e, "framing error");
                let _ = ctx.replies.send(error_frame(0, e.code(), e.to_string())).await;
                let goodbye =
                    Goodbye { reason: CloseReason::ProtocolError, message: e.to_string(), reconnect_after_ms: 0 };
                let _ = ctx.to_writer.send(ToWriter::Close(goodbye)).await;
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, "control stream ended");
                break;
            }
        };
        // Boxed: the reader lives as long as the session, and inline it would be as large as the
        // largest command's future on every idle connection; one allocation per request instead.
        Box::pin(dispatch(&ctx, &bytes)).await;
    }
    let _ = ctx.to_writer.send(ToWriter::Close(Goodbye::default())).await;
}

async fn dispatch(ctx: &Arc<Ctx>, bytes: &Bytes) {
    let frame = match ClientFrame::decode(bytes, &ctx.broker.limits) {
        Ok(frame) => frame,
        Err(e) => {
            // A well-framed but invalid request: answer it and carry on.
            tracing::info!(error = %e, "bad request frame");
            metrics::counter!("quip_frames_in_total", "type" => "invalid").increment(1);
            let id = ClientFrame::peek_request_id(bytes, &ctx.broker.limits);
            ctx.reply(id, Err(ErrorReply::from(&e))).await;
            return;
        }
    };
    let id = frame.request_id;
    metrics::counter!("quip_frames_in_total", "type" => frame.body.name()).increment(1);
    if let Err((class, refusal)) = rate_limit(ctx, &frame.body).await {
        metrics::counter!("quip_rate_limited_total", "class" => class).increment(1);
        // A typing signal asks for no reply: an excess one is simply dropped.
        if !(id == 0 && matches!(frame.body, ClientBody::Typing(_))) {
            ctx.reply(id, Err(refusal)).await;
        }
        return;
    }
    let reply = match frame.body {
        ClientBody::Hello(_) => Err(ErrorReply::new(ErrorCode::UnexpectedFrame, "already authenticated")),
        ClientBody::Ping(p) => session::ping(p),
        ClientBody::RefreshToken(r) => session::refresh_token(ctx, r).await,
        ClientBody::Goodbye(_) => {
            let _ = ctx.to_writer.send(ToWriter::Close(Goodbye::default())).await;
            return;
        }
        ClientBody::UpdateProfile(u) => session::update_profile(ctx, u).await,
        ClientBody::GetUsers(g) => session::get_users(ctx, g).await,
        ClientBody::OpenDirect(o) => conversations::open_direct(ctx, o).await,
        ClientBody::CreateGroup(c) => conversations::create_group(ctx, c).await,
        ClientBody::GetConversation(g) => conversations::get(ctx, g.conversation_id).await,
        ClientBody::ListConversations(l) => conversations::list(ctx, l).await,
        ClientBody::UpdateConversation(u) => groups::update(ctx, u).await,
        ClientBody::AddMembers(a) => groups::add_members(ctx, a).await,
        ClientBody::RemoveMember(r) => groups::remove_member(ctx, r).await,
        ClientBody::SetMemberRole(r) => groups::set_role(ctx, r).await,
        ClientBody::LeaveConversation(l) => groups::leave(ctx, l).await,
        ClientBody::HideConversation(h) => settings::hide(ctx, h).await,
        ClientBody::ArchiveConversation(a) => settings::archive(ctx, a).await,
        ClientBody::MuteConversation(m) => settings::mute(ctx, m).await,
        ClientBody::BlockUser(b) => settings::block(ctx, b).await,
        ClientBody::UnblockUser(u) => settings::unblock(ctx, u).await,
        ClientBody::ListBlocked(_) => settings::list_blocked(ctx).await,
        ClientBody::CallInvite(c) => calls::invite(ctx, c).await,
        ClientBody::CallAccept(c) => calls::accept(ctx, c).await,
        ClientBody::CallReject(c) => calls::reject(ctx, c).await,
        ClientBody::CallEnd(c) => calls::end(ctx, c).await,
        ClientBody::CallIce(c) => calls::ice(ctx, c).await,
        ClientBody::SendMessage(m) => return messages::send(ctx.clone(), id, m).await,
        ClientBody::GetHistory(h) => messages::history(ctx, h).await,
        ClientBody::GetMessage(g) => messages::get(ctx, g).await,
        ClientBody::EditMessage(e) => lifecycle::edit(ctx, e).await,
        ClientBody::DeleteMessage(d) => lifecycle::delete(ctx, d).await,
        ClientBody::React(r) => lifecycle::react(ctx, r).await,
        ClientBody::MarkDelivered(m) => receipts::mark_delivered(ctx, id, m).await,
        ClientBody::MarkRead(m) => receipts::mark_read(ctx, m).await,
        ClientBody::GetUnreadCounts(g) => receipts::unread_counts(ctx, g).await,
        ClientBody::GetReceipts(g) => receipts::receipts(ctx, g).await,
        ClientBody::ListNotifications(l) => notifications::list(ctx, l).await,
        ClientBody::MarkNotificationsRead(m) => notifications::mark_read(ctx, m).await,
        ClientBody::MarkAllNotificationsRead(_) => notifications::mark_all_read(ctx).await,
        ClientBody::Typing(t) => presence::typing(ctx, t).await,
        ClientBody::SetPresence(p) => presence::set_presence(ctx, p).await,
        ClientBody::GetPresence(g) => presence::get_presence(ctx, g).await,
        ClientBody::GetOnlineMembers(g) => presence::online_members(ctx, g).await,
        ClientBody::WatchPresence(w) => presence::watch(ctx, w).await,
        ClientBody::SyncRequest(s) => {
            let _ = ctx.to_writer.send(ToWriter::Sync { request_id: id, since: s.since }).await;
            return;
        }
        other => Err(ErrorReply::new(
            ErrorCode::UnsupportedFrame,
            format!("{} is not supported by this server yet", other.name()),
        )),
    };
    ctx.reply(id, reply).await;
}

/// Applies the caller's rate limits to the requests that have one; a refusal names its class. A direct
/// conversation that already exists may always be opened again: only creating one counts.
async fn rate_limit(ctx: &Ctx, body: &ClientBody) -> Result<(), (&'static str, ErrorReply)> {
    let class = match body {
        ClientBody::SendMessage(_) | ClientBody::CallInvite(_) => Class::Messages,
        ClientBody::CreateGroup(_) => Class::Conversations,
        ClientBody::OpenDirect(o) => {
            let (me, peer) = (ctx.who.user.clone(), o.peer_user_id.clone());
            let context = o.context.as_ref().map(|c| (c.kind.clone(), c.id.clone()));
            let exists = ctx
                .blocking(move |s| s.find_direct(&me, &peer, context.as_ref().map(|(k, i)| (k.as_str(), i.as_str()))))
                .await;
            if matches!(exists, Ok(Some(_))) {
                return Ok(());
            }
            Class::Conversations
        }
        ClientBody::Typing(_) => Class::Typing,
        ClientBody::SetPresence(_) => Class::Presence,
        _ => return Ok(()),
    };
    let limiter = if ctx.who.gateway { &ctx.broker.rate_bridge } else { &ctx.broker.rate };
    limiter.check(&ctx.who.user, class, std::time::Instant::now()).map_err(|wait| {
        let mut e = ErrorReply::new(ErrorCode::RateLimited, "rate limit reached; retry later");
        e.retry_after_ms = Some(u32::try_from(wait.as_millis()).unwrap_or(u32::MAX).max(1));
        (class.name(), e)
    })
}
