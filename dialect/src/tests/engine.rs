//! The mapping engine on small hand-written dialects: conversions, conditions, hooks, errors.

use serde_json::Map;

use super::*;
use crate::{DialectError, RoomKind};

const SMALL: &str = r#"
name = "small"
[rooms]
conversation = "c_{id}"
[shapes.att]
link = "url"
[[inbound]]
event = "join"
canonical = "conversation:join"
hooks = ["bare_string:id"]
fields.conversationId = { from = "id", as = "id", required = true }
[[inbound]]
event = "send"
canonical = "message:send"
fields.conversationId = { from = ["room", "chat"], as = "id", required = true }
fields.text = { from = "body", as = "string", default = "" }
fields.kind = { from = "type", map = { text = "text", image = "image" } }
fields.attachments = { from = "files", shape = "att" }
fields."metadata.flag" = { from = "flag", as = "bool" }
[[outbound]]
canonical = "message:new"
event = "msg"
target = "conversation"
unless = { "sender.id" = "$me" }
fields._id = { from = "id", as = "string" }
fields.at = { from = "createdAt", as = "iso_time" }
fields.first = { from = "sender.displayName", as = "first_name" }
fields.last = { from = "sender.displayName", as = "last_name" }
fields.files = { from = "attachments", pluck = "url" }
fields.n = { from = "attachments", as = "count" }
[[outbound]]
canonical = "notification:read"
event = "read_one"
split = "ids"
fields."$" = "$item"
[error]
event = "oops"
fields.why = "message"
[rest]
error.ok = { value = false }
error.why = "message"
error.status = "status"
[[rest.route]]
method = "GET"
path = "/api/c/:id/messages"
canonical = "message:history"
hooks = ["paging:page:10"]
request.conversationId = { from = "id", as = "id", required = true }
request.limit = "limit"
request.offset = "offset"
response.items = { from = "result.messages", as = "reverse" }
response.pages = { hook = "page_info:messages" }
"#;

