//! A legacy app's REST routes (its dialect's `[[rest.route]]`s): the request goes through
//! [`Dialect::rest`], the canonical operation runs ([`ops::run`], without a Socket.IO connection), and the answer comes back in the app's
//! own envelope ([`Dialect::rest_response`], [`Dialect::rest_error`]) with the status of the error code.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use quip_sdk::ErrorCode;
use serde_json::{Map, Value};

use crate::app::App;
use crate::auth;
use crate::error::ApiError;
use crate::json::Args;
use crate::ops::{self, Input};
use quip_dialect::{Ctx, Dialect};

/// The routes of `app`'s dialect. Path parameters are renamed by position (`{p0}`, `{p1}`): the dialect
/// matches the path itself, and legacy apps name the same position differently in different routes.
pub fn router(app: &App) -> Router<App> {
    let mut by_path: Vec<(String, MethodRouter<App>)> = Vec::new();
    for route in app.dialect().rest_routes() {
        let path = positional(&route.axum_path);
        let Some(filter) =
            Method::from_bytes(route.method.as_bytes()).ok().and_then(|m| MethodFilter::try_from(m).ok())
        else {
            continue;
        };
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).on(filter, handle),
            None => by_path.push((path, on(filter, handle))),
        }
    }
    // Routes that take files buffer the whole form: allow the largest file the media store accepts, plus
    // room for the form around it.
    let limit = usize::try_from(app.config().media.max_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20);
    by_path
        .into_iter()
        .fold(Router::new(), |r, (path, method_router)| r.route(&path, method_router))
        .layer(DefaultBodyLimit::max(limit))
}

/// The multipart form of a buffered body.
async fn multipart(headers: &HeaderMap, body: &[u8]) -> Result<Multipart, ApiError> {
    let mut request = Request::new(Body::from(body.to_vec()));
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        request.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::invalid(format!("expected a multipart/form-data body: {}", e.body_text())))
}

fn positional(axum_path: &str) -> String {
    let mut n = 0;
    axum_path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                n += 1;
                format!("{{p{}}}", n - 1)
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn handle(State(app): State<App>, method: Method, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let dialect = app.dialect().clone();
    match run(&app, &dialect, &method, &headers, &uri, &body).await {
        Ok(response) => response,
        Err(e) => e.response_with(dialect.rest_error(&Ctx::now(), e.status().as_u16(), &e.to_json())),
    }
}

async fn run(
    app: &App,
    dialect: &Dialect,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Response, ApiError> {
    let token =
        auth::from_sources(dialect.rest_token(), &Value::Null, headers, uri.query()).ok_or_else(auth::missing_token)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut files = Vec::new();
    let body = if content_type.starts_with("multipart/") {
        // Only someone quipd accepts may store files.
        let client = app.rest().client(&token).await?;
        let owner = crate::media::http::uploader(&client)?;
        let form = multipart(headers, body).await?;
        let max_files = app.config().media.max_files;
        let form = crate::media::http::read_form(app.media(), form, max_files, &owner).await?;
        files = form.files;
        let mut fields = form.fields;
        // The files are the route's attachments, whatever the app named its file part (`upload`).
        fields.insert("attachments".to_owned(), Value::Array(files.clone()));
        Value::Object(fields)
    } else if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("the body is not valid JSON: {e}")))?
    };
    let query: Map<String, Value> = super::query_pairs(uri.query())
        .into_iter()
        .filter(|(k, _)| k != "token")
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let call = dialect
        .rest(method.as_str(), uri.path(), &query, &body)?
        .ok_or_else(|| ApiError::not_found("no such route"))?;
    if !files.is_empty() && call.upload.is_none() {
        return Err(ApiError::new(ErrorCode::AttachmentNotAllowed, "this route takes no files"));
    }
    if ops::admin::is_admin(&call.canonical) {
        // An operators' route: quipd's admin token, not a user's session.
        let result = ops::admin::run(&call.canonical, app.quipd_admin(), &token).await?;
        return Ok(answer(dialect, &call, &Ctx::now(), &result));
    }
    let client = app.rest().client(&token).await?;
    let me = client.welcome().map(|w| w.user.id).unwrap_or_default();
    let input = Input { client: &client, args: Args::from_value(call.payload.clone())?, connection: None };
    let result = ops::run(&call.canonical, &input).await?;
    Ok(answer(dialect, &call, &Ctx::for_user(me), &result))
}

/// The route's answer in the app's envelope, with the route's status.
fn answer(dialect: &Dialect, call: &quip_dialect::RestCall, ctx: &Ctx, result: &Value) -> Response {
    let response = dialect.rest_response(call, ctx, result);
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    (status, axum::Json(response.body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renamed_by_position() {
        assert_eq!(positional("/api/chat/{chatId}/messages/{id}"), "/api/chat/{p0}/messages/{p1}");
        assert_eq!(positional("/api/chat/create"), "/api/chat/create");
    }
}
