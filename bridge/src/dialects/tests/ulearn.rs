//! ulearnandearn (seed 002), with the seed's payloads.

use serde_json::Map;

use super::*;

fn d() -> Dialect {
    load("ulearn")
}

#[test]
fn every_client_event_maps() {
    let d = d();
    let media =
        json!([{"url": "https://example.com/image.jpg", "type": "image", "filename": "image.jpg", "size": 1_024_000}]);
    let cases = [
        ("join:conversation", json!({"conversationId": "5"}), "conversation:join", json!({"conversationId": 5})),
        ("leave:conversation", json!({"conversationId": "5"}), "conversation:leave", json!({"conversationId": 5})),
        ("typing:start", json!({"conversationId": "5"}), "typing:start", json!({"conversationId": 5})),
        ("typing:stop", json!({"conversationId": "5"}), "typing:stop", json!({"conversationId": 5})),
        (
            "message:read",
            json!({"messageIds": ["41", "42"], "conversationId": "5"}),
            "message:read",
            json!({"conversationId": 5, "messageIds": [41, 42]}),
        ),
        (
            "send:message",
            json!({"conversationId": "5", "text": "Hello!", "media": media, "messageType": "text", "replyTo": "40"}),
            "message:send",
            json!({
                "conversationId": 5, "text": "Hello!", "kind": "text", "replyTo": 40, "leaveReadState": true,
                "attachments": [{"url": "https://example.com/image.jpg", "kind": "image", "name": "image.jpg", "size": 1_024_000}]
            }),
        ),
    ];
    for (event, payload, canonical, expected) in cases {
        let i = inbound(&d, event, payload);
        assert_eq!((i.canonical.as_str(), &i.payload), (canonical, &expected), "{event}");
    }
    assert!(
        d.inbound("send:message", json!({"conversationId": "5", "media": [{"type": "image"}]})).is_err(),
        "media without url"
    );
    assert!(d.inbound("send:message", json!({"conversationId": "5", "text": "x", "messageType": "gif"})).is_err());
    assert!(d.inbound("message:read", json!({"conversationId": "5", "messageIds": [{}]})).is_err());
}

#[test]
fn message_sent_is_a_reply_event_and_errors_an_error_event() {
    let d = d();
    let i = inbound(&d, "send:message", json!({"conversationId": "5", "text": "Hello!"}));
    let reply = d.reply(&i, &ctx("me"), &message(41, 5, "me", "Hello!"));
    assert_eq!(reply.callback, None);
    assert_eq!(reply.emits.len(), 1);
    assert_eq!(reply.emits[0].event, "message:sent");
    assert_eq!(
        reply.emits[0].payload,
        Some(json!({"messageId": "41", "conversationId": "5", "status": "sent", "createdAt": NOW_ISO}))
    );
    let error = json!({"code": "RateLimited", "message": "Too many messages", "retryAfter": 30});
    let reply = d.reply_error(Some(&i), "send:message", &ctx("me"), &error);
    assert_eq!(reply.emits[0].event, "error");
    assert_eq!(reply.emits[0].payload.as_ref().unwrap()["message"], "Too many messages");
}

#[test]
fn server_events() {
    let d = d();
    let out = one(&d, "bob", "message:new", &message(41, 5, "alice", "Hello!"));
    assert_eq!(out.event, "new:message");
    let m = &out.payload.unwrap()["message"];
    assert_eq!(
        (m["_id"].clone(), m["conversationId"].clone(), m["text"].clone()),
        (json!("41"), json!("5"), json!("Hello!"))
    );
    assert_eq!(
        m["senderId"],
        json!({"_id": "alice", "firstName": "John", "lastName": "Doe", "name": "John Doe", "profileImage": "/uploads/profiles/john.jpg"})
    );
    assert_eq!(out.room.unwrap().name, "conversation:5");
    let receipt = |kind: &str| json!({"conversationId": 5, "userId": "bob", "kind": kind, "upToSeq": 9, "at": NOW, "messageId": 42, "messageIds": [41, 42]});
    let r = one(&d, "alice", "message:receipt", &receipt("delivered"));
    assert_eq!((r.event.as_str(), r.payload.unwrap()["messageId"].clone()), ("message:delivered", json!("42")));
    let r = one(&d, "alice", "message:receipt", &receipt("read"));
    assert_eq!(r.payload, Some(json!({"messageIds": ["41", "42"], "readBy": "bob", "conversationId": "5"})));
    let t = one(&d, "alice", "typing:start", &json!({"conversationId": 5, "userId": "bob"}));
    assert_eq!((t.event.as_str(), t.payload), ("typing:start", Some(json!({"userId": "bob", "conversationId": "5"}))));
    assert_eq!(one(&d, "alice", "typing:stop", &json!({"conversationId": 5, "userId": "bob"})).event, "typing:stop");
    assert_eq!(one(&d, "a", "presence:update", &json!({"userId": "bob", "status": "online"})).event, "user:online");
    let off =
        one(&d, "a", "presence:update", &json!({"userId": "bob", "status": "offline", "lastSeen": 1_234_567_890}));
    assert_eq!(
        (off.event.as_str(), off.payload),
        ("user:offline", Some(json!({"userId": "bob", "lastSeen": 1_234_567_890})))
    );
    let del =
        json!({"conversationId": 5, "messageId": 41, "seq": 3, "scope": "everyone", "deletedBy": "bob", "at": NOW});
    let out = one(&d, "a", "message:deleted", &del);
    assert_eq!(out.payload, Some(json!({"messageId": "41", "conversationId": "5", "deleteForEveryone": true})));
}

