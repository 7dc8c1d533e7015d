//! The declarative mapping language of dialect files: a table of `destination = source` entries that
//! builds one JSON value from another.
//!
//! A destination is a dotted path (`data.messageId`; `$` is the whole result). A source is either a path
//! string (`sender.id`, `$` for the whole input, `$me` the user the payload is for, `$now` the time as ISO
//! text, `$now_ms`, `$item` the current element of a `split`), or a table:
//!
//! | key | meaning |
//! | --- | --- |
//! | `from` | a source path, or a list of them: the first present one is used |
//! | `value` | a constant instead of `from` |
//! | `default` | used when the source is absent or null (otherwise the destination is left out) |
//! | `required` | absent or null is an error (inbound) |
//! | `hook` | a named value transform in Rust ([`super::hooks::ValueHook`]) |
//! | `map` | a lookup table of values (`_` is the fallback) |
//! | `shape` | a named mapping of `[shapes.<name>]` applied to the value (to each element of an array) |
//! | `pluck` | the field of each element of an array |
//! | `as` | a conversion: `string`, `id`, `ids`, `strings`, `bool`, `number`, `list`, `iso_time`, `reverse`, `count`, `seconds` (from ms), `first_name`, `last_name` |
//! | `when` / `unless` | conditions on the input; the entry applies only when they hold |
//!
//! In that order: source, default, hook, map, shape, pluck, conversion. Inbound mapping is strict (a value
//! that does not convert is an error); outbound mapping is lenient (such a value passes as it is), since
//! canonical payloads come from the core.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::error::DialectError;
use super::hooks::{self, ValueHook};
use super::path::Path;
use super::time;

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A path in the input (`$` is the input itself).
    Input(Path),
    /// A path in the current element of a split.
    Item(Path),
    /// The user id of the user the payload is for.
    Me,
    /// The time now as ISO text.
    Now,
    /// The time now in milliseconds.
    NowMs,
}

impl Source {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text {
            "$me" => Ok(Self::Me),
            "$now" => Ok(Self::Now),
            "$now_ms" => Ok(Self::NowMs),
            "$item" => Ok(Self::Item(Path::parse("$")?)),
            _ => match text.strip_prefix("$item.") {
                Some(rest) => Ok(Self::Item(Path::parse(rest)?)),
                None => Ok(Self::Input(Path::parse(text)?)),
            },
        }
    }

    fn display(&self) -> String {
        match self {
            Self::Input(p) => p.display(),
            Self::Item(p) => format!("$item.{}", p.display()),
            Self::Me => "$me".into(),
            Self::Now => "$now".into(),
            Self::NowMs => "$now_ms".into(),
        }
    }

    pub(crate) fn resolve(&self, input: &Value, env: &Env<'_>) -> Option<Value> {
        let found = match self {
            Self::Input(p) => p.get(input).cloned(),
            Self::Item(p) => env.item.and_then(|item| p.get(item)).cloned(),
            Self::Me => env.ctx.user_id.clone().map(Value::String),
            Self::Now => Some(Value::String(time::iso(env.ctx.now_ms))),
            Self::NowMs => Some(Value::from(env.ctx.now_ms)),
        };
        found.filter(|v| !v.is_null())
    }
}

/// A conversion (`as = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conv {
    String,
    Id,
    Ids,
    Strings,
    Bool,
    Number,
    List,
    IsoTime,
    Reverse,
    Count,
    Seconds,
    FirstName,
    LastName,
}

