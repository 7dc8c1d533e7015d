//! Projections of stored state into wire views: a conversation as one user sees it, or as every member
//! shares it (conversation events of shared changes).

use quip_protocol::family::conversations::Conversation;
use quip_store::model::{ConvId, ConvKind, UserId};
use quip_store::{Store, StoreError};

/// Builds `user`'s view of one conversation from the store: the shared state plus their unread count,
/// watermarks, settings and, for a direct conversation, who blocked whom.
pub fn view(s: &Store, conv: u64, user: &str) -> Result<Conversation, StoreError> {
    let meta = s.conv_meta(conv)?.ok_or(StoreError::NotFound)?;
    let head = s.conv_head(conv)?;
    let members = s
        .members(conv)?
        .into_iter()
        .map(|(user, rec)| {
            let profile = s.profile(&user)?;
            Ok((user, rec, profile))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let settings = s.settings(user, conv)?;
    let last = if head.last_seq > 0 && settings.shows(head.last_seq) && !s.is_hidden(user, conv, head.last_seq)? {
        s.message(conv, head.last_seq)?
    } else {
        None
    };
    let marks = s.watermarks(conv, user)?;
    let mut conversation = super::convert::conversation(&meta, &head, &members, last.as_ref());
    conversation.unread = s.unread_in(conv, user, &head, &marks)?;
    conversation.read_up_to_seq = marks.read;
    conversation.delivered_up_to_seq = marks.delivered;
    conversation.archived = settings.archived;
    conversation.muted_until_ms = settings.muted_until_ms;
    if meta.kind == ConvKind::Direct {
        if let Some((peer, _, _)) = members.iter().find(|(u, _, _)| u != user) {
            conversation.blocked_by_me = s.has_blocked(user, peer)?;
            conversation.blocked_me = s.has_blocked(peer, user)?;
        }
    }
    Ok(conversation)
}

/// A conversation's shared state (no one user's view), its creator and creation time.
pub fn shared(store: &Store, conv: ConvId) -> Option<(Conversation, UserId, u64)> {
    let meta = match store.conv_meta(conv) {
        Ok(Some(meta)) => meta,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, conv, "conversation event not published");
            return None;
        }
    };
    let head = store.conv_head(conv).unwrap_or_default();
    let rows: Vec<_> = store
        .members(conv)
        .unwrap_or_default()
        .into_iter()
        .map(|(u, rec)| {
            let profile = store.profile(&u).ok().flatten();
            (u, rec, profile)
        })
        .collect();
    let conversation = super::convert::conversation(&meta, &head, &rows, None);
    Some((conversation, meta.created_by, meta.created_at_ms))
}
