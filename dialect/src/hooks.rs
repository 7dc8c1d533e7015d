//! The few transforms that the mapping tables cannot express, named from TOML (`hooks = ["bare_string:
//! conversationId"]`) and implemented here.
//!
//! Payload hooks run on a whole payload: inbound ones (and REST ones) before the field mapping, outbound
//! ones after it. Value hooks (`hook = "page_info:messages"` in a source table) compute one value.

use serde_json::{Map, Value, json};

use super::error::DialectError;
use super::time;

/// Default page size of the paging hooks when the client gives none.
const DEFAULT_LIMIT: u64 = 50;

/// A payload hook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hook {
    /// Inbound: a bare string or number payload (`emit('join_conversation', id)`) becomes `{<field>: it}`;
    /// an object passes unchanged, so both styles work.
    BareString(String),
    /// Inbound: a bare array payload (`emit('users:get-status', [ids])`) becomes `{<field>: it}`; a bare
    /// scalar becomes a one-element list.
    BareList(String),
    /// Inbound: the event carries nothing (`emit('online')`); whatever came is dropped.
    NoArgs,
    /// Inbound: the first present field of the list names the conversation's context:
    /// `context:orderId=order,gigId=gig` turns `{orderId: "o1"}` into `{orderId, context: {kind: "order",
    /// id: "o1"}}`.
    Context(Vec<(String, String)>),
    /// Inbound: a media URL field (`media_url:mediaUrl`) becomes `attachments: [{url, kind}]`, the kind
    /// taken from `messageType` (image, video, audio, file).
    MediaUrl(String),
    /// Inbound: an `RTCIceCandidate` object in `candidate` is flattened to `candidate`, `sdpMid` and
    /// `sdpMLineIndex` (a string candidate passes unchanged).
    IceCandidate,
    /// Inbound (REST): `page` and `limit` (1-based pages) become `offset` and `limit`;
    /// `paging:page:<default limit>`.
    PagingPage(u64),
    /// Inbound (REST): `skip` and `limit` become `offset` and `limit`; `paging:skip:<default limit>`.
    PagingSkip(u64),
    /// Outbound: the payload is wrapped as `{type: <type>, data: payload, timestamp: now (ISO)}`.
    Envelope(String),
}

/// Where a hook may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Inbound,
    Outbound,
}