impl Conv {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "string" => Self::String,
            "id" => Self::Id,
            "ids" => Self::Ids,
            "strings" => Self::Strings,
            "bool" => Self::Bool,
            "number" => Self::Number,
            "list" => Self::List,
            "iso_time" => Self::IsoTime,
            "reverse" => Self::Reverse,
            "count" => Self::Count,
            "seconds" => Self::Seconds,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            other => return Err(format!("unknown conversion `as = {other:?}`")),
        })
    }

    /// Converts, or says what the value should have been.
    fn apply(self, value: Value) -> Result<Value, &'static str> {
        match self {
            Self::String => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err("must be a string"),
            },
            Self::Id => id(&value).map(Value::from).ok_or("must be an id (a positive integer)"),
            Self::Ids => list(value)
                .into_iter()
                .map(|v| id(&v).map(Value::from))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array)
                .ok_or("must be a list of ids"),
            Self::Strings => list(value)
                .into_iter()
                .map(|v| Self::String.apply(v).ok())
                .collect::<Option<Vec<_>>>()
                .map(Value::Array)
                .ok_or("must be a list of strings"),
            Self::Bool => match value {
                Value::Bool(_) => Ok(value),
                Value::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
                Value::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
                _ => Err("must be true or false"),
            },
            Self::Number => match value {
                Value::Number(_) => Ok(value),
                Value::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| s.trim().parse::<u64>().map(Value::from))
                    .map_err(|_| "must be a number"),
                _ => Err("must be a number"),
            },
            Self::List => Ok(Value::Array(list(value))),
            Self::IsoTime => match value {
                Value::Number(n) => match n.as_u64() {
                    Some(0) => Ok(Value::Null),
                    Some(ms) => Ok(Value::String(time::iso(ms))),
                    None => Err("must be a time in milliseconds"),
                },
                Value::String(_) => Ok(value),
                _ => Err("must be a time"),
            },
            Self::Reverse => match value {
                Value::Array(mut items) => {
                    items.reverse();
                    Ok(Value::Array(items))
                }
                _ => Err("must be a list"),
            },
            Self::Count => match value {
                Value::Array(items) => Ok(Value::from(items.len())),
                _ => Err("must be a list"),
            },
            Self::Seconds => value.as_u64().map(|ms| Value::from(ms / 1000)).ok_or("must be milliseconds"),
            Self::FirstName | Self::LastName => match value {
                Value::String(s) => {
                    let s = s.trim();
                    let (first, last) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
                    let part = if self == Self::FirstName { first } else { last.trim() };
                    Ok(Value::String(part.to_owned()))
                }
                _ => Err("must be a string"),
            },
        }
    }
}

/// A positive id from a number or a numeric string.
fn id(value: &Value) -> Option<u64> {
    let n = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n > 0).then_some(n)
}

