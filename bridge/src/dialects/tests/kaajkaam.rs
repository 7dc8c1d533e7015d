//! KAAJ KAAM (seed 000), with the seed's payloads.

use serde_json::Map;

use super::*;
use quip_dialect::{RoomKind, TokenSource};

fn d() -> Dialect {
    load("kaajkaam")
}

#[test]
fn every_client_event_maps() {
    let d = d();
    let cases = [
        ("user_online", json!("u1"), "presence:set", json!({"status": "online"})),
        ("join_conversation", json!("17"), "conversation:join", json!({"conversationId": 17})),
        ("typing", json!("17"), "typing:start", json!({"conversationId": 17})),
        ("stop_typing", json!(17), "typing:stop", json!({"conversationId": 17})),
        ("mark_read", json!("17"), "message:read", json!({"conversationId": 17})),
        (
            "send_message",
            json!({"conversationId": "17", "orderId": "order456", "text": "Hello!", "sender": "A", "time": "10:00"}),
            "message:send",
            json!({"conversationId": 17, "text": "Hello!", "metadata": {"orderId": "order456"}, "leaveReadState": true}),
        ),
        (
            "call:initiate",
            json!({"conversationId": "17", "callType": "video", "offer": {"type": "offer", "sdp": "v=0 o"}, "from": "a", "to": "b"}),
            "call:invite",
            json!({"conversationId": 17, "callType": "video", "sdpOffer": "v=0 o"}),
        ),
        (
            "call:accept",
            json!({"conversationId": "17", "to": "a", "answer": {"type": "answer", "sdp": "v=0 a"}}),
            "call:accept",
            json!({"conversationId": 17, "sdpAnswer": "v=0 a"}),
        ),
        ("call:reject", json!({"conversationId": "17", "to": "a"}), "call:reject", json!({"conversationId": 17})),
        ("call:end", json!({"conversationId": "17", "to": "b"}), "call:end", json!({"conversationId": 17})),
        (
            "webrtc:ice-candidate",
            json!({"conversationId": "17", "to": "b", "candidate": {"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}}),
            "call:ice",
            json!({"conversationId": 17, "candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}),
        ),
    ];
    for (event, payload, canonical, expected) in cases {
        let i = inbound(&d, event, payload);
        assert_eq!((i.canonical.as_str(), &i.payload), (canonical, &expected), "{event}");
    }
    assert!(d.inbound("send_message", json!({"orderId": "o", "text": "x"})).is_err(), "no conversation named");
    assert!(d.inbound("join_conversation", json!(["17"])).is_err());
    assert!(d.inbound("call:initiate", json!({"conversationId": 1})).is_err());
}

#[test]
fn messages_reach_both_rooms_as_one_receive_message_and_a_notification() {
    let d = d();
    let m = message(41, 17, "alice", "Hello!");
    let to_bob = d.outbound_with(&ctx("bob"), "message:new", &m);
    assert_eq!(to_bob.len(), 2);
    assert_eq!(to_bob[0].event, "receive_message");
    assert_eq!(
        to_bob[0].payload,
        Some(json!({
            "_id": "41", "conversationId": "17", "sender": "alice", "text": "Hello!", "messageType": "text",
            "attachments": [], "readBy": [], "isEdited": false, "editedAt": null, "createdAt": NOW_ISO
        }))
    );
    assert_eq!(to_bob[0].room.as_ref().map(|r| (r.kind, r.name.as_str())), Some((RoomKind::User, "user_bob")));
    assert_eq!(to_bob[1].event, "new_notification");
    assert_eq!(to_bob[1].payload.as_ref().unwrap()["messageId"], "41");
    let to_alice = d.outbound_with(&ctx("alice"), "message:new", &m);
    assert_eq!(to_alice.iter().map(|o| o.event.as_str()).collect::<Vec<_>>(), vec!["receive_message"]);
}

#[test]
fn typing_presence_receipts_and_calls() {
    let d = d();
    let t = one(&d, "bob", "typing:start", &json!({"conversationId": 17, "userId": "alice", "expiresInMs": 6000}));
    assert_eq!(
        (t.event.as_str(), t.payload.unwrap()),
        ("user_typing", json!({"userId": "alice", "conversationId": "17", "timestamp": NOW_ISO}))
    );
    assert_eq!(t.room.unwrap().name, "conversation_17");
    let t = one(&d, "bob", "typing:stop", &json!({"conversationId": 17, "userId": "alice"}));
    assert_eq!((t.event.as_str(), t.payload.unwrap()["userId"].clone()), ("user_stop_typing", json!("alice")));
    let p = one(&d, "bob", "presence:update", &json!({"userId": "alice", "status": "away", "lastSeen": NOW}));
    assert_eq!((p.event.as_str(), p.payload), ("user_online", Some(json!({"userId": "alice"}))));
    let p = one(&d, "bob", "presence:update", &json!({"userId": "alice", "status": "offline", "lastSeen": NOW}));
    assert_eq!(p.event, "user_offline");
    let receipt = json!({"conversationId": 17, "userId": "bob", "kind": "read", "upToSeq": 4, "at": NOW});
    let r = one(&d, "alice", "message:receipt", &receipt);
    assert_eq!(
        (r.event.as_str(), r.payload),
        ("messages_read", Some(json!({"userId": "bob", "conversationId": "17"})))
    );
    let delivered = json!({"conversationId": 17, "userId": "bob", "kind": "delivered", "upToSeq": 4, "at": NOW});
    assert!(d.outbound_with(&ctx("alice"), "message:receipt", &delivered).is_empty());
    let call = json!({"id": 9, "conversationId": 17, "callType": "video", "callerId": "alice", "state": "ringing"});
    let c = one(&d, "bob", "call:incoming", &json!({"call": call, "fromUserId": "alice", "sdp": "v=0 o", "at": NOW}));
    assert_eq!(
        c.payload.unwrap(),
        json!({"offer": {"type": "offer", "sdp": "v=0 o"}, "callType": "video", "from": "alice", "conversationId": "17", "callId": "9"})
    );
    let c = one(&d, "alice", "call:accepted", &json!({"call": call, "fromUserId": "bob", "sdp": "v=0 a", "at": NOW}));
    assert_eq!(c.payload.unwrap()["answer"], json!({"type": "answer", "sdp": "v=0 a"}));
    assert_eq!(one(&d, "alice", "call:rejected", &json!({"call": call, "fromUserId": "bob"})).event, "call:rejected");
    let ice = json!({"callId": 9, "fromUserId": "bob", "candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0});
    let c = one(&d, "alice", "call:ice", &ice);
    assert_eq!(c.payload.unwrap()["candidate"], json!({"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}));
}

#[test]
fn rest_routes_of_the_seed() {
    let d = d();
    let q = Map::new();
    let body = json!({"participantId": "user123", "orderId": "order456"});
    let call = d.rest("POST", "/api/chat/conversations", &q, &body).unwrap().unwrap();
    assert_eq!(call.canonical, "conversation:openDirect");
    assert_eq!(call.payload, json!({"peerUserId": "user123", "context": {"kind": "order", "id": "order456"}}));
    let conv = conversation(789, "me", "user123", json!({"kind": "order", "id": "order456", "title": ""}));
    let res = d.rest_response(&call, &ctx("me"), &json!({"conversation": conv, "created": true}));
    assert_eq!(res.body["_id"], "789");
    assert_eq!(res.body["participants"], json!(["me", "user123"]));
    assert_eq!(res.body["orderId"], "order456");
    assert!(res.body.get("gigId").is_none());
    assert_eq!(res.body["lastMessage"], json!({"text": "Hello!", "sender": "me", "timestamp": NOW_ISO}));

    let call = d.rest("POST", "/api/chat/conversations/789/messages", &q, &json!({"text": "Hello!"})).unwrap().unwrap();
    assert_eq!(
        (call.canonical.as_str(), call.status, call.upload.as_deref()),
        ("message:send", 201, Some("attachments"))
    );
    assert_eq!(call.payload, json!({"conversationId": 789, "text": "Hello!", "leaveReadState": true}));
    let res = d.rest_response(&call, &ctx("me"), &message(41, 789, "me", "Hello!"));
    assert_eq!((res.status, res.body["_id"].clone(), res.body["text"].clone()), (201, json!("41"), json!("Hello!")));

    let mut query = Map::new();
    query.insert("limit".into(), json!("50"));
    query.insert("skip".into(), json!("0"));
    let call = d.rest("GET", "/api/chat/conversations/conv789/messages", &query, &Value::Null);
    assert!(call.is_err(), "Mongo ids that are not Quip ids are refused");
    let call = d.rest("GET", "/api/chat/conversations/789/messages", &query, &Value::Null).unwrap().unwrap();
    assert_eq!(call.payload, json!({"conversationId": 789, "limit": 50, "offset": 0}));
    let page = json!({"messages": [message(2, 789, "a", "new"), message(1, 789, "a", "old")], "hasMore": false});
    let texts: Vec<_> =
        d.rest_response(&call, &ctx("me"), &page).body.as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("old"), json!("new")]);

    let routes = [
        ("GET", "/api/chat/conversations", "conversation:list"),
        ("GET", "/api/chat/conversations/789", "conversation:get"),
        ("DELETE", "/api/chat/conversations/789", "conversation:hide"),
        ("PUT", "/api/chat/conversations/789/read", "message:read"),
        ("GET", "/api/chat/unread-count", "unread:get"),
        ("POST", "/api/chat/conversations/789/call-record", "noop"),
    ];
    for (method, path, canonical) in routes {
        let call = d.rest(method, path, &q, &Value::Null).unwrap().unwrap_or_else(|| panic!("{method} {path}"));
        assert_eq!(call.canonical, canonical, "{method} {path}");
    }
    let call = d.rest("GET", "/api/chat/unread-count", &q, &Value::Null).unwrap().unwrap();
    assert_eq!(
        d.rest_response(&call, &ctx("me"), &json!({"total": 5, "conversations": []})).body,
        json!({"unreadCount": 5})
    );
    let err = json!({"code": "RateLimited", "message": "slow down", "retryAfter": 2});
    assert_eq!(
        d.rest_error(&ctx("me"), 429, &err),
        json!({"message": "slow down", "code": "RateLimited", "retryAfter": 2})
    );
}

#[test]
fn connects_with_cookies_or_the_rest_header_and_names_rooms() {
    let d = d();
    assert!(d.connect_spec().token.contains(&TokenSource::Header("x-auth-token".into())));
    assert_eq!(d.connect_spec().user_id, Some(TokenSource::Query("userId".into())));
    assert_eq!(d.rooms().name(RoomKind::Conversation, "17"), "conversation_17");
    assert_eq!(d.rooms().parse("user_u1").map(|r| r.kind), Some(RoomKind::User));
}