impl Hook {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, arg) = text.split_once(':').map_or((text, ""), |(n, a)| (n, a));
        let need = |what: &str| {
            if arg.is_empty() { Err(format!("hook `{name}` needs {what} (`{name}:...`)")) } else { Ok(arg.to_owned()) }
        };
        let limit = |default: &str| -> Result<u64, String> {
            let given = arg.split_once(':').map_or("", |(_, l)| l);
            let text = if given.is_empty() { default } else { given };
            text.parse().map_err(|_| format!("hook `{name}`: bad default limit {text:?}"))
        };
        Ok(match name {
            "bare_string" => Self::BareString(need("a field name")?),
            "bare_list" => Self::BareList(need("a field name")?),
            "no_args" => Self::NoArgs,
            "context" => Self::Context(
                need("field=kind pairs")?
                    .split(',')
                    .map(|pair| match pair.split_once('=') {
                        Some((f, k)) if !f.trim().is_empty() && !k.trim().is_empty() => {
                            Ok((f.trim().to_owned(), k.trim().to_owned()))
                        }
                        _ => Err(format!("hook `context`: {pair:?} is not field=kind")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "media_url" => Self::MediaUrl(need("a field name")?),
            "ice_candidate" => Self::IceCandidate,
            "paging" => match arg.split(':').next() {
                Some("page") => Self::PagingPage(limit("50")?),
                Some("skip") => Self::PagingSkip(limit("50")?),
                _ => return Err("hook `paging` is `paging:page` or `paging:skip`".into()),
            },
            "envelope" => Self::Envelope(need("a type")?),
            other => return Err(format!("unknown hook {other:?}")),
        })
    }

    pub(crate) fn stage(&self) -> Stage {
        match self {
            Self::Envelope(_) => Stage::Outbound,
            _ => Stage::Inbound,
        }
    }

    /// Runs an inbound hook on the raw payload.
    pub(crate) fn inbound(&self, payload: Value, event: &str) -> Result<Value, DialectError> {
        let bad = |reason: String| DialectError::Payload { event: event.to_owned(), reason };
        match self {
            Self::BareString(field) => match payload {
                Value::String(_) | Value::Number(_) => Ok(json!({ field.as_str(): payload })),
                Value::Object(_) => Ok(payload),
                Value::Null => Ok(json!({})),
                other => Err(bad(format!("expected an id or an object, got {}", kind(&other)))),
            },
            Self::BareList(field) => match payload {
                Value::Array(_) => Ok(json!({ field.as_str(): payload })),
                Value::String(_) | Value::Number(_) => Ok(json!({ field.as_str(): [payload] })),
                Value::Object(_) => Ok(payload),
                Value::Null => Ok(json!({})),
                other => Err(bad(format!("expected a list or an object, got {}", kind(&other)))),
            },
            Self::NoArgs => Ok(json!({})),
            Self::Context(pairs) => {
                let mut map = object(payload, event)?;
                let found = pairs.iter().find_map(|(f, k)| match map.get(f) {
                    Some(Value::String(s)) if !s.is_empty() => Some((k.clone(), s.clone())),
                    Some(Value::Number(n)) => Some((k.clone(), n.to_string())),
                    _ => None,
                });
                if let Some((kind, id)) = found {
                    map.insert("context".into(), json!({ "kind": kind, "id": id }));
                }
                Ok(Value::Object(map))
            }
            Self::MediaUrl(field) => {
                let mut map = object(payload, event)?;
                if let Some(Value::String(url)) = map.get(field).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
                    let kind = map
                        .get("messageType")
                        .and_then(Value::as_str)
                        .filter(|k| matches!(*k, "image" | "video" | "audio"))
                        .unwrap_or("file");
                    let attachment = json!({ "url": url, "kind": kind });
                    map.insert("attachments".into(), Value::Array(vec![attachment]));
                }
                Ok(Value::Object(map))
            }
            Self::IceCandidate => {
                let mut map = object(payload, event)?;
                match map.remove("candidate") {
                    Some(Value::Object(c)) => {
                        for key in ["candidate", "sdpMid", "sdpMLineIndex"] {
                            if let Some(v) = c.get(key) {
                                map.insert(key.into(), v.clone());
                            }
                        }
                    }
                    Some(other) => {
                        map.insert("candidate".into(), other);
                    }
                    None => {}
                }
                Ok(Value::Object(map))
            }
            Self::PagingPage(default_limit) | Self::PagingSkip(default_limit) => {
                let mut map = object(payload, event)?;
                let number = |key: &str, default: u64| -> Result<u64, DialectError> {
                    match map.get(key) {
                        None | Some(Value::Null) => Some(default),
                        Some(Value::Number(n)) => n.as_u64(),
                        Some(Value::String(s)) if s.is_empty() => Some(default),
                        Some(Value::String(s)) => s.trim().parse().ok(),
                        Some(_) => None,
                    }
                    .ok_or_else(|| DialectError::BadField {
                        event: event.to_owned(),
                        field: key.to_owned(),
                        reason: "must be a non-negative integer".into(),
                    })
                };
                let limit = number("limit", *default_limit)?.max(1);
                let offset = if matches!(self, Self::PagingPage(_)) {
                    number("page", 1)?.max(1).saturating_sub(1).saturating_mul(limit)
                } else {
                    number("skip", 0)?
                };
                map.insert("page".into(), Value::from(offset / limit + 1));
                map.insert("limit".into(), Value::from(limit));
                map.insert("offset".into(), Value::from(offset));
                Ok(Value::Object(map))
            }
            Self::Envelope(_) => Ok(payload),
        }
    }

    /// Runs an outbound hook on the mapped payload.
    pub(crate) fn outbound(&self, payload: Value, now_ms: u64) -> Value {
        match self {
            Self::Envelope(kind) => json!({ "type": kind, "data": payload, "timestamp": time::iso(now_ms) }),
            _ => payload,
        }
    }
}

fn object(payload: Value, event: &str) -> Result<Map<String, Value>, DialectError> {
    match payload {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(DialectError::Payload {
            event: event.to_owned(),
            reason: format!("expected an object, got {}", kind(&other)),
        }),
    }
}

/// What a JSON value is, in words for an error message: `null`, `a number`, `an object`, ...
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value hook: computes one value of a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueHook {
    /// `page_info:<list field>`: from `{request: {limit, offset}, result: {<list>, hasMore | nextCursor,
    /// total?}}`,
    /// the page numbers legacy paging shows: `{page, limit, offset, count, total, totalPages, hasMore}`.
    /// Without `result.total`, the total is what is known: `offset + count` (+ 1 page when more remain).
    PageInfo(String),
}

impl ValueHook {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some(("page_info", list)) if !list.is_empty() => Ok(Self::PageInfo(list.to_owned())),
            _ => Err(format!("unknown value hook {text:?} (known: page_info:<list field>)")),
        }
    }
}

/// Runs a value hook on the mapping's whole input.
pub(crate) fn value_hook(hook: &ValueHook, _value: Value, input: &Value) -> Value {
    match hook {
        ValueHook::PageInfo(list) => {
            let num = |v: Option<&Value>| v.and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
            let request = input.get("request");
            let result = input.get("result");
            let limit = num(request.and_then(|r| r.get("limit"))).unwrap_or(DEFAULT_LIMIT).max(1);
            let offset = num(request.and_then(|r| r.get("offset"))).unwrap_or(0);
            let count = result.and_then(|r| r.get(list)).and_then(Value::as_array).map_or(0, Vec::len) as u64;
            let more = result.and_then(|r| {
                r.get("hasMore").and_then(Value::as_bool).or_else(|| r.get("nextCursor").map(|c| !c.is_null()))
            });
            let total = num(result.and_then(|r| r.get("total")))
                .unwrap_or_else(|| offset + count + if more == Some(true) { limit } else { 0 });
            let has_more = more.unwrap_or(offset + count < total);
            json!({
                "page": offset / limit + 1,
                "limit": limit,
                "offset": offset,
                "count": count,
                "total": total,
                "totalPages": total.div_ceil(limit),
                "hasMore": has_more,
            })
        }
    }
}