fn list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Conditions on the input: every path must hold one of the listed values. Values compare loosely (`7`
/// and `"7"` are equal); `"$me"` matches the user the payload is for, `"$present"` any value, `"$absent"`
/// an absent or null one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cond(Vec<(Source, Vec<Value>)>);

impl Cond {
    pub(crate) fn parse(table: &BTreeMap<String, toml::Value>) -> Result<Self, String> {
        let mut out = Vec::new();
        for (key, expected) in table {
            let expected = match to_json(expected.clone())? {
                Value::Array(items) => items,
                one => vec![one],
            };
            out.push((Source::parse(key)?, expected));
        }
        Ok(Self(out))
    }

    pub(crate) fn holds(&self, input: &Value, env: &Env<'_>) -> bool {
        self.0.iter().all(|(source, expected)| {
            let actual = source.resolve(input, env);
            expected.iter().any(|e| matches(actual.as_ref(), e, env))
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn matches(actual: Option<&Value>, expected: &Value, env: &Env<'_>) -> bool {
    match (actual, expected) {
        (None, Value::String(s)) => s == "$absent",
        (None, _) => false,
        (Some(a), Value::String(s)) if s == "$me" => env.ctx.user_id.as_deref().is_some_and(|me| scalar(a) == me),
        (Some(_), Value::String(s)) if s == "$present" => true,
        (Some(a), e) => a == e || (!a.is_object() && !a.is_array() && scalar(a) == scalar(e)),
    }
}

/// A scalar's text, for loose comparisons and `map` keys (`"7"` and `7` are the same id).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One `destination = source` entry's source side.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ValueSpec {
    sources: Vec<Source>,
    constant: Option<Value>,
    default: Option<Value>,
    required: bool,
    hook: Option<ValueHook>,
    map: Option<BTreeMap<String, Value>>,
    pub(crate) shape: Option<String>,
    pluck: Option<Path>,
    conv: Option<Conv>,
    when: Cond,
    unless: Cond,
}

impl ValueSpec {
    pub(crate) fn from_source(source: Source) -> Self {
        Self { sources: vec![source], ..Self::default() }
    }

    pub(crate) fn with_shape(mut self, shape: &str) -> Self {
        self.shape = Some(shape.to_owned());
        self
    }

    fn parse(value: &toml::Value) -> Result<Self, String> {
        let table = match value {
            toml::Value::String(s) => return Ok(Self::from_source(Source::parse(s)?)),
            toml::Value::Table(t) => t,
            other => return Err(format!("a source must be a path or a table, not {other}")),
        };
        let mut spec = Self::default();
        for (key, v) in table {
            match key.as_str() {
                "from" => {
                    spec.sources = match v {
                        toml::Value::String(s) => vec![Source::parse(s)?],
                        toml::Value::Array(items) => items
                            .iter()
                            .map(|i| {
                                i.as_str().ok_or("`from` lists paths").map_err(String::from).and_then(Source::parse)
                            })
                            .collect::<Result<_, _>>()?,
                        _ => return Err("`from` must be a path or a list of paths".into()),
                    }
                }
                "value" => spec.constant = Some(to_json(v.clone())?),
                "default" => spec.default = Some(to_json(v.clone())?),
                "required" => spec.required = v.as_bool().ok_or("`required` must be true or false")?,
                "hook" => spec.hook = Some(ValueHook::parse(v.as_str().ok_or("`hook` must be a string")?)?),
                "map" => {
                    let t = v.as_table().ok_or("`map` must be a table")?;
                    let mut map = BTreeMap::new();
                    for (k, mv) in t {
                        map.insert(k.clone(), to_json(mv.clone())?);
                    }
                    spec.map = Some(map);
                }
                "shape" => spec.shape = Some(v.as_str().ok_or("`shape` must be a name")?.to_owned()),
                "pluck" => spec.pluck = Some(Path::parse(v.as_str().ok_or("`pluck` must be a path")?)?),
                "as" => spec.conv = Some(Conv::parse(v.as_str().ok_or("`as` must be a string")?)?),
                "when" => spec.when = Cond::parse(&v.as_table().map(to_btree).ok_or("`when` must be a table")?)?,
                "unless" => spec.unless = Cond::parse(&v.as_table().map(to_btree).ok_or("`unless` must be a table")?)?,
                other => return Err(format!("unknown key `{other}` in a source table")),
            }
        }
        if spec.sources.is_empty() && spec.constant.is_none() && spec.hook.is_none() {
            spec.sources.push(Source::Input(Path::parse("$")?));
        }
        Ok(spec)
    }

    /// The value for the destination, or `None` to leave it out.
    fn eval(&self, input: &Value, env: &Env<'_>, dest: &Path) -> Result<Option<Value>, DialectError> {
        if !self.when.is_empty() && !self.when.holds(input, env) {
            return Ok(None);
        }
        if !self.unless.is_empty() && self.unless.holds(input, env) {
            return Ok(None);
        }
        let found = match &self.constant {
            Some(c) => Some(c.clone()),
            None => self.sources.iter().find_map(|s| s.resolve(input, env)),
        };
        let blame = || self.sources.first().map_or_else(|| dest.display(), Source::display);
        let mut value = match found.or_else(|| self.default.clone()) {
            Some(v) => v,
            None if self.required && env.strict => {
                return Err(DialectError::MissingField { event: env.event.to_owned(), field: blame() });
            }
            None if self.hook.is_some() => Value::Null,
            None => return Ok(None),
        };
        if let Some(hook) = &self.hook {
            value = hooks::value_hook(hook, value, input);
        }
        if let Some(map) = &self.map {
            match map.get(&scalar(&value)).or_else(|| map.get("_")) {
                Some(mapped) => value = mapped.clone(),
                None if env.strict => {
                    let reason = format!("has an unexpected value {value}");
                    return Err(DialectError::BadField { event: env.event.to_owned(), field: blame(), reason });
                }
                None => {}
            }
        }
        if let Some(shape) = &self.shape {
            value = env.shape(shape, value)?;
        }
        if let Some(pluck) = &self.pluck {
            value = Value::Array(list(value).iter().filter_map(|v| pluck.get(v).cloned()).collect());
        }
        if let Some(conv) = self.conv {
            value = match conv.apply(value.clone()) {
                Ok(v) => v,
                Err(reason) if env.strict => {
                    return Err(DialectError::BadField {
                        event: env.event.to_owned(),
                        field: blame(),
                        reason: reason.into(),
                    });
                }
                Err(_) => value,
            };
        }
        Ok(Some(value))
    }
}

/// A table of `destination = source` entries (destinations sorted, so `$` and parents come first).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Mapping(pub(crate) Vec<(Path, ValueSpec)>);

impl Mapping {
    pub(crate) fn parse(table: &BTreeMap<String, toml::Value>) -> Result<Self, String> {
        let mut entries = Vec::with_capacity(table.len());
        for (dest, source) in table {
            let spec = ValueSpec::parse(source).map_err(|e| format!("`{dest}`: {e}"))?;
            entries.push((Path::parse(dest)?, spec));
        }
        Ok(Self(entries))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Shapes this mapping names, for checking that they exist.
    pub(crate) fn shapes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|(_, s)| s.shape.as_deref())
    }

    /// Builds the output from `input`; starts from an empty object.
    pub(crate) fn apply(&self, input: &Value, env: &Env<'_>) -> Result<Value, DialectError> {
        let mut out = Value::Object(Map::new());
        for (dest, spec) in &self.0 {
            if let Some(value) = spec.eval(input, env, dest)? {
                dest.set(&mut out, value);
            }
        }
        Ok(out)
    }
}

/// What a mapping runs with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    pub(crate) ctx: &'a Ctx,
    pub(crate) shapes: &'a BTreeMap<String, Mapping>,
    pub(crate) item: Option<&'a Value>,
    pub(crate) strict: bool,
    /// The event or route being mapped, for error messages.
    pub(crate) event: &'a str,
    pub(crate) depth: u8,
}

/// Shapes may name shapes; this bounds the nesting (a shape naming itself would otherwise recurse).
const MAX_DEPTH: u8 = 16;

impl Env<'_> {
    /// Applies a named shape to an object, or to each element of an array.
    fn shape(&self, name: &str, value: Value) -> Result<Value, DialectError> {
        let Some(mapping) = self.shapes.get(name) else { return Ok(value) };
        if self.depth >= MAX_DEPTH {
            return Err(DialectError::Payload { event: self.event.to_owned(), reason: "shapes nest too deep".into() });
        }
        let inner = Env { depth: self.depth + 1, ..*self };
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|v| if v.is_object() { mapping.apply(&v, &inner) } else { self.not_object(name, v) })
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Object(_) => mapping.apply(&value, &inner),
            other => self.not_object(name, other),
        }
    }

    /// A value a shape cannot apply to: an error inbound, passed as it is outbound.
    fn not_object(&self, name: &str, other: Value) -> Result<Value, DialectError> {
        match other {
            other if self.strict => Err(DialectError::Payload {
                event: self.event.to_owned(),
                reason: format!("expected an object for shape `{name}`, got {other}"),
            }),
            other => Ok(other),
        }
    }
}

/// TOML to JSON (TOML has no null; dates become strings).
pub(crate) fn to_json(value: toml::Value) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

pub(crate) fn to_btree(table: &toml::Table) -> BTreeMap<String, toml::Value> {
    table.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
