//! REST: a legacy route (method and path pattern) to a canonical operation with its arguments, and the
//! operation's result or error back to the legacy response envelope.

use serde_json::{Map, Value, json};

use super::error::DialectError;
use super::hooks::{self, Hook};
use super::mapping::Mapping;
use super::{Ctx, Dialect};

/// One path segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Param(String),
}

/// One `[[rest.route]]`.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) pattern: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) canonical: String,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) status: u16,
    pub(crate) upload: Option<String>,
    pub(crate) request: Mapping,
    pub(crate) response: Mapping,
}

impl Route {
    pub(crate) fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
        if !pattern.starts_with('/') {
            return Err(format!("route path {pattern:?} must start with /"));
        }
        pattern
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix(':') {
                Some("") => Err(format!("route path {pattern:?} has an unnamed parameter")),
                Some(name) => Ok(Segment::Param(name.to_owned())),
                None => Ok(Segment::Literal(s.to_owned())),
            })
            .collect()
    }

    /// The path parameters when `path` matches this route.
    fn matches(&self, method: &str, path: &str) -> Option<Map<String, Value>> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let parts: Vec<&str> = path.split('?').next().unwrap_or("").split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), Value::String(percent_decode(part)?));
                }
            }
        }
        Some(params)
    }
}

/// A legacy REST request mapped to a canonical operation.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCall {
    /// The canonical operation (one of [`super::canonical::OPERATIONS`]).
    pub canonical: String,
    /// Its canonical arguments: a JSON object.
    pub payload: Value,
    /// The HTTP status of a success (the legacy app's 200 or 201).
    pub status: u16,
    /// For multipart routes: the form field that carries the files. The core stores them and passes them
    /// to [`Dialect::rest`] as `attachments` (canonical attachment objects) in the body, with the form's
    /// text fields.
    pub upload: Option<String>,
    pub(crate) route: usize,
}

/// A legacy REST response.
#[derive(Debug, Clone, PartialEq)]
pub struct RestResponse {
    pub status: u16,
    pub body: Value,
}

/// A route of the dialect, for the core to register or list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo<'a> {
    pub method: &'a str,
    /// The pattern as the legacy docs write it (`/api/chat/conversations/:id`).
    pub pattern: &'a str,
    /// The same in axum's syntax (`/api/chat/conversations/{id}`).
    pub axum_path: String,
    pub canonical: &'a str,
    pub upload: Option<&'a str>,
}

impl Dialect {
    /// Maps a legacy REST request: `Ok(None)` when no route of the dialect matches (the core answers 404
    /// or tries its own routes). `query` holds the query parameters; `body` the parsed JSON body (or the
    /// form fields of a multipart request), `Value::Null` when there is none. Path parameters win over
    /// query parameters, which win over body fields.
    pub fn rest(
        &self,
        method: &str,
        path: &str,
        query: &Map<String, Value>,
        body: &Value,
    ) -> Result<Option<RestCall>, DialectError> {
        let Some((index, route, params)) =
            self.rest.iter().enumerate().find_map(|(i, r)| r.matches(method, path).map(|p| (i, r, p)))
        else {
            return Ok(None);
        };
        let label = format!("{} {}", route.method, route.pattern);
        let mut merged = match body {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                let reason = format!("the body must be a JSON object, not {}", hooks::kind(other));
                return Err(DialectError::Payload { event: label, reason });
            }
        };
        merged.extend(query.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.extend(params);
        let prepared = route.hooks.iter().try_fold(Value::Object(merged), |p, h| h.inbound(p, &label))?;
        let ctx = Ctx::default();
        let payload = route.request.apply(&prepared, &self.env(&ctx, &label, true))?;
        Ok(Some(RestCall {
            canonical: route.canonical.clone(),
            payload,
            status: route.status,
            upload: route.upload.clone(),
            route: index,
        }))
    }

    /// The legacy response for a call that succeeded with the canonical `result`.
    pub fn rest_response(&self, call: &RestCall, ctx: &Ctx, result: &Value) -> RestResponse {
        let Some(route) = self.rest.get(call.route) else {
            return RestResponse { status: call.status, body: result.clone() };
        };
        if route.response.is_empty() {
            return RestResponse { status: call.status, body: result.clone() };
        }
        let input = json!({ "request": call.payload, "result": result });
        let label = format!("{} {}", route.method, route.pattern);
        let body = route.response.apply(&input, &self.env(ctx, &label, false)).unwrap_or_else(|_| result.clone());
        RestResponse { status: call.status, body }
    }

    /// The legacy error body for a canonical error object `{code, message, retryAfter?, field?}` answered
    /// with HTTP `status`; the canonical `{success: false, error}` when the dialect says nothing.
    pub fn rest_error(&self, ctx: &Ctx, status: u16, error: &Value) -> Value {
        let canonical = json!({ "success": false, "error": error });
        let Some(mapping) = &self.rest_error else { return canonical };
        let mut input = error.clone();
        if let Value::Object(map) = &mut input {
            map.insert("status".into(), Value::from(status));
        }
        mapping.apply(&input, &self.env(ctx, "error", false)).unwrap_or(canonical)
    }

    /// The dialect's routes, in matching order.
    pub fn rest_routes(&self) -> impl Iterator<Item = RouteInfo<'_>> {
        self.rest.iter().map(|r| RouteInfo {
            method: &r.method,
            pattern: &r.pattern,
            axum_path: r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => format!("/{l}"),
                    Segment::Param(p) => format!("/{{{p}}}"),
                })
                .collect(),
            canonical: &r.canonical,
            upload: r.upload.as_deref(),
        })
    }
}

/// `%XX` decoding of one path segment; `None` when it is not valid UTF-8 afterwards.
fn percent_decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
