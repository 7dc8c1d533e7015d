//! The TOML form of a dialect (`dialect/dialects/<name>.toml`) and its checked, compiled form.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::connect::{Connect, TokenSource};
use super::error::DialectError;
use super::hooks::{Hook, Stage};
use super::mapping::{Cond, Mapping, Source, ValueSpec};
use super::model::Dialect;
use super::path::Path;
use super::rooms::{RoomKind, Rooms};
use super::rules::{InRule, OutRule, Route};
use super::vocabulary::Vocabulary;

type Table = BTreeMap<String, toml::Value>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDialect {
    name: String,
    #[serde(default)]
    description: String,
    /// Everything passes unchanged (the canonical dialect).
    #[serde(default)]
    identity: bool,
    #[serde(default)]
    connect: RawConnect,
    #[serde(default)]
    rooms: RawRooms,
    #[serde(default)]
    shapes: BTreeMap<String, Table>,
    #[serde(default)]
    inbound: Vec<RawIn>,
    #[serde(default)]
    outbound: Vec<RawOut>,
    error: Option<RawError>,
    #[serde(default)]
    rest: RawRest,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnect {
    token: Option<Vec<String>>,
    user_id: Option<String>,
    refused_message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRooms {
    user: Option<String>,
    conversation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIn {
    event: String,
    canonical: String,
    #[serde(default)]
    hooks: Vec<String>,
    #[serde(default)]
    when: Table,
    #[serde(default)]
    unless: Table,
    #[serde(default)]
    fields: Table,
    ack: Option<Table>,
    ack_error: Option<Table>,
    reply: Option<RawReply>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    event: String,
    #[serde(default)]
    fields: Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOut {
    canonical: String,
    event: String,
    #[serde(default = "default_target")]
    target: String,
    #[serde(default = "default_room_id")]
    room_id: String,
    #[serde(default)]
    when: Table,
    #[serde(default)]
    unless: Table,
    split: Option<String>,
    #[serde(default)]
    hooks: Vec<String>,
    /// Shorthand for `fields."$" = { from = "$", shape = <shape> }`, before the other fields.
    shape: Option<String>,
    #[serde(default)]
    fields: Table,
    #[serde(default)]
    no_args: bool,
}

fn default_target() -> String {
    "user".into()
}

fn default_room_id() -> String {
    "conversationId".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawError {
    event: String,
    #[serde(default)]
    fields: Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRest {
    token: Option<Vec<String>>,
    error: Option<Table>,
    #[serde(default)]
    route: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    method: String,
    path: String,
    canonical: String,
    #[serde(default)]
    hooks: Vec<String>,
    #[serde(default = "default_status")]
    status: u16,
    upload: Option<String>,
    #[serde(default)]
    request: Table,
    #[serde(default)]
    response: Table,
}

fn default_status() -> u16 {
    200
}

impl Dialect {
    /// Parses and checks a dialect file: unknown keys, hooks, shapes, canonical names and bad paths are
    /// errors here, not at run time. Canonical names are checked against `vocabulary`.
    pub fn from_toml(text: &str, vocabulary: &dyn Vocabulary) -> Result<Self, DialectError> {
        let raw: RawDialect = toml::from_str(text).map_err(|e| DialectError::Toml(e.to_string()))?;
        let name = raw.name.clone();
        build(raw, vocabulary).map_err(|reason| DialectError::Definition { dialect: name, reason })
    }
}

fn build(raw: RawDialect, vocabulary: &dyn Vocabulary) -> Result<Dialect, String> {
    if raw.name.is_empty() {
        return Err("`name` must not be empty".into());
    }
    let mut shapes = BTreeMap::new();
    for (name, table) in &raw.shapes {
        shapes.insert(name.clone(), Mapping::parse(table).map_err(|e| format!("shape `{name}`: {e}"))?);
    }
    let inbound = raw.inbound.into_iter().map(|r| in_rule(r, vocabulary)).collect::<Result<Vec<_>, _>>()?;
    let outbound = raw.outbound.into_iter().map(|r| out_rule(r, vocabulary)).collect::<Result<Vec<_>, _>>()?;
    let error = raw
        .error
        .map(|e| Mapping::parse(&e.fields).map(|m| (e.event, m)))
        .transpose()
        .map_err(|e| format!("[error]: {e}"))?;
    let rest_error =
        raw.rest.error.as_ref().map(Mapping::parse).transpose().map_err(|e| format!("[rest.error]: {e}"))?;
    let rest = raw.rest.route.into_iter().map(|r| route(r, vocabulary)).collect::<Result<Vec<_>, _>>()?;
    let tokens = |list: Option<Vec<String>>| -> Result<Vec<TokenSource>, String> {
        list.map_or_else(|| Ok(Connect::default().token), |l| l.iter().map(|s| TokenSource::parse(s)).collect())
    };
    let connect = Connect {
        token: tokens(raw.connect.token)?,
        user_id: raw.connect.user_id.as_deref().map(TokenSource::parse).transpose()?,
        refused_message: raw.connect.refused_message,
    };
    let rest_token = tokens(raw.rest.token)?;
    let rooms = Rooms::new(raw.rooms.user.as_deref(), raw.rooms.conversation.as_deref())?;
    let dialect = Dialect {
        name: raw.name,
        description: raw.description,
        identity: raw.identity,
        connect,
        rest_token,
        rooms,
        shapes,
        inbound,
        outbound,
        error,
        rest,
        rest_error,
    };
    check_shapes(&dialect)?;
    Ok(dialect)
}

fn hooks(list: &[String], stage: Stage, at: &str) -> Result<Vec<Hook>, String> {
    list.iter()
        .map(|h| {
            let hook = Hook::parse(h).map_err(|e| format!("{at}: {e}"))?;
            if hook.stage() != stage {
                return Err(format!("{at}: hook {h:?} cannot be used here"));
            }
            Ok(hook)
        })
        .collect()
}

fn in_rule(raw: RawIn, vocabulary: &dyn Vocabulary) -> Result<InRule, String> {
    let at = format!("[[inbound]] {:?}", raw.event);
    if !vocabulary.is_operation(&raw.canonical) {
        return Err(format!("{at}: {:?} is not a canonical operation", raw.canonical));
    }
    let mapping = |t: &Table| Mapping::parse(t).map_err(|e| format!("{at}: {e}"));
    Ok(InRule {
        hooks: hooks(&raw.hooks, Stage::Inbound, &at)?,
        when: Cond::parse(&raw.when).map_err(|e| format!("{at}: {e}"))?,
        unless: Cond::parse(&raw.unless).map_err(|e| format!("{at}: {e}"))?,
        fields: mapping(&raw.fields)?,
        ack: raw.ack.as_ref().map(mapping).transpose()?,
        ack_error: raw.ack_error.as_ref().map(mapping).transpose()?,
        reply: raw.reply.map(|r| mapping(&r.fields).map(|m| (r.event, m))).transpose()?,
        event: raw.event,
        canonical: raw.canonical,
    })
}

fn out_rule(raw: RawOut, vocabulary: &dyn Vocabulary) -> Result<OutRule, String> {
    let at = format!("[[outbound]] {:?} -> {:?}", raw.canonical, raw.event);
    if !vocabulary.is_event(&raw.canonical) {
        return Err(format!("{at}: {:?} is not a canonical event", raw.canonical));
    }
    let target = match raw.target.as_str() {
        "user" => RoomKind::User,
        "conversation" => RoomKind::Conversation,
        other => return Err(format!("{at}: target {other:?} is not user or conversation")),
    };
    let mut fields = Mapping::parse(&raw.fields).map_err(|e| format!("{at}: {e}"))?;
    if let Some(shape) = &raw.shape {
        fields.0.insert(0, (Path::root(), ValueSpec::from_source(Source::Input(Path::root())).with_shape(shape)));
    }
    Ok(OutRule {
        target,
        room_id: Source::parse(&raw.room_id).map_err(|e| format!("{at}: {e}"))?,
        when: Cond::parse(&raw.when).map_err(|e| format!("{at}: {e}"))?,
        unless: Cond::parse(&raw.unless).map_err(|e| format!("{at}: {e}"))?,
        split: raw.split.as_deref().map(Path::parse).transpose().map_err(|e| format!("{at}: {e}"))?,
        fields,
        hooks: hooks(&raw.hooks, Stage::Outbound, &at)?,
        no_args: raw.no_args,
        canonical: raw.canonical,
        event: raw.event,
    })
}

fn route(raw: RawRoute, vocabulary: &dyn Vocabulary) -> Result<Route, String> {
    let at = format!("[[rest.route]] {} {}", raw.method, raw.path);
    let method = raw.method.to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(format!("{at}: unknown method"));
    }
    if !vocabulary.is_operation(&raw.canonical) {
        return Err(format!("{at}: {:?} is not a canonical operation", raw.canonical));
    }
    if !(100..=599).contains(&raw.status) {
        return Err(format!("{at}: status {} is not an HTTP status", raw.status));
    }
    Ok(Route {
        segments: Route::parse_pattern(&raw.path).map_err(|e| format!("{at}: {e}"))?,
        hooks: hooks(&raw.hooks, Stage::Inbound, &at)?,
        request: Mapping::parse(&raw.request).map_err(|e| format!("{at}: request: {e}"))?,
        response: Mapping::parse(&raw.response).map_err(|e| format!("{at}: response: {e}"))?,
        method,
        pattern: raw.path,
        canonical: raw.canonical,
        status: raw.status,
        upload: raw.upload,
    })
}

/// Every shape named anywhere exists.
fn check_shapes(d: &Dialect) -> Result<(), String> {
    let mut mappings: Vec<(&str, &Mapping)> = d.shapes.iter().map(|(n, m)| (n.as_str(), m)).collect();
    for r in &d.inbound {
        mappings.push((&r.event, &r.fields));
        mappings.extend(r.ack.iter().chain(&r.ack_error).map(|m| (r.event.as_str(), m)));
        mappings.extend(r.reply.iter().map(|(e, m)| (e.as_str(), m)));
    }
    mappings.extend(d.outbound.iter().map(|r| (r.event.as_str(), &r.fields)));
    mappings.extend(d.rest.iter().flat_map(|r| [(r.pattern.as_str(), &r.request), (r.pattern.as_str(), &r.response)]));
    mappings.extend(d.error.iter().map(|(e, m)| (e.as_str(), m)));
    mappings.extend(d.rest_error.iter().map(|m| ("rest.error", m)));
    for (at, mapping) in mappings {
        if let Some(missing) = mapping.shapes().find(|s| !d.shapes.contains_key(*s)) {
            return Err(format!("{at}: no shape named {missing:?}"));
        }
    }
    Ok(())
}
