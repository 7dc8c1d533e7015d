//! Jivbook (seed 001), with the seed's payloads.

use serde_json::Map;

use super::*;

fn d() -> Dialect {
    load("jivbook")
}

#[test]
fn every_client_event_maps() {
    let d = d();
    let cases = [
        ("online", Value::Null, "presence:set", json!({"status": "online"})),
        ("typing", json!({"chatId": "12", "isTyping": true}), "typing:start", json!({"conversationId": 12})),
        ("typing", json!({"chatId": "12", "isTyping": false}), "typing:stop", json!({"conversationId": 12})),
        ("join-chat", json!({"chatId": "12"}), "conversation:join", json!({"conversationId": 12})),
        (
            "markAsRead",
            json!({"chatId": "12", "messageId": "41"}),
            "message:read",
            json!({"conversationId": 12, "messageIds": [41]}),
        ),
        (
            "sendMessage",
            json!({"chatId": "12", "content": "Hello! Is this pet still available?", "messageType": "text", "mediaUrl": null, "parentMessageId": null}),
            "message:send",
            json!({"conversationId": 12, "text": "Hello! Is this pet still available?", "kind": "text", "leaveReadState": true}),
        ),
        (
            "sendMessage",
            json!({"chatId": "12", "content": "Sent image", "messageType": "image", "mediaUrl": "chat-1.jpg", "parentMessageId": "40"}),
            "message:send",
            json!({"conversationId": 12, "text": "Sent image", "kind": "image", "attachments": [{"url": "chat-1.jpg", "kind": "image"}], "replyTo": 40, "leaveReadState": true}),
        ),
    ];
    for (event, payload, canonical, expected) in cases {
        let i = inbound(&d, event, payload);
        assert_eq!((i.canonical.as_str(), &i.payload), (canonical, &expected), "{event}");
    }
    // §Security Features 3: empty content and unknown types are refused.
    assert!(d.inbound("sendMessage", json!({"chatId": "12", "messageType": "text"})).is_err());
    assert!(d.inbound("sendMessage", json!({"chatId": "12", "content": "x", "messageType": "sticker"})).is_err());
    assert!(d.inbound("typing", json!("12")).is_err());
}

#[test]
fn new_message_typing_and_read_confirmation() {
    let d = d();
    let out = one(&d, "bob", "message:new", &message(41, 12, "alice", "Hello! Is this pet still available?"));
    assert_eq!(out.event, "newMessage");
    assert_eq!(
        out.payload.unwrap(),
        json!({
            "_id": "41", "chat": "12",
            "sender": {"_id": "alice", "name": "John Doe", "profilePicture": "/uploads/profiles/john.jpg"},
            "content": "Hello! Is this pet still available?", "messageType": "text", "readBy": [], "status": "sent",
            "isEdited": false, "isDeleted": false, "createdAt": NOW_ISO
        })
    );
    let t = one(&d, "bob", "typing:start", &json!({"conversationId": 12, "userId": "alice"}));
    assert_eq!(t.payload, Some(json!({"userId": "alice", "isTyping": true, "chatId": "12"})));
    assert_eq!(t.room.unwrap().name, "12");
    let t = one(&d, "bob", "typing:stop", &json!({"conversationId": 12, "userId": "alice"}));
    assert_eq!((t.event.as_str(), t.payload.unwrap()["isTyping"].clone()), ("typing", json!(false)));
    let receipt =
        json!({"conversationId": 12, "userId": "bob", "kind": "read", "upToSeq": 7, "at": NOW, "messageId": 41});
    let r = one(&d, "alice", "message:receipt", &receipt);
    assert_eq!(
        (r.event.as_str(), r.payload),
        ("messageRead", Some(json!({"messageId": "41", "userId": "bob", "chatId": "12"})))
    );
    assert!(
        d.outbound("presence:update", &json!({"userId": "a", "status": "online"})).is_empty(),
        "no such event in the seed"
    );
    let error = d.error_event(&ctx("a"), "sendMessage", &json!({"code": "Forbidden", "message": "not a participant"}));
    assert_eq!(
        error.map(|e| (e.event, e.payload)),
        Some(("error".into(), Some(json!({"message": "not a participant", "code": "Forbidden"}))))
    );
}

