//! The session itself: replaying what was missed, a fresh token, a heartbeat — and `noop`, for legacy
//! routes Quip makes unnecessary (a client-written call record: quipd writes it when the call ends).

use serde_json::json;

use super::op::{Input, Operation, Outcome, nothing};

pub(crate) const OPERATIONS: &[Operation] = &[
    // `{}` → `{globalCursor, replayed}`: quipd replays anything this session has not been given.
    Operation::handler("sync", |i| Box::pin(sync(i))),
    // `{token}` → `{expiresAt}`: a fresh token (same user) for this session.
    Operation::handler("token:refresh", |i| Box::pin(refresh(i))),
    // `{}` → `{serverTime}`.
    Operation::handler("ping", |i| Box::pin(ping(i))),
    // Nothing runs upstream; the route or event answers with its mapped response to `{}`.
    Operation::handler("noop", nothing),
];

async fn sync(input: &Input<'_>) -> Outcome {
    let done = input.client.sync().await?;
    Ok(json!({ "globalCursor": done.global_cursor, "replayed": done.replayed }))
}

async fn refresh(input: &Input<'_>) -> Outcome {
    let refreshed = input.client.refresh_token(input.args.str("token")?).await?;
    Ok(json!({ "expiresAt": refreshed.expires_at_ms }))
}

async fn ping(input: &Input<'_>) -> Outcome {
    let pong = input.client.ping().await?;
    Ok(json!({ "serverTime": pong.server_time_ms }))
}
