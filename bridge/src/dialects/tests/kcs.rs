//! KCS school chat (seed 003), with the seed's payloads.

use serde_json::Map;

use super::*;

fn d() -> Dialect {
    load("kcs")
}

#[test]
fn every_client_event_maps_and_replies_by_event() {
    let d = d();
    let i = inbound(&d, "join-chat-rooms", json!({"roomIds": ["123", "456", "789"]}));
    assert_eq!((i.canonical.as_str(), &i.payload), ("conversation:join", &json!({"conversationIds": [123, 456, 789]})));
    let reply = d.reply(&i, &ctx("me"), &json!({}));
    assert_eq!(reply.emits[0].event, "chat-rooms-joined");
    assert_eq!(
        reply.emits[0].payload,
        Some(json!({"success": true, "rooms": ["123", "456", "789"], "message": "Successfully joined chat rooms"}))
    );
    assert_eq!(inbound(&d, "leave-chat-room", json!({"roomId": "456"})).payload, json!({"conversationId": 456}));
    let i = inbound(&d, "chat-typing", json!({"roomId": "456", "isTyping": true}));
    assert_eq!((i.canonical.as_str(), &i.payload), ("typing:start", &json!({"conversationId": 456})));
    assert_eq!(inbound(&d, "chat-typing", json!({"roomId": "456", "isTyping": false})).canonical, "typing:stop");

    let i = inbound(&d, "mark-messages-seen", json!({"roomId": "456", "messageIds": ["123", "124"]}));
    assert_eq!(
        (i.canonical.as_str(), &i.payload),
        ("message:read", &json!({"conversationId": 456, "messageIds": [123, 124]}))
    );
    let reply = d.reply(&i, &ctx("me"), &json!({}));
    assert_eq!(reply.emits[0].event, "messages-seen-acknowledged");
    assert_eq!(reply.emits[0].payload.as_ref().unwrap()["messageIds"], json!(["123", "124"]));

    let i = inbound(&d, "update-chat-status", json!({"status": "busy"}));
    assert_eq!((i.canonical.as_str(), &i.payload), ("presence:set", &json!({"status": "busy"})));
    assert!(d.inbound("update-chat-status", json!({"status": "offline"})).is_err());

    let i = inbound(&d, "get-room-online-users", json!({"roomId": "456"}));
    assert_eq!((i.canonical.as_str(), &i.payload), ("presence:online", &json!({"conversationId": 456})));
    let online = json!([
        {"userId": "user_001", "status": "online", "lastSeen": NOW, "displayName": "John Doe", "fields": {"userType": "Teacher"}},
        {"userId": "user_002", "status": "online", "lastSeen": NOW, "displayName": null, "fields": {}}
    ]);
    let reply = d.reply(&i, &ctx("me"), &online);
    assert_eq!(reply.emits[0].event, "room-online-users");
    assert_eq!(
        reply.emits[0].payload,
        Some(json!({"roomId": "456", "count": 2, "users": [
            {"userId": "user_001", "userName": "John Doe", "userType": "Teacher", "status": "online"},
            {"userId": "user_002", "userName": "user_002", "userType": "", "status": "online"}
        ]}))
    );
    assert!(d.inbound("join-chat-rooms", json!({"roomIds": "room_123"})).is_err(), "ids must be Quip ids");
}

