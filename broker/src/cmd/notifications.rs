//! Notification requests: ListNotifications, MarkNotificationsRead, MarkAllNotificationsRead.

use quip_protocol::family::notifications::{ListNotifications, MarkNotificationsRead, NotificationPage};
use quip_protocol::family::session::Done;

use super::{Ctx, Reply, invalid, store_error};

pub async fn list(ctx: &Ctx, l: ListNotifications) -> Reply {
    let limit = l.limit.clamp(1, 200) as usize;
    let user = ctx.who.user.clone();
    let page = ctx.blocking(move |s| crate::notify::list(s, &user, l.before_id, limit, l.unread_only)).await?;
    Ok(NotificationPage {
        notifications: page.items.iter().map(|r| r.to_wire()).collect(),
        next_before_id: page.next_before_id,
        unread_total: page.unread,
    }
    .into())
}

pub async fn mark_read(ctx: &Ctx, m: MarkNotificationsRead) -> Reply {
    if m.ids.is_empty() || m.ids.len() > 1000 {
        return Err(invalid("ids must name 1 to 1000 notifications"));
    }
    ctx.broker.notifier.mark_read(ctx.who.user.clone(), m.ids, crate::now_ms()).await.map_err(|e| store_error(&e))?;
    Ok(Done.into())
}

pub async fn mark_all_read(ctx: &Ctx) -> Reply {
    ctx.broker.notifier.mark_all(ctx.who.user.clone(), crate::now_ms()).await.map_err(|e| store_error(&e))?;
    Ok(Done.into())
}