#[test]
fn rest_routes_and_envelopes() {
    let d = d();
    let q = Map::new();
    let call = d
        .rest("POST", "/api/chat/create", &q, &json!({"participantId": "seller", "petId": "pet_id"}))
        .unwrap()
        .unwrap();
    assert_eq!(call.payload, json!({"peerUserId": "seller", "context": {"kind": "pet", "id": "pet_id"}}));
    let conv =
        conversation(12, "me", "seller", json!({"kind": "pet", "id": "pet_id", "title": "Golden Retriever Puppy"}));
    let body = d.rest_response(&call, &ctx("me"), &json!({"conversation": conv, "created": true})).body;
    assert_eq!((body["success"].clone(), body["message"].clone()), (json!(true), json!("Chat created successfully")));
    assert_eq!(body["data"]["_id"], "12");
    assert_eq!(body["data"]["chatType"], "pet_inquiry");
    assert_eq!(body["data"]["petListing"], json!({"_id": "pet_id", "title": "Golden Retriever Puppy"}));
    assert_eq!(body["data"]["participants"][1], json!({"_id": "seller", "name": "seller Name", "profilePicture": ""}));
    assert_eq!(body["data"]["unreadCount"], json!([{"userId": "me", "count": 3}]));

    let mut query = Map::new();
    query.insert("page".into(), json!("2"));
    query.insert("limit".into(), json!("20"));
    let call = d.rest("GET", "/api/chat/my-chats", &query, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"limit": 20, "offset": 20}));
    let result = json!({"conversations": [conv], "nextCursor": null, "total": 25});
    let body = d.rest_response(&call, &ctx("me"), &result).body;
    assert_eq!(
        body["data"]["pagination"],
        json!({"currentPage": 2, "totalPages": 2, "totalChats": 25, "hasMore": false})
    );
    assert_eq!(body["data"]["chats"][0]["_id"], "12");

    query.insert("limit".into(), json!("50"));
    query.insert("page".into(), json!("1"));
    let call = d.rest("GET", "/api/chat/12/messages", &query, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"conversationId": 12, "limit": 50, "offset": 0}));
    let result = json!({"messages": [message(41, 12, "a", "x")], "hasMore": true, "total": 145});
    let body = d.rest_response(&call, &ctx("me"), &result).body;
    assert_eq!(
        body["data"]["pagination"],
        json!({"currentPage": 1, "totalPages": 3, "totalMessages": 145, "hasMore": true})
    );
    assert_eq!(body["message"], "Messages retrieved successfully");

    let call = d
        .rest("POST", "/api/chat/12/send", &q, &json!({"content": "Test message", "messageType": "text"}))
        .unwrap()
        .unwrap();
    assert_eq!(
        call.payload,
        json!({"conversationId": 12, "text": "Test message", "kind": "text", "leaveReadState": true})
    );
    let media = json!({"content": "caption", "attachments": [{"kind": "image", "url": "/media/x.jpg"}]});
    let call = d.rest("POST", "/api/chat/12/send-media", &q, &media).unwrap().unwrap();
    assert_eq!(call.upload.as_deref(), Some("media"));
    assert_eq!(call.payload["attachments"][0]["url"], "/media/x.jpg");
    assert!(d.rest("POST", "/api/chat/12/send-media", &q, &json!({"content": "no file"})).is_err());
    let mut m = message(42, 12, "me", "caption");
    m["kind"] = json!("image");
    m["attachments"] = json!([{"kind": "image", "url": "/media/x.jpg"}]);
    let body = d.rest_response(&call, &ctx("me"), &m).body;
    assert_eq!(
        (body["data"]["messageType"].clone(), body["data"]["mediaUrl"].clone()),
        (json!("image"), json!("/media/x.jpg"))
    );

    let call = d.rest("DELETE", "/api/chat/message/41", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(
        (call.canonical.as_str(), &call.payload),
        ("message:delete", &json!({"messageId": 41, "scope": "everyone"}))
    );
    let call = d.rest("PUT", "/api/chat/12/mark-read", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"conversationId": 12}));
    let call = d.rest("PUT", "/api/chat/12/toggle-block", &q, &Value::Null).unwrap().unwrap();
    let body = d.rest_response(&call, &ctx("me"), &json!({"blocked": true})).body;
    assert_eq!(body, json!({"success": true, "message": "Chat blocked successfully", "data": {"isBlocked": true}}));
    let err = d.rest_error(&ctx("me"), 403, &json!({"code": "Forbidden", "message": "not yours"}));
    assert_eq!(err, json!({"success": false, "message": "not yours", "code": "Forbidden"}));
}
