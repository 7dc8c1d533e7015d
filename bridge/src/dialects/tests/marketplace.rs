//! The marketplace with notifications (seed 004), with the seed's payloads.

use super::*;

fn d() -> Dialect {
    load("marketplace")
}

#[test]
fn every_client_event_maps_with_callbacks() {
    let d = d();
    let cases = [
        ("join:conversation", json!("8"), "conversation:join", json!({"conversationId": 8})),
        ("leave:conversation", json!("8"), "conversation:leave", json!({"conversationId": 8})),
        ("typing:start", json!({"conversationId": "8"}), "typing:start", json!({"conversationId": 8})),
        ("typing:stop", json!({"conversationId": "8"}), "typing:stop", json!({"conversationId": 8})),
        ("conversation:get-online-users", json!("8"), "presence:online", json!({"conversationId": 8})),
        ("notification:read", json!(31), "notification:read", json!({"ids": [31]})),
        ("notifications:read-all", Value::Null, "notification:readAll", json!({})),
        ("user:get-status", json!("bob"), "presence:get", json!({"userIds": ["bob"]})),
        ("users:get-status", json!(["bob", "carol"]), "presence:get", json!({"userIds": ["bob", "carol"]})),
    ];
    for (event, payload, canonical, expected) in cases {
        let i = inbound(&d, event, payload);
        assert_eq!((i.canonical.as_str(), &i.payload), (canonical, &expected), "{event}");
    }
    let presences = json!([
        {"userId": "bob", "status": "away", "lastSeen": NOW, "devices": 0},
        {"userId": "carol", "status": "offline", "lastSeen": NOW, "devices": 0}
    ]);
    let i = inbound(&d, "conversation:get-online-users", json!("8"));
    assert_eq!(d.reply(&i, &ctx("me"), &presences).callback, Some(json!(["bob", "carol"])));
    assert_eq!(d.reply_error(Some(&i), "", &ctx("me"), &json!({"code": "NotFound"})).callback, Some(json!([])));
    let i = inbound(&d, "user:get-status", json!("bob"));
    assert_eq!(d.reply(&i, &ctx("me"), &presences).callback, Some(json!({"userId": "bob", "status": "online"})));
    let err = d.reply_error(Some(&i), "", &ctx("me"), &json!({"code": "Unavailable"}));
    assert_eq!(err.callback, Some(json!({"userId": "bob", "status": "offline"})));
    assert!(err.emits.is_empty(), "the seed has no error event");
    let i = inbound(&d, "users:get-status", json!(["bob", "carol"]));
    assert_eq!(
        d.reply(&i, &ctx("me"), &presences).callback,
        Some(json!([{"userId": "bob", "status": "online"}, {"userId": "carol", "status": "offline"}]))
    );
    assert!(d.inbound("users:get-status", json!([{"id": 1}])).is_err());
    assert!(d.inbound("notification:read", json!("abc")).is_err());
}

#[test]
fn server_events() {
    let d = d();
    let out = one(&d, "bob", "message:new", &message(41, 8, "alice", "Is it available?"));
    assert_eq!((out.event.as_str(), out.room.unwrap().name.as_str()), ("message:new", "conversation:8"));
    let p = out.payload.unwrap();
    assert_eq!((p["id"].clone(), p["conversationId"].clone()), (json!(41), json!(8)));
    assert_eq!((p["senderId"].clone(), p["content"].clone()), (json!("alice"), json!("Is it available?")));
    assert_eq!(p["sender"]["displayName"], "John Doe");
    let read =
        json!({"conversationId": 8, "userId": "bob", "kind": "read", "upToSeq": 3, "at": NOW, "messageIds": [40, 41]});
    let r = one(&d, "alice", "message:receipt", &read);
    assert_eq!(r.payload, Some(json!({"conversationId": 8, "messageIds": [40, 41], "userId": "bob", "upToSeq": 3})));
    let del =
        json!({"conversationId": 8, "messageId": 41, "seq": 3, "scope": "everyone", "deletedBy": "alice", "at": NOW});
    assert_eq!(one(&d, "bob", "message:deleted", &del).payload, Some(json!({"conversationId": 8, "messageId": 41})));
    let t = one(&d, "bob", "typing:start", &json!({"conversationId": 8, "userId": "alice", "expiresInMs": 6000}));
    assert_eq!(t.payload, Some(json!({"conversationId": 8, "userId": "alice"})));
    assert_eq!(one(&d, "bob", "typing:stop", &json!({"conversationId": 8, "userId": "alice"})).event, "typing:stop");
    let n = json!({"notification": {"id": 31, "kind": "order", "title": "Order shipped", "body": "Your order is on its way",
        "link": "/orders/5", "data": {"orderId": "5"}, "createdAt": NOW, "readAt": 0}, "unreadTotal": 4});
    let out = one(&d, "bob", "notification:new", &n);
    assert_eq!(
        out.payload,
        Some(json!({"id": 31, "type": "order", "title": "Order shipped", "message": "Your order is on its way",
            "link": "/orders/5", "data": {"orderId": "5"}, "isRead": false, "createdAt": NOW_ISO}))
    );
    let out =
        d.outbound_with(&ctx("bob"), "notification:read", &json!({"ids": [31, 32], "all": false, "unreadTotal": 2}));
    assert_eq!(out.iter().map(|o| o.payload.clone()).collect::<Vec<_>>(), vec![Some(json!(31)), Some(json!(32))]);
    let out = one(&d, "bob", "notification:read", &json!({"ids": [], "all": true, "unreadTotal": 0}));
    assert_eq!((out.event.as_str(), out.payload), ("notifications:read-all", None));
    let s = one(&d, "bob", "presence:update", &json!({"userId": "alice", "status": "busy", "lastSeen": NOW}));
    assert_eq!(
        (s.event.as_str(), s.payload),
        ("user:status-changed", Some(json!({"userId": "alice", "status": "online"})))
    );
    let routes: Vec<_> = d.rest_routes().map(|r| (r.method, r.pattern, r.canonical)).collect();
    assert_eq!(routes, [("GET", "/api/messages/unread-count", "unread:get")], "the seed's one polling route");
}