#[test]
fn envelopes_and_server_events() {
    let d = d();
    let out = one(&d, "bob", "message:new", &message(123, 456, "user_001", "Hello everyone!"));
    assert_eq!((out.event.as_str(), out.room.unwrap().name.as_str()), ("new-chat-message", "456"));
    let p = out.payload.unwrap();
    assert_eq!((p["type"].clone(), p["timestamp"].clone()), (json!("new_message"), json!(NOW_ISO)));
    assert_eq!(
        (p["data"]["id"].clone(), p["data"]["room_id"].clone(), p["data"]["sender_id"].clone()),
        (json!("123"), json!("456"), json!("user_001"))
    );
    assert_eq!(
        (p["data"]["content"].clone(), p["data"]["message_type"].clone()),
        (json!("Hello everyone!"), json!("text"))
    );
    assert_eq!(p["data"]["created_at"], NOW_ISO);

    let t = one(
        &d,
        "bob",
        "typing:start",
        &json!({"conversationId": 456, "userId": "user_001", "displayName": "John Doe"}),
    );
    assert_eq!(
        t.payload,
        Some(
            json!({"userId": "user_001", "userName": "John Doe", "roomId": "456", "isTyping": true, "timestamp": NOW_ISO})
        )
    );
    let t = one(&d, "bob", "typing:stop", &json!({"conversationId": 456, "userId": "user_001"}));
    assert_eq!(
        (t.payload.as_ref().unwrap()["isTyping"].clone(), t.payload.unwrap()["userName"].clone()),
        (json!(false), json!("user_001"))
    );

    let seen = json!({"conversationId": 456, "userId": "user_002", "kind": "read", "upToSeq": 9, "at": NOW, "messageIds": [123, 124]});
    let s = one(&d, "user_001", "message:receipt", &seen);
    assert_eq!(
        s.payload,
        Some(json!({"userId": "user_002", "roomId": "456", "messageIds": ["123", "124"], "timestamp": NOW_ISO}))
    );

    let del = json!({"conversationId": 456, "messageId": 123, "seq": 3, "scope": "everyone", "deletedBy": "user_001", "at": NOW});
    let out = one(&d, "bob", "message:deleted", &del);
    assert_eq!(
        out.payload,
        Some(
            json!({"type": "message_deleted", "data": {"messageId": "123", "roomId": "456", "deletedBy": "user_001", "timestamp": NOW_ISO}})
        )
    );
    let status = one(&d, "bob", "presence:update", &json!({"userId": "user_001", "status": "away", "lastSeen": NOW}));
    assert_eq!(
        status.payload,
        Some(
            json!({"userId": "user_001", "isOnline": true, "status": "away", "lastSeen": NOW_ISO, "timestamp": NOW_ISO})
        )
    );
    let conv = conversation(789, "user_001", "me", Value::Null);
    let created = json!({"change": "created", "conversation": conv, "actorId": "user_001", "actorName": "John Doe", "userIds": [], "at": NOW});
    let n = one(&d, "me", "conversation:updated", &created);
    assert_eq!(
        n.payload,
        Some(json!({"type": "new_chat", "timestamp": NOW_ISO, "data": {
            "roomId": "789", "roomName": "", "initiatedBy": "user_001", "initiatorName": "John Doe"
        }}))
    );
    assert!(d.outbound_with(&ctx("user_001"), "conversation:updated", &created).is_empty(), "not to the initiator");
}

#[test]
fn rest_routes() {
    let d = d();
    let q = Map::new();
    let send = json!({"content": "Hello from Postman!", "message_type": "text"});
    let call = d.rest("POST", "/api/v1/chat/rooms/456/messages", &q, &send).unwrap().unwrap();
    assert_eq!(
        (call.status, &call.payload),
        (201, &json!({"conversationId": 456, "text": "Hello from Postman!", "kind": "text", "leaveReadState": true}))
    );
    let body = d.rest_response(&call, &ctx("me"), &message(123, 456, "me", "Hello from Postman!")).body;
    assert_eq!((body["success"].clone(), body["data"]["id"].clone()), (json!(true), json!("123")));
    let call = d.rest("GET", "/api/v1/chat/rooms", &q, &Value::Null).unwrap().unwrap();
    let conv = conversation(456, "me", "user_002", Value::Null);
    let body = d.rest_response(&call, &ctx("me"), &json!({"conversations": [conv], "nextCursor": null})).body;
    assert_eq!((body["data"][0]["id"].clone(), body["data"][0]["unread_count"].clone()), (json!("456"), json!(3)));
    let call = d.rest("DELETE", "/api/v1/chat/messages/123", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"messageId": 123, "scope": "everyone"}));
    assert_eq!(
        d.rest("GET", "/api/v1/chat/rooms/456/messages", &q, &Value::Null).unwrap().unwrap().canonical,
        "message:history"
    );
    let stats = d.rest("GET", "/api/v1/chat/admin/websocket-stats", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(stats.canonical, "admin:stats");
    let quipd = json!({"sessions": 45, "users_online": 38, "active_conversations": 12, "connections": 40});
    let data = d.rest_response(&stats, &ctx("admin"), &quipd).body["data"].clone();
    assert_eq!(
        (&data["totalConnections"], &data["totalUsers"], &data["activeChatRooms"], &data["message"]),
        (&json!(45), &json!(38), &json!(12), &json!("Real-time chat statistics"))
    );
    assert!(data["timestamp"].is_string());
}
