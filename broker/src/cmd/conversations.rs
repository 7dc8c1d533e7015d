//! Conversation requests: OpenDirect, CreateGroup, GetConversation, ListConversations (group changes:
//! `groups.rs`; a user's own settings and blocks: `settings.rs`).

use quip_protocol::family::conversations::{
    Conversation, ConversationInfo, ConversationPage, CreateGroup, ListConversations, OpenDirect,
};
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, invalid, store_error};
use crate::wire::view::view;
use quip_store::model::{ConvKind, ConvMeta};

pub async fn open_direct(ctx: &Ctx, o: OpenDirect) -> Reply {
    let context = o.context.as_ref().map(crate::wire::convert::context_from_wire);
    let (conv, created) = ctx
        .broker
        .writer
        .open_direct(ctx.who.user.clone(), o.peer_user_id, context, crate::now_ms())
        .await
        .map_err(|e| store_error(&e))?;
    let conversation = load(ctx, conv).await?;
    Ok(ConversationInfo { conversation, created }.into())
}

pub async fn create_group(ctx: &Ctx, c: CreateGroup) -> Reply {
    if c.member_ids.len() + 1 > ctx.broker.cfg.limits.max_group_members {
        return Err(ErrorReply::new(ErrorCode::PayloadTooLarge, "too many members"));
    }
    let meta = ConvMeta {
        id: 0,
        kind: ConvKind::Group,
        title: Some(c.title),
        avatar_url: (!c.avatar_url.is_empty()).then_some(c.avatar_url),
        description: (!c.description.is_empty()).then_some(c.description),
        context: None,
        created_by: ctx.who.user.clone(),
        created_at_ms: crate::now_ms(),
    };
    let conv = ctx.broker.writer.create_group(meta, c.member_ids).await.map_err(|e| store_error(&e))?;
    let conversation = load(ctx, conv).await?;
    Ok(ConversationInfo { conversation, created: true }.into())
}

pub async fn get(ctx: &Ctx, conv: u64) -> Reply {
    ctx.require_member(conv).await?;
    let conversation = load(ctx, conv).await?;
    Ok(ConversationInfo { conversation, created: false }.into())
}

/// The caller's conversations by last activity, newest first. The cursor is `activity_ms:conv_id` of
/// the last one returned.
pub async fn list(ctx: &Ctx, l: ListConversations) -> Reply {
    let limit = l.limit.clamp(1, 200) as usize;
    let after = match l.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| invalid("bad cursor"))?),
    };
    let user = ctx.who.user.clone();
    let include_archived = l.include_archived;
    let (convs, more) = ctx
        .blocking(move |s| {
            let mut entries = Vec::new();
            for conv in s.user_convs(&user)? {
                let head = s.conv_head(conv)?;
                let settings = s.settings(&user, conv)?;
                if settings.hides(head.last_seq) || (settings.archived && !include_archived) {
                    continue;
                }
                entries.push((head.last_activity_ms, conv));
            }
            entries.sort_unstable_by(|a, b| b.cmp(a));
            let start = match after {
                Some(cursor) => entries.iter().position(|e| *e < cursor).unwrap_or(entries.len()),
                None => 0,
            };
            let page: Vec<_> = entries[start..].iter().take(limit).copied().collect();
            let more = entries.len() > start + page.len();
            let mut out = Vec::with_capacity(page.len());
            for (_, conv) in &page {
                out.push(view(s, *conv, &user)?);
            }
            Ok((out, more))
        })
        .await?;
    let next_cursor = if more { convs.last().map(|c| format!("{}:{}", c.last_activity_ms, c.id)) } else { None };
    Ok(ConversationPage { conversations: convs, next_cursor }.into())
}

fn parse_cursor(c: &str) -> Option<(u64, u64)> {
    let (a, b) = c.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub(super) async fn load(ctx: &Ctx, conv: u64) -> Result<Conversation, ErrorReply> {
    let user = ctx.who.user.clone();
    ctx.blocking(move |s| view(s, conv, &user)).await
}
