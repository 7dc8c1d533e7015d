//! Session requests: Ping, RefreshToken, UpdateProfile, GetUsers.

use quip_protocol::family::session::{GetUsers, Ping, Pong, RefreshToken, TokenRefreshed, UpdateProfile, Users};
use quip_protocol::{ErrorCode, ErrorReply};

use super::{Ctx, Reply, store_error};
use crate::session::ToWriter;

pub fn ping(p: Ping) -> Reply {
    Ok(Pong { nonce: p.nonce, server_time_ms: crate::now_ms() }.into())
}

/// A new token must be valid and name the same user; the session then lives until its expiry.
pub async fn refresh_token(ctx: &Ctx, r: RefreshToken) -> Reply {
    let identity = ctx.broker.auth.verify(&r.token).map_err(|e| ErrorReply::new(e.code(), e.to_string()))?;
    if identity.user_id != ctx.who.user {
        return Err(ErrorReply::new(ErrorCode::Forbidden, "the new token names another user"));
    }
    ctx.broker.check_revoked(&identity).await?;
    let _ = ctx.to_writer.send(ToWriter::TokenExpiry(identity.expires_at)).await;
    Ok(TokenRefreshed { expires_at_ms: identity.expires_at.saturating_mul(1000) }.into())
}

pub async fn update_profile(ctx: &Ctx, u: UpdateProfile) -> Reply {
    let user = ctx.who.user.clone();
    let mut profile = ctx
        .blocking(move |s| s.profile(&user))
        .await?
        .unwrap_or_else(|| quip_store::model::Profile { id: ctx.who.user.clone(), ..Default::default() });
    if let Some(name) = u.display_name {
        profile.name = Some(name);
    }
    if let Some(url) = u.avatar_url {
        profile.avatar_url = Some(url);
    }
    if !u.fields.is_empty() {
        // The fields tokens fill (`auth.profile_claims`) are the token's to say: they keep their value.
        let presence = &ctx.broker.presence;
        let given = |key: &str| presence.card_fields().iter().any(|f| f == key);
        let mut fields: Vec<(String, String)> = profile.fields.drain(..).filter(|(k, _)| given(k)).collect();
        fields.extend(crate::wire::convert::pairs(&u.fields).into_iter().filter(|(k, _)| !given(k)));
        profile.fields = fields;
    }
    profile.updated_at_ms = crate::now_ms();
    ctx.broker.writer.put_profile(profile.clone()).await.map_err(|e| store_error(&e))?;
    ctx.broker.presence.set_card(&ctx.who.user, ctx.broker.presence.card_of(&profile));
    Ok(Users { users: vec![crate::wire::convert::profile(&profile)] }.into())
}

pub async fn get_users(ctx: &Ctx, g: GetUsers) -> Reply {
    if g.user_ids.len() > 500 {
        return Err(super::invalid("at most 500 users per request"));
    }
    let profiles =
        ctx.blocking(move |s| g.user_ids.iter().map(|u| s.profile(u)).collect::<Result<Vec<_>, _>>()).await?;
    Ok(Users { users: profiles.iter().flatten().map(crate::wire::convert::profile).collect() }.into())
}
