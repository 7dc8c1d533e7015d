//! Server → client: one canonical event to the zero or more events the legacy client listens for.

use serde_json::Value;

use super::ctx::Ctx;
use super::mapping::Env;
use super::model::Dialect;
use super::rooms::{Room, RoomKind};
use super::rules::OutRule;

/// One event to emit to a legacy client.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The legacy event name.
    pub event: String,
    /// Its one argument; `None`: emitted with no argument.
    pub payload: Option<Value>,
    /// The legacy room it goes to: a conversation room reaches only the sockets that joined that
    /// conversation; a user room (or `None`, for replies) reaches the socket regardless.
    pub room: Option<Room>,
}

impl Dialect {
    /// Maps one canonical event to the legacy events for the user in `ctx` (the recipient: `$me` in
    /// conditions and fields). Zero events when the legacy app has no equivalent.
    pub fn outbound_with(&self, ctx: &Ctx, canonical_event: &str, payload: &Value) -> Vec<Outbound> {
        if self.identity {
            return vec![Outbound { event: canonical_event.to_owned(), payload: Some(payload.clone()), room: None }];
        }
        let mut out = Vec::new();
        for rule in self.outbound.iter().filter(|r| r.canonical == canonical_event) {
            let env = self.env(ctx, &rule.event, false);
            if !rule.when.holds(payload, &env) || (!rule.unless.is_empty() && rule.unless.holds(payload, &env)) {
                continue;
            }
            let room = self.room_of(rule, ctx, payload, &env);
            let items: Vec<Option<&Value>> = match &rule.split {
                None => vec![None],
                Some(path) => match path.get(payload) {
                    Some(Value::Array(items)) => items.iter().map(Some).collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(one) => vec![Some(one)],
                },
            };
            for item in items {
                let env = Env { item, ..env };
                let Ok(mapped) = rule.fields.apply(payload, &env) else { continue };
                let mapped = rule.hooks.iter().fold(mapped, |p, h| h.outbound(p, ctx.now_ms));
                let payload = (!rule.no_args).then_some(mapped);
                out.push(Outbound { event: rule.event.clone(), payload, room: room.clone() });
            }
        }
        out
    }

    /// Whether a rule of this dialect maps canonical event `canonical_event`. The identity dialect has
    /// none: its events pass as they are, with nothing added.
    pub fn translates(&self, canonical_event: &str) -> bool {
        self.outbound.iter().any(|r| r.canonical == canonical_event)
    }

    /// [`Self::outbound_with`] for a recipient the core does not name, at the current time.
    pub fn outbound(&self, canonical_event: &str, payload: &Value) -> Vec<Outbound> {
        self.outbound_with(&Ctx::now(), canonical_event, payload)
    }

    fn room_of(&self, rule: &OutRule, ctx: &Ctx, payload: &Value, env: &Env<'_>) -> Option<Room> {
        let id = match rule.target {
            RoomKind::User => ctx.user_id.clone()?,
            _ => match rule.room_id.resolve(payload, env)? {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => return None,
            },
        };
        Some(self.rooms.room(rule.target, &id))
    }
}