#[test]
fn inbound_converts_and_validates() {
    let d = dialect(SMALL);
    let i = inbound(&d, "join", json!("42"));
    assert_eq!((i.canonical.as_str(), i.payload.clone()), ("conversation:join", json!({"conversationId": 42})));
    assert_eq!(inbound(&d, "join", json!({"id": 7})).payload, json!({"conversationId": 7}));
    let i = inbound(&d, "send", json!({"chat": "9", "type": "image", "files": [{"url": "u"}], "flag": "true"}));
    assert_eq!(
        i.payload,
        json!({"conversationId": 9, "text": "", "kind": "image", "attachments": [{"link": "u"}], "metadata": {"flag": true}})
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let d = dialect(SMALL);
    let err = |event: &str, payload: Value| d.inbound(event, payload).unwrap_err();
    assert_eq!(err("nope", json!({})), DialectError::UnknownEvent("nope".into()));
    assert!(matches!(err("join", json!([1])), DialectError::Payload { .. }));
    assert!(matches!(err("join", json!(true)), DialectError::Payload { .. }));
    assert!(matches!(err("join", json!("abc")), DialectError::BadField { .. }));
    assert!(matches!(err("join", json!("0")), DialectError::BadField { .. }));
    assert!(matches!(err("join", json!({"id": {"x": 1}})), DialectError::BadField { .. }));
    assert!(matches!(err("join", Value::Null), DialectError::MissingField { .. }));
    assert!(matches!(err("send", json!("text")), DialectError::Payload { .. }));
    assert!(matches!(err("send", json!({})), DialectError::MissingField { ref field, .. } if field == "room"));
    assert!(matches!(err("send", json!({"room": 1, "type": "gif"})), DialectError::BadField { .. }));
    assert!(matches!(err("send", json!({"room": 1, "body": ["x"]})), DialectError::BadField { .. }));
    assert!(matches!(err("send", json!({"room": 1, "files": ["x"]})), DialectError::Payload { .. }));
    assert!(matches!(err("send", json!({"room": 1, "flag": "maybe"})), DialectError::BadField { .. }));
    assert_eq!(err("send", json!({})).field(), Some("room"));
}

#[test]
fn outbound_conditions_conversions_rooms_and_splits() {
    let d = dialect(SMALL);
    let mut m = message(12, 3, "alice", "hi");
    m["sender"]["displayName"] = json!("Ada Lovelace King");
    m["attachments"] = json!([{"url": "a"}, {"url": "b"}]);
    assert!(d.outbound_with(&ctx("alice"), "message:new", &m).is_empty(), "not to the sender");
    let out = one(&d, "bob", "message:new", &m);
    assert_eq!(out.event, "msg");
    assert_eq!(
        out.payload,
        Some(json!({"_id": "12", "at": NOW_ISO, "first": "Ada", "last": "Lovelace King", "files": ["a", "b"], "n": 2}))
    );
    let room = out.room.unwrap();
    assert_eq!((room.kind, room.id.as_str(), room.name.as_str()), (RoomKind::Conversation, "3", "c_3"));
    let out = d.outbound_with(&ctx("bob"), "notification:read", &json!({"ids": [4, 5], "all": false}));
    let payloads: Vec<_> = out.iter().map(|o| o.payload.clone()).collect();
    assert_eq!(payloads, vec![Some(json!(4)), Some(json!(5))]);
    assert_eq!(out[0].room.as_ref().map(|r| r.name.as_str()), Some("user:bob"));
    assert!(d.outbound("typing:start", &json!({})).is_empty(), "unmapped events are dropped");
    // Lenient: a value that does not convert passes as it is.
    let odd = json!({"id": [1], "createdAt": "yesterday", "conversationId": 3, "sender": {"id": "x"}});
    assert_eq!(one(&d, "bob", "message:new", &odd).payload.unwrap()["_id"], json!([1]));
}

#[test]
fn errors_and_replies() {
    let d = dialect(SMALL);
    let error = json!({"code": "NotFound", "message": "no such conversation"});
    let i = inbound(&d, "join", json!(1));
    let reply = d.reply_error(Some(&i), "join", &ctx("bob"), &error);
    assert_eq!(reply.callback, None);
    assert_eq!(reply.emits[0].event, "oops");
    assert_eq!(reply.emits[0].payload, Some(json!({"why": "no such conversation"})));
    assert_eq!(d.reply(&i, &ctx("bob"), &json!({})), crate::Reply::default());
    assert_eq!(
        d.rest_error(&ctx("bob"), 404, &error),
        json!({"ok": false, "why": "no such conversation", "status": 404})
    );
    let canonical = identity();
    assert_eq!(canonical.rest_error(&ctx("b"), 404, &error), json!({"success": false, "error": error}));
}

#[test]
fn rest_routes_paging_and_envelopes() {
    let d = dialect(SMALL);
    let mut query = Map::new();
    query.insert("page".into(), json!("3"));
    let call = d.rest("get", "/api/c/5/messages/", &query, &Value::Null).unwrap().unwrap();
    assert_eq!(call.canonical, "message:history");
    assert_eq!(call.payload, json!({"conversationId": 5, "limit": 10, "offset": 20}));
    let result = json!({"messages": [{"id": 2}, {"id": 1}], "hasMore": true});
    let response = d.rest_response(&call, &ctx("u"), &result);
    assert_eq!(response.status, 200);
    assert_eq!(response.body["items"], json!([{"id": 1}, {"id": 2}]));
    assert_eq!(
        response.body["pages"],
        json!({"page": 3, "limit": 10, "offset": 20, "count": 2, "total": 32, "totalPages": 4, "hasMore": true})
    );
    assert_eq!(d.rest("POST", "/api/c/5/messages", &query, &Value::Null), Ok(None));
    assert_eq!(d.rest("GET", "/api/c/5", &query, &Value::Null), Ok(None));
    assert!(d.rest("GET", "/api/c/x/messages", &Map::new(), &Value::Null).is_err());
    assert!(d.rest("GET", "/api/c/5/messages", &Map::new(), &json!([1])).is_err());
    query.insert("page".into(), json!("two"));
    assert!(matches!(d.rest("GET", "/api/c/5/messages", &query, &Value::Null), Err(DialectError::BadField { .. })));
    let routes: Vec<_> = d.rest_routes().map(|r| r.axum_path).collect();
    assert_eq!(routes, vec!["/api/c/{id}/messages"]);
    let call = d.rest("GET", "/api/c/%35/messages", &Map::new(), &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload["conversationId"], 5);
}

#[test]
fn bad_definitions_are_refused_at_load() {
    let bad = [
        "name = \"x\"\n[[inbound]]\nevent = \"e\"\ncanonical = \"not:canonical\"",
        "name = \"x\"\n[[outbound]]\nevent = \"e\"\ncanonical = \"message:send\"",
        "name = \"x\"\n[[inbound]]\nevent = \"e\"\ncanonical = \"typing:start\"\nhooks = [\"envelope:t\"]",
        "name = \"x\"\n[[outbound]]\nevent = \"e\"\ncanonical = \"message:new\"\nhooks = [\"no_args\"]",
        "name = \"x\"\n[[inbound]]\nevent = \"e\"\ncanonical = \"typing:start\"\nhooks = [\"nope\"]",
        "name = \"x\"\n[[outbound]]\nevent = \"e\"\ncanonical = \"message:new\"\nshape = \"missing\"",
        "name = \"x\"\n[[outbound]]\nevent = \"e\"\ncanonical = \"message:new\"\ntarget = \"room\"",
        "name = \"x\"\n[[inbound]]\nevent = \"e\"\ncanonical = \"typing:start\"\nfields.a = { form = \"b\" }",
        "name = \"x\"\n[[inbound]]\nevent = \"e\"\ncanonical = \"typing:start\"\nfields.a = { as = \"uuid\" }",
        "name = \"x\"\n[rooms]\nuser = \"user\"",
        "name = \"x\"\n[connect]\ntoken = [\"body.token\"]",
        "name = \"x\"\n[[rest.route]]\nmethod = \"FETCH\"\npath = \"/a\"\ncanonical = \"noop\"",
        "name = \"x\"\n[[rest.route]]\nmethod = \"GET\"\npath = \"a\"\ncanonical = \"noop\"",
        "name = \"x\"\nunknown = 1",
        "name = ",
        "name = \"\"",
    ];
    for text in bad {
        assert!(try_dialect(text).is_err(), "{text}");
    }
}

#[test]
fn shapes_that_name_themselves_stop() {
    let d = dialect(
        "name = \"x\"\n[shapes.loop]\nnext = { from = \"next\", shape = \"loop\" }\n[[outbound]]\nevent = \"e\"\n\
         canonical = \"message:new\"\nshape = \"loop\"",
    );
    let mut deep = json!({});
    for _ in 0..40 {
        deep = json!({ "next": deep });
    }
    assert!(d.outbound("message:new", &deep).is_empty());
    assert_eq!(d.outbound("message:new", &json!({"next": {}})).len(), 1);
}

#[test]
fn canonical_dialect_is_the_identity() {
    let d = identity();
    assert!(d.is_identity());
    let i = inbound(&d, "message:send", json!({"conversationId": 1, "text": "x"}));
    assert_eq!((i.canonical.as_str(), &i.payload), ("message:send", &json!({"conversationId": 1, "text": "x"})));
    assert_eq!(inbound(&d, "ping", Value::Null).payload, json!({}));
    assert!(d.inbound("message:send", json!("x")).is_err());
    let out = one(&d, "u", "message:new", &json!({"id": 1}));
    assert_eq!((out.event.as_str(), out.payload), ("message:new", Some(json!({"id": 1}))));
    assert_eq!(d.rest("GET", "/api/v1/conversations", &Map::new(), &Value::Null), Ok(None));
}
