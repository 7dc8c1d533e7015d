//! `/api/openapi.json`: the OpenAPI 3.1 document of the REST API, built from the same route table as the
//! router (so every route is documented and nothing documented is missing).

use serde_json::{Map, Value, json};

use super::routes::{ROUTES, Route, Shape};
use crate::error::status_of;
use quip_sdk::ErrorCode;

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let path = format!("/api/v1{}", route.path);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[route.method.name()] = operation(route);
    }
    paths.insert("/api/v1/media".to_owned(), media_upload());
    let mut error_codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
    error_codes.sort_unstable();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Quip bridge REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The canonical REST API of quip-bridge (docs/BRIDGE.md). Every answer is an envelope: \
                {success: true, data, pagination?} or {success: false, error: {code, message, retryAfter?}}. \
                Authenticate with Authorization: Bearer <JWT>, an x-auth-token header or a token query parameter.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "xAuthToken": [] }, { "tokenQuery": [] }],
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "xAuthToken": { "type": "apiKey", "in": "header", "name": "x-auth-token" },
                "tokenQuery": { "type": "apiKey", "in": "query", "name": "token" },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["success", "error"],
                    "properties": {
                        "success": { "const": false },
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": { "type": "string", "enum": error_codes },
                                "message": { "type": "string" },
                                "retryAfter": { "type": "integer", "description": "seconds (with RateLimited, Unavailable)" },
                                "field": { "type": "string" },
                            },
                        },
                    },
                },
                "Pagination": {
                    "type": "object",
                    "properties": {
                        "nextCursor": { "type": ["integer", "string", "null"] },
                        "hasMore": { "type": "boolean" },
                        "limit": { "type": "integer" },
                    },
                },
            },
        },
    })
}

fn operation(route: &Route) -> Value {
    let mut parameters: Vec<Value> = path_params(route.path)
        .into_iter()
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    parameters.extend(
        route
            .query
            .iter()
            .map(|name| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } })),
    );
    let data_schema = match route.shape {
        Shape::Plain => json!({}),
        Shape::Paged(_) => json!({ "type": "array", "items": {} }),
    };
    let mut success = json!({
        "type": "object",
        "required": ["success", "data"],
        "properties": { "success": { "const": true }, "data": data_schema },
    });
    if matches!(route.shape, Shape::Paged(_)) {
        success["properties"]["pagination"] = json!({ "$ref": "#/components/schemas/Pagination" });
    }
    let mut responses = Map::new();
    responses.insert(
        route.status.as_u16().to_string(),
        json!({ "description": "success", "content": { "application/json": { "schema": success } } }),
    );
    let error = json!({ "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    for (code, description) in [
        (ErrorCode::InvalidArgument, "invalid argument"),
        (ErrorCode::Unauthenticated, "no token, or quipd refused it"),
        (ErrorCode::Forbidden, "not allowed (not a member, blocked)"),
        (ErrorCode::NotFound, "no such conversation, message or route"),
        (ErrorCode::Conflict, "the state changed (edit window closed, call answered)"),
        (ErrorCode::PayloadTooLarge, "text or body over the limit"),
        (ErrorCode::RateLimited, "too many requests; Retry-After says when to retry"),
        (ErrorCode::Unavailable, "quipd unreachable or draining; Retry-After when known"),
    ] {
        let mut response = error.clone();
        response["description"] = json!(description);
        if matches!(code, ErrorCode::RateLimited | ErrorCode::Unavailable) {
            response["headers"] =
                json!({ "Retry-After": { "schema": { "type": "integer" }, "description": "seconds" } });
        }
        responses.insert(status_of(code).as_u16().to_string(), response);
    }
    let mut op = json!({
        "operationId": operation_id(route),
        "summary": route.summary,
        "x-quip-operation": route.op.name(),
        "parameters": parameters,
        "responses": Value::Object(responses),
    });
    if !route.body.is_empty() {
        let properties: Map<String, Value> = route.body.iter().map(|f| ((*f).to_owned(), json!({}))).collect();
        op["requestBody"] = json!({
            "required": false,
            "content": { "application/json": { "schema": { "type": "object", "properties": properties } } },
        });
    }
    op
}

/// The `{name}` parameters of an axum path.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn operation_id(route: &Route) -> String {
    let mut id = route.method.name().to_owned();
    for seg in route.path.split('/').filter(|s| !s.is_empty()) {
        let word = seg.trim_start_matches('{').trim_end_matches('}');
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.extend(chars.filter(|c| c.is_ascii_alphanumeric()));
        }
    }
    id
}

/// `POST /api/v1/media` (served beside the table: its body is a multipart form, not JSON).
fn media_upload() -> Value {
    json!({ "post": {
        "summary": "Upload one file (multipart/form-data, the part with a filename); its type is judged on its bytes",
        "operationId": "media:upload",
        "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
            "type": "object", "properties": { "file": { "type": "string", "format": "binary" } } } } } },
        "responses": {
            "201": { "description": "{success, data: {id, kind, url (signed, expiring), mime, name, size, expiresAt}}: put `data` in a message's `attachments`" },
            "400": { "description": "no file in the form" },
            "401": { "description": "no or invalid token" },
            "413": { "description": "over media.max_bytes (PayloadTooLarge)" },
            "415": { "description": "a type not in media.allowed_types (AttachmentNotAllowed)" },
        },
    } })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_route_is_documented_once_with_its_parameters() {
        let doc = document();
        let text = serde_json::to_string(&doc).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["openapi"], "3.1.0");
        let mut ids = HashSet::new();
        for route in ROUTES {
            let op = &parsed["paths"][format!("/api/v1{}", route.path)][route.method.name()];
            assert!(op.is_object(), "{} {} missing", route.method.name(), route.path);
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "duplicate id for {}", route.path);
            let names: Vec<&str> =
                op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            for p in path_params(route.path) {
                assert!(names.contains(&p), "{} lacks {p}", route.path);
            }
            assert!(op["responses"]["401"].is_object());
        }
    }
}
