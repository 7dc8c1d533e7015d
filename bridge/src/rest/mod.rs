//! The canonical REST API under `/api/v1` (table in [`routes`]), answering with the seeds' envelope:
//! `{success: true, data[, pagination]}` or `{success: false, error: {code, message, retryAfter?}}` with
//! the HTTP status of the error code (`error::status_of`), plus `/api/openapi.json`.

pub mod dialect;
pub mod openapi;
pub mod routes;
pub mod target;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, on};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::auth;
use crate::error::ApiError;
use crate::json::{self, Args};
use crate::ops::{self, Input};
use routes::{Route, Shape};
use target::{Resolved, Target};

/// The `/api` router.
pub fn router() -> Router<App> {
    let mut by_path: Vec<(&'static str, MethodRouter<App>)> = Vec::new();
    for r in routes::ROUTES {
        let handler = move |state: State<App>,
                            headers: HeaderMap,
                            uri: Uri,
                            path: Result<RawPathParams, RawPathParamsRejection>,
                            body: Bytes| {
            let params: HashMap<String, String> =
                path.map(|p| p.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()).unwrap_or_default();
            handle(r, state, headers, uri, params, body)
        };
        let filter =
            axum::routing::MethodFilter::try_from(r.method.method()).unwrap_or(axum::routing::MethodFilter::GET);
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).on(filter, handler),
            None => by_path.push((r.path, on(filter, handler))),
        }
    }
    let mut v1 = Router::new();
    for (path, method_router) in by_path {
        v1 = v1.route(path, method_router);
    }
    // Uploads may be larger than the default body limit: the media store enforces `media.max_bytes`
    // while the file streams in, this only bounds the form around it.
    let media = axum::routing::post(crate::media::http::upload).layer(axum::extract::DefaultBodyLimit::disable());
    v1 = v1.route("/media", media);
    Router::new().nest("/v1", v1.fallback(not_found)).route("/openapi.json", get(openapi_json)).fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route (see /api/openapi.json)")
}

async fn openapi_json() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], axum::Json(openapi::document())).into_response()
}

async fn handle(
    route: &'static Route,
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    params: HashMap<String, String>,
    body: Bytes,
) -> Response {
    match run(route, &app, &headers, &uri, params, &body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn run(
    route: &Route,
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    params: HashMap<String, String>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let token = auth::token_from_request(headers, uri.query()).ok_or_else(auth::missing_token)?;
    let mut args = parse_body(body)?;
    for (key, value) in query_pairs(uri.query()) {
        if key != "token" && args.get(&key).is_none() {
            args.set(&key, value);
        }
    }
    for (key, value) in params {
        args.set(&key, value);
    }
    let client = app.rest().client(&token).await?;
    let mut status = route.status;
    let data = match route.op.resolve(&mut args)? {
        Resolved::Profile => {
            let welcome =
                client.welcome().ok_or_else(|| ApiError::new(quip_sdk::ErrorCode::Unavailable, "no session"))?;
            json::user_profile(&welcome.user)
        }
        Resolved::Run(op) => {
            let result = run_op(&client, op, args.clone()).await?;
            // An existing direct conversation is found, not created.
            if route.op == Target::CreateConversation && result["created"] == json!(false) {
                status = StatusCode::OK;
            }
            result
        }
    };
    Ok(envelope(status, route.shape, &args, data))
}

/// Runs a canonical operation for a REST caller (no Socket.IO connection).
async fn run_op(client: &quip_sdk::Client, op: &str, args: Args) -> Result<Value, ApiError> {
    ops::run(op, &Input { client, args, connection: None }).await
}

/// The JSON body as arguments (empty body: none).
pub fn parse_body(body: &[u8]) -> Result<Args, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Args::default());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("the body is not valid JSON: {e}")))?;
    Args::from_value(value)
}

pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else { return Vec::new() };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let key = pair.split('=').next()?;
            Some((key.to_owned(), auth::query_param(Some(pair), key)?))
        })
        .collect()
}

/// `{success: true, data[, pagination]}`.
fn envelope(status: StatusCode, shape: Shape, args: &Args, data: Value) -> Response {
    let body = match shape {
        Shape::Plain => json!({ "success": true, "data": data }),
        Shape::Paged(key) => {
            let Value::Object(mut result) = data else {
                return (status, axum::Json(json!({ "success": true, "data": data }))).into_response();
            };
            let items = result.remove(key).unwrap_or_else(|| json!([]));
            let next_cursor = result.remove("nextCursor").unwrap_or(Value::Null);
            result.remove("hasMore");
            let limit = args.u32_or("limit", ops::DEFAULT_PAGE).unwrap_or(ops::DEFAULT_PAGE).clamp(1, ops::MAX_PAGE);
            let pagination = json!({
                "nextCursor": next_cursor.clone(),
                "hasMore": !next_cursor.is_null(),
                "limit": limit,
            });
            let mut body = Map::new();
            body.insert("success".into(), json!(true));
            body.insert("data".into(), items);
            body.insert("pagination".into(), pagination);
            if !result.is_empty() {
                body.insert("meta".into(), Value::Object(result));
            }
            Value::Object(body)
        }
    };
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_results_get_the_envelope_pagination() {
        let data = json!({ "messages": [1, 2], "nextCursor": 7, "hasMore": true, "conversationId": 3 });
        let args = Args::from_value(json!({"limit": "2"})).unwrap();
        let response = envelope(StatusCode::OK, Shape::Paged("messages"), &args, data);
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[test]
    fn query_pairs_are_decoded() {
        assert_eq!(
            query_pairs(Some("a=1&b=x%20y&&c")),
            vec![("a".into(), "1".into()), ("b".into(), "x y".into()), ("c".into(), String::new())]
        );
        assert!(parse_body(b"  ").unwrap().get("x").is_none());
        assert!(parse_body(b"[1]").is_err());
        assert!(parse_body(b"{oops").is_err());
    }
}
