//! Group changes: UpdateConversation, AddMembers, RemoveMember, SetMemberRole, LeaveConversation.
//! Who may do what is decided by the writer (`store/writer/groups.rs`), against the committed roles.

use quip_protocol::family::conversations::{
    AddMembers, ConversationInfo, LeaveConversation, MemberRole, RemoveMember, SetMemberRole, UpdateConversation,
};
use quip_protocol::family::session::Done;
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid, store_error};
use quip_store::model::Role;
use quip_store::{MemberChange, MemberOp};

async fn apply(ctx: &Ctx, conv: u64, op: MemberOp) -> Result<(), ErrorReply> {
    if conv == 0 {
        return Err(invalid("conversation_id is required"));
    }
    let change = MemberChange {
        conv,
        actor: super::messages::sender(ctx).await,
        op,
        max_members: ctx.broker.cfg.limits.max_group_members,
        now_ms: crate::now_ms(),
    };
    ctx.broker.writer.change_members(change).await.map_err(|e| store_error(&e))
}

/// Applies the change and answers with the conversation as the caller now sees it.
async fn apply_and_show(ctx: &Ctx, conv: u64, op: MemberOp) -> Reply {
    apply(ctx, conv, op).await?;
    let conversation = super::conversations::load(ctx, conv).await?;
    Ok(ConversationInfo { conversation, created: false }.into())
}

pub async fn update(ctx: &Ctx, u: UpdateConversation) -> Reply {
    if u.title.is_none() && u.avatar_url.is_none() && u.description.is_none() {
        return Err(invalid("nothing to change"));
    }
    if u.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(invalid("a group title cannot be empty"));
    }
    let op = MemberOp::Update { title: u.title, avatar_url: u.avatar_url, description: u.description };
    apply_and_show(ctx, u.conversation_id, op).await
}

pub async fn add_members(ctx: &Ctx, a: AddMembers) -> Reply {
    if a.user_ids.is_empty() {
        return Err(invalid("user_ids is empty"));
    }
    if a.user_ids.len() > ctx.broker.cfg.limits.max_group_members {
        return Err(ErrorReply::new(ErrorCode::PayloadTooLarge, "too many members"));
    }
    apply_and_show(ctx, a.conversation_id, MemberOp::Add(a.user_ids)).await
}

pub async fn remove_member(ctx: &Ctx, r: RemoveMember) -> Reply {
    apply_and_show(ctx, r.conversation_id, MemberOp::Remove(r.user_id)).await
}

pub async fn set_role(ctx: &Ctx, r: SetMemberRole) -> Reply {
    let role = match r.role {
        MemberRole::Owner => Role::Owner,
        MemberRole::Admin => Role::Admin,
        _ => Role::Member,
    };
    apply_and_show(ctx, r.conversation_id, MemberOp::SetRole { user: r.user_id, role }).await
}

/// Leaving answers Done: the caller can no longer see the conversation.
pub async fn leave(ctx: &Ctx, l: LeaveConversation) -> Reply {
    apply(ctx, l.conversation_id, MemberOp::Leave).await?;
    Ok(Done.into())
}
