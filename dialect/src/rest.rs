//! REST: a legacy route (method and path pattern) to a canonical operation with its arguments, and the
//! operation's result or error back to the legacy response envelope.

use serde_json::{Map, Value, json};

use super::ctx::Ctx;
use super::error::DialectError;
use super::hooks;
use super::model::Dialect;
use super::rules::Segment;

/// A legacy REST request mapped to a canonical operation.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCall {
    /// The canonical operation (one of the host's [`crate::Vocabulary`]).
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
