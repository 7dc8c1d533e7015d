//! Client → server: a legacy event and its payload to a canonical operation, and the operation's result
//! back to what the legacy client expects (an ack callback value, a reply event, an error event).

use serde_json::{Value, json};

use super::ctx::Ctx;
use super::error::DialectError;
use super::hooks;
use super::model::Dialect;
use super::outbound::Outbound;

/// A legacy event mapped to a canonical operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The legacy event name, as the client sent it.
    pub event: String,
    /// The canonical operation (one of the host's [`crate::Vocabulary`]; any event in the canonical
    /// dialect, which the core then judges).
    pub canonical: String,
    /// The canonical payload: always a JSON object.
    pub payload: Value,
    /// The rule that matched (`None` in the canonical dialect).
    pub(crate) rule: Option<usize>,
}

/// What to answer a client after its request ran.
///
/// On success: if the client passed an ack callback, call it with `callback`, or with the canonical ack
/// when `callback` is `None`; then emit `emits` to the socket. On failure: the same, except that `emits`
/// (the dialect's error event) is meant for clients that passed no callback.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub callback: Option<Value>,
    pub emits: Vec<Outbound>,
}

impl Dialect {
    /// Maps a legacy client event to a canonical operation. Unknown events, payloads of the wrong shape
    /// and fields of the wrong type are errors, never panics.
    pub fn inbound(&self, event: &str, payload: Value) -> Result<Inbound, DialectError> {
        if self.identity {
            let payload = match payload {
                Value::Null => json!({}),
                Value::Object(_) => payload,
                other => return Err(DialectError::NotAnObject(hooks::kind(&other))),
            };
            return Ok(Inbound { event: event.to_owned(), canonical: event.to_owned(), payload, rule: None });
        }
        let ctx = Ctx::default();
        let mut first_error = None;
        let mut seen = false;
        for (index, rule) in self.inbound.iter().enumerate().filter(|(_, r)| r.event == event) {
            seen = true;
            let prepared = match rule.hooks.iter().try_fold(payload.clone(), |p, h| h.inbound(p, event)) {
                Ok(p) => p,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            if !prepared.is_object() {
                let reason = format!("the payload must be an object, not {}", hooks::kind(&prepared));
                first_error.get_or_insert(DialectError::Payload { event: event.to_owned(), reason });
                continue;
            }
            let env = self.env(&ctx, event, true);
            if !rule.when.holds(&prepared, &env) || (!rule.unless.is_empty() && rule.unless.holds(&prepared, &env)) {
                continue;
            }
            let mapped = rule.fields.apply(&prepared, &env)?;
            return Ok(Inbound {
                event: event.to_owned(),
                canonical: rule.canonical.clone(),
                payload: mapped,
                rule: Some(index),
            });
        }
        match (seen, first_error) {
            (false, _) => Err(DialectError::UnknownEvent(event.to_owned())),
            (true, Some(e)) => Err(e),
            (true, None) => Err(DialectError::Payload {
                event: event.to_owned(),
                reason: "no mapping of this event matches the payload".into(),
            }),
        }
    }

    /// The answer to a request that succeeded with the canonical `result`.
    pub fn reply(&self, inbound: &Inbound, ctx: &Ctx, result: &Value) -> Reply {
        let Some(rule) = inbound.rule.and_then(|i| self.inbound.get(i)) else { return Reply::default() };
        let input = json!({ "request": inbound.payload, "result": result });
        let env = self.env(ctx, &inbound.event, false);
        let callback = rule.ack.as_ref().and_then(|m| m.apply(&input, &env).ok());
        let emits = rule
            .reply
            .iter()
            .filter_map(|(event, m)| {
                let payload = m.apply(&input, &env).ok()?;
                Some(Outbound { event: event.clone(), payload: Some(payload), room: None })
            })
            .collect();
        Reply { callback, emits }
    }

    /// The answer to a request that failed. `error` is the canonical error object `{code, message,
    /// retryAfter?, field?}`; `inbound` is `None` when the event itself did not map (then `event` is the
    /// legacy event name).
    pub fn reply_error(&self, inbound: Option<&Inbound>, event: &str, ctx: &Ctx, error: &Value) -> Reply {
        let event = inbound.map_or(event, |i| i.event.as_str());
        let env = self.env(ctx, event, false);
        let rule = inbound.and_then(|i| i.rule).and_then(|i| self.inbound.get(i));
        let request = inbound.map_or(Value::Null, |i| i.payload.clone());
        let input = json!({ "request": request, "error": error });
        let callback = rule.and_then(|r| r.ack_error.as_ref()).and_then(|m| m.apply(&input, &env).ok());
        let emits = self.error_event(ctx, event, error).into_iter().collect();
        Reply { callback, emits }
    }

    /// The dialect's error event for a canonical error object (none when the dialect has none).
    pub fn error_event(&self, ctx: &Ctx, event: &str, error: &Value) -> Option<Outbound> {
        let (name, mapping) = self.error.as_ref()?;
        let mut input = error.clone();
        if let Value::Object(map) = &mut input {
            map.insert("event".into(), Value::String(event.to_owned()));
        }
        let payload = mapping.apply(&input, &self.env(ctx, event, false)).ok()?;
        Some(Outbound { event: name.clone(), payload: Some(payload), room: None })
    }
}
