//! A user's own settings: HideConversation (delete for me), ArchiveConversation, MuteConversation, and
//! BlockUser, UnblockUser, ListBlocked.

use quip_protocol::UserRef;
use quip_protocol::family::conversations::{
    ArchiveConversation, BlockUser, BlockedUsers, ConversationInfo, HideConversation, MuteConversation, UnblockUser,
};
use quip_protocol::family::session::Done;

use super::{Ctx, Reply, invalid, store_error};
use quip_store::{SettingChange, SettingOp};

async fn apply(ctx: &Ctx, op: SettingOp) -> Result<(), quip_protocol::ErrorReply> {
    let change = SettingChange { user: ctx.who.user.clone(), op, now_ms: crate::now_ms() };
    ctx.broker.writer.change_setting(change).await.map_err(|e| store_error(&e))
}

async fn apply_and_show(ctx: &Ctx, conv: u64, op: SettingOp) -> Reply {
    if conv == 0 {
        return Err(invalid("conversation_id is required"));
    }
    apply(ctx, op).await?;
    let conversation = super::conversations::load(ctx, conv).await?;
    Ok(ConversationInfo { conversation, created: false }.into())
}

pub async fn hide(ctx: &Ctx, h: HideConversation) -> Reply {
    apply_and_show(ctx, h.conversation_id, SettingOp::Hide(h.conversation_id)).await
}

pub async fn archive(ctx: &Ctx, a: ArchiveConversation) -> Reply {
    apply_and_show(ctx, a.conversation_id, SettingOp::Archive(a.conversation_id, a.archived)).await
}

pub async fn mute(ctx: &Ctx, m: MuteConversation) -> Reply {
    apply_and_show(ctx, m.conversation_id, SettingOp::Mute(m.conversation_id, m.muted_until_ms)).await
}

pub async fn block(ctx: &Ctx, b: BlockUser) -> Reply {
    apply(ctx, SettingOp::Block(b.user_id)).await?;
    Ok(Done.into())
}

pub async fn unblock(ctx: &Ctx, u: UnblockUser) -> Reply {
    apply(ctx, SettingOp::Unblock(u.user_id)).await?;
    Ok(Done.into())
}

/// Everyone the caller blocked, with their profile where known.
pub async fn list_blocked(ctx: &Ctx) -> Reply {
    let user = ctx.who.user.clone();
    let users = ctx
        .blocking(move |s| {
            let mut out = Vec::new();
            for (id, _) in s.blocked_by(&user)? {
                out.push(match s.profile(&id)? {
                    Some(p) => crate::wire::convert::sender_ref(&p.sender()),
                    None => UserRef::new(id),
                });
            }
            Ok(out)
        })
        .await?;
    Ok(BlockedUsers { users }.into())
}