#[test]
fn rest_routes_and_envelopes() {
    let d = d();
    let q = Map::new();
    let call = d.rest("GET", "/api/chat/conversation/user_7", &q, &Value::Null).unwrap().unwrap();
    assert_eq!((call.canonical.as_str(), &call.payload), ("conversation:openDirect", &json!({"peerUserId": "user_7"})));
    let conv = conversation(5, "me", "user_7", Value::Null);
    let body = d.rest_response(&call, &ctx("me"), &json!({"conversation": conv, "created": false})).body;
    assert_eq!((body["success"].clone(), body["data"]["_id"].clone()), (json!(true), json!("5")));
    assert_eq!(body["data"]["participants"][1]["firstName"], "user_7");
    assert_eq!(body["data"]["isGroup"], false);

    let call = d.rest("GET", "/api/chat/conversations", &q, &Value::Null).unwrap().unwrap();
    let body = d.rest_response(&call, &ctx("me"), &json!({"conversations": [conv], "nextCursor": null})).body;
    assert_eq!(body["data"][0]["lastMessage"]["text"], "Hello!");

    let mut query = Map::new();
    query.insert("page".into(), json!("1"));
    query.insert("limit".into(), json!("50"));
    let call = d.rest("GET", "/api/chat/conversation/5/messages", &query, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"conversationId": 5, "limit": 50, "offset": 0}));
    let result = json!({"messages": [message(41, 5, "a", "x")], "hasMore": true, "total": 100});
    let body = d.rest_response(&call, &ctx("me"), &result).body;
    assert_eq!(body["pagination"], json!({"page": 1, "limit": 50, "total": 100}));
    assert_eq!(body["data"][0]["media"], json!([]));

    let send = json!({"conversationId": "5", "text": "Hello!", "messageType": "text", "replyTo": "40"});
    let call = d.rest("POST", "/api/chat/message", &q, &send).unwrap().unwrap();
    assert_eq!(
        (call.status, &call.payload),
        (201, &json!({"conversationId": 5, "text": "Hello!", "kind": "text", "replyTo": 40, "leaveReadState": true}))
    );
    let call = d.rest("DELETE", "/api/chat/message/41", &q, &json!({"deleteForEveryone": true})).unwrap().unwrap();
    assert_eq!(call.payload, json!({"messageId": 41, "scope": "everyone"}));
    let call = d.rest("DELETE", "/api/chat/message/41", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"messageId": 41, "scope": "me"}));
    let call = d.rest("POST", "/api/chat/messages/read", &q, &json!({"conversationId": "5"})).unwrap().unwrap();
    assert_eq!((call.canonical.as_str(), &call.payload), ("message:read", &json!({"conversationId": 5})));
    let call = d.rest("GET", "/api/chat/unread-count", &q, &Value::Null).unwrap().unwrap();
    let body = d.rest_response(&call, &ctx("me"), &json!({"total": 5, "conversations": []})).body;
    assert_eq!(body, json!({"success": true, "data": {"unreadCount": 5}}));
    let err = json!({"code": "RateLimited", "message": "Too many", "retryAfter": 30});
    assert_eq!(d.rest_error(&ctx("me"), 429, &err)["retryAfter"], 30);
}
