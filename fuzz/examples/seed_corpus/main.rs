//! Writes the seed corpus of the protocol targets and of the canonical bridge targets from real frames
//! and requests, under `fuzz/corpus/<target>/`:
//!
//! - `client_frame`, `server_frame`: one encoded frame per body variant, every family, realistic values;
//! - `frame_stream`: those client frames back to back, cut in chunks of several sizes;
//! - `socket_event`: every canonical Socket.IO event (`ops::names()`) with a realistic payload;
//! - `rest_canonical`: every canonical REST route with its path parameters, query and body filled.
//!
//! ```sh
//! cargo run --release -p quip-fuzz --example seed_corpus
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;

use std::fs;
use std::path::{Path, PathBuf};

use fixtures::*;
use quip_bridge::ops;
use quip_bridge::rest::routes::ROUTES;
use quip_protocol::family::calls::*;
use quip_protocol::family::conversations::*;
use quip_protocol::family::messages::*;
use quip_protocol::family::notifications::*;
use quip_protocol::family::presence::*;
use quip_protocol::family::receipts::*;
use quip_protocol::family::session::*;
use quip_protocol::{
    ClientBody, ClientFrame, ErrorCode, ErrorReply, KeyValue, PROTOCOL_VERSION, ServerBody, ServerFrame, UserProfile,
    UserRef,
};
use serde_json::{Map, Value, json};

/// One client body of every variant (the order of `ClientBody`).
fn client_bodies() -> Vec<ClientBody> {
    vec![
        Hello {
            protocol_version: PROTOCOL_VERSION,
            token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl".into(),
            device_id: "web-3f9a".into(),
            client_name: Some("quip-bridge".into()),
            client_version: Some("0.1.0".into()),
            datagrams: true,
            resume: Some(resume()),
            multiplexed: false,
            passive: false,
            shared_events: false,
        }
        .into(),
        RefreshToken { token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6OX0.c2ln".into() }.into(),
        Ping { nonce: 0x5eed }.into(),
        Goodbye { reason: CloseReason::Normal, message: "bye".into(), reconnect_after_ms: 0 }.into(),
        UpdateProfile {
            display_name: Some("Alice M.".into()),
            avatar_url: None,
            fields: vec![KeyValue::new("city", "Lyon")],
        }
        .into(),
        GetUsers { user_ids: vec!["bob".into(), "carol".into()] }.into(),
        OpenDirect { peer_user_id: "bob".into(), context: Some(context()) }.into(),
        CreateGroup {
            title: "Weekend ride".into(),
            member_ids: vec!["bob".into(), "carol".into()],
            avatar_url: String::new(),
            description: "Sunday morning".into(),
        }
        .into(),
        GetConversation { conversation_id: 42 }.into(),
        ListConversations { cursor: Some("42:1790000000000".into()), limit: 20, include_archived: false }.into(),
        UpdateConversation {
            conversation_id: 42,
            title: Some("Weekend ride 🚲".into()),
            avatar_url: None,
            description: Some(String::new()),
        }
        .into(),
        AddMembers { conversation_id: 42, user_ids: vec!["dave".into()] }.into(),
        RemoveMember { conversation_id: 42, user_id: "dave".into() }.into(),
        SetMemberRole { conversation_id: 42, user_id: "bob".into(), role: MemberRole::Admin }.into(),
        LeaveConversation { conversation_id: 42 }.into(),
        HideConversation { conversation_id: 42 }.into(),
        ArchiveConversation { conversation_id: 42, archived: true }.into(),
        MuteConversation { conversation_id: 42, muted_until_ms: NOW + 3_600_000 }.into(),
        BlockUser { user_id: "mallory".into() }.into(),
        UnblockUser { user_id: "mallory".into() }.into(),
        ListBlocked.into(),
        SendMessage {
            conversation_id: 42,
            client_msg_id: "c-7f3a9d".into(),
            kind: MessageKind::Image,
            text: "Here it is".into(),
            attachments: vec![attachment()],
            reply_to: 998,
            metadata: vec![KeyValue::new("listingId", "l-9")],
            leave_read_state: false,
        }
        .into(),
        EditMessage { message_id: 1_001, text: "Is the bike still available?".into() }.into(),
        DeleteMessage { message_id: 1_001, scope: DeleteScope::ForEveryone }.into(),
        React { message_id: 1_001, emoji: "❤️".into(), remove: false }.into(),
        GetMessage { message_id: 1_001 }.into(),
        GetHistory { conversation_id: 42, anchor_seq: 18, direction: Direction::Backward, limit: 50 }.into(),
        SyncRequest { since: resume() }.into(),
        MarkDelivered { conversation_id: 42, up_to_seq: 18 }.into(),
        MarkRead { conversation_id: 42, up_to_seq: 18, message_ids: vec![1_000, 1_001] }.into(),
        GetUnreadCounts { conversation_ids: vec![42, 43] }.into(),
        GetReceipts { message_id: 1_001 }.into(),
        Typing { conversation_id: 42, active: true }.into(),
        SetPresence { status: PresenceStatus::Away }.into(),
        GetPresence { user_ids: vec!["bob".into(), "carol".into()] }.into(),
        GetOnlineMembers { conversation_id: 42 }.into(),
        WatchPresence { user_ids: vec!["bob".into()], unwatch: false }.into(),
        ListNotifications { before_id: 80, limit: 20, unread_only: true }.into(),
        MarkNotificationsRead { ids: vec![76, 77] }.into(),
        MarkAllNotificationsRead.into(),
        CallInvite { conversation_id: 42, call_type: CallType::Video, sdp_offer: SDP.into() }.into(),
        CallAccept { call_id: 5, sdp_answer: SDP.into() }.into(),
        CallReject { call_id: 5, reason: "busy".into() }.into(),
        CallEnd { call_id: 5, reason: "hangup".into() }.into(),
        CallIce { call_id: 5, candidate: CANDIDATE.into(), sdp_mid: Some("0".into()), sdp_mline_index: 0 }.into(),
    ]
}

/// Server bodies of every variant (the order of `ServerBody`), some in two forms.
fn server_bodies() -> Vec<ServerBody> {
    vec![
        Welcome {
            protocol_version: PROTOCOL_VERSION,
            session_id: 0x51d,
            user: profile(),
            server_time_ms: NOW,
            heartbeat_ms: 15_000,
            max_frame_size: 1024 * 1024,
            token_expires_at_ms: NOW + 3_600_000,
            global_cursor: 9_812,
            resuming: true,
        }
        .into(),
        Done.into(),
        ErrorReply {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            retry_after_ms: Some(1_500),
            field: None,
        }
        .into(),
        ErrorReply {
            code: ErrorCode::InvalidArgument,
            message: "text is too long".into(),
            retry_after_ms: None,
            field: Some("text".into()),
        }
        .into(),
        Pong { nonce: 0x5eed, server_time_ms: NOW }.into(),
        TokenRefreshed { expires_at_ms: NOW + 3_600_000 }.into(),
        Goodbye { reason: CloseReason::ServerShutdown, message: "draining".into(), reconnect_after_ms: 2_000 }.into(),
        Users { users: vec![profile(), UserProfile { id: "bob".into(), ..UserProfile::default() }] }.into(),
        ConversationInfo { conversation: conversation(), created: true }.into(),
        ConversationPage {
            conversations: vec![
                conversation(),
                Conversation {
                    id: 43,
                    kind: ConversationKind::Direct,
                    members: Vec::new(),
                    last_message: None,
                    ..conversation()
                },
            ],
            next_cursor: Some("43:1789999000000".into()),
        }
        .into(),
        BlockedUsers { users: vec![UserRef::new("mallory")] }.into(),
        MessageAck {
            conversation_id: 42,
            message_id: 1_001,
            seq: 18,
            created_at_ms: NOW,
            client_msg_id: "c-7f3a9d".into(),
            duplicate: false,
        }
        .into(),
        MessageInfo { message: message() }.into(),
        HistoryPage {
            conversation_id: 42,
            messages: vec![message(), call_message()],
            next_anchor_seq: 17,
            has_more: true,
        }
        .into(),
        SyncDone { global_cursor: 9_900, replayed: 88 }.into(),
        UnreadCounts {
            total: 5,
            conversations: vec![
                UnreadCount { conversation_id: 42, unread: 2 },
                UnreadCount { conversation_id: 43, unread: 3 },
            ],
        }
        .into(),
        MessageReceipts {
            conversation_id: 42,
            message_id: 1_001,
            seq: 18,
            recipients: 2,
            delivered: 2,
            read: 1,
            members: vec![
                MemberReceipt { user_id: "bob".into(), delivered_at_ms: NOW + 10, read_at_ms: NOW + 2_000 },
                MemberReceipt { user_id: "carol".into(), delivered_at_ms: NOW + 20, read_at_ms: 0 },
            ],
        }
        .into(),
        PresenceList { presences: vec![presence()] }.into(),
        NotificationPage { notifications: vec![notification()], next_before_id: 76, unread_total: 4 }.into(),
        CallInfo { call: call() }.into(),
        MessageEvent { message: message(), cursor: 9_813, replay: false }.into(),
        MessageEvent { message: call_message(), cursor: 9_814, replay: true }.into(),
        MessageEditedEvent {
            conversation_id: 42,
            message_id: 1_001,
            seq: 18,
            text: "edited".into(),
            edited_at_ms: NOW,
        }
        .into(),
        MessageDeletedEvent {
            conversation_id: 42,
            message_id: 1_001,
            seq: 18,
            scope: DeleteScope::ForEveryone,
            deleted_by: "alice".into(),
            at_ms: NOW,
        }
        .into(),
        ReactionEvent {
            conversation_id: 42,
            message_id: 1_001,
            user_id: "bob".into(),
            emoji: "👍".into(),
            removed: false,
            reactions: vec![Reaction { emoji: "👍".into(), count: 1, user_ids: vec!["bob".into()] }],
        }
        .into(),
        ConversationEvent {
            change: ConversationChange::MembersAdded,
            conversation: conversation(),
            actor_id: "alice".into(),
            user_ids: vec!["dave".into()],
            at_ms: NOW,
        }
        .into(),
        ReceiptEvent { conversation_id: 42, user_id: "bob".into(), up_to_seq: 18, from_seq: 15, ..Default::default() }
            .into(),
        UnreadEvent { conversation_id: 42, unread: 3, total: 6 }.into(),
        TypingEvent { conversation_id: 42, user_id: "bob".into(), expires_in_ms: 5_000, ..TypingEvent::default() }
            .into(),
        PresenceEvent { presence: presence() }.into(),
        NotificationEvent { notification: notification(), unread_total: 5 }.into(),
        NotificationsReadEvent { ids: vec![76, 77], all: false, unread_total: 3 }.into(),
        CallEvent {
            kind: CallEventKind::Incoming,
            call: call(),
            from_user_id: "alice".into(),
            sdp: SDP.into(),
            reason: String::new(),
            at_ms: NOW,
        }
        .into(),
        CallIceEvent {
            call_id: 5,
            from_user_id: "alice".into(),
            candidate: CANDIDATE.into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: 0,
        }
        .into(),
        ProfileEvent { user: profile() }.into(),
        Announcement { text: "Maintenance at 02:00 UTC".into(), conversation_id: 0, at_ms: NOW }.into(),
        EventStreamOpen { control_stream_id: 0, session_id: 0x51d }.into(),
        AppEvent { name: "order:updated".into(), data: r#"{"orderId":"o-77","status":"shipped"}"#.into(), at_ms: NOW }
            .into(),
        GatewayEvents {
            targets: vec![0, 4, 8],
            frames: ServerFrame::new(0, Pong { nonce: 1, server_time_ms: NOW }).encode().to_vec(),
        }
        .into(),
    ]
}

/// A realistic value for an argument of a canonical operation, by name.
fn sample(field: &str) -> Value {
    match field {
        "conversationId" => json!(42),
        "messageId" => json!(1001),
        "callId" => json!(5),
        "peerUserId" | "userId" => json!("bob"),
        "userIds" | "memberIds" => json!(["bob", "carol"]),
        "title" => json!("Weekend ride"),
        "description" => json!("Sunday morning, 9am"),
        "avatarUrl" => json!("https://cdn.example.com/g/42.png"),
        "displayName" => json!("Alice M."),
        "fields" => json!({ "city": "Lyon" }),
        "context" => json!({ "kind": "listing", "id": "l-9", "title": "Blue city bike" }),
        "role" => json!("admin"),
        "text" => json!("Is the bike still available?"),
        "emoji" => json!("👍"),
        "scope" => json!("everyone"),
        "upToSeq" => json!(18),
        "messageIds" => json!([1000, 1001]),
        "conversationIds" => json!([42, 43]),
        "ids" => json!([76, 77]),
        "status" => json!("away"),
        "sdpOffer" | "sdpAnswer" => json!(SDP),
        "candidate" => json!(CANDIDATE),
        "sdpMid" => json!("0"),
        "sdpMLineIndex" => json!(0),
        "callType" => json!("video"),
        "reason" => json!("busy"),
        "token" => json!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"),
        "cursor" => json!("42:1790000000000"),
        "limit" => json!(20),
        "before" => json!(18),
        "after" => json!(3),
        "includeArchived" | "unreadOnly" | "archived" | "active" => json!(true),
        "unwatch" | "remove" => json!(false),
        "mutedUntil" => json!(NOW + 3_600_000),
        "beforeId" => json!(80),
        "type" => json!("group"),
        "clientMsgId" => json!("c-7f3a9d"),
        "replyTo" => json!(998),
        "metadata" => json!({ "listingId": "l-9" }),
        "attachments" => json!([{ "kind": "image", "url": "/media/6f1c2a9e4b.jpg", "mime": "image/jpeg",
                                  "name": "bike.jpg", "size": 184320, "width": 1280, "height": 960 }]),
        _ => json!("x"),
    }
}

/// The arguments each canonical Socket.IO event takes (docs/BRIDGE.md).
fn event_fields(op: &str) -> &'static [&'static str] {
    match op {
        "conversation:list" => &["cursor", "limit", "includeArchived"],
        "conversation:openDirect" => &["peerUserId", "context"],
        "conversation:createGroup" => &["title", "memberIds", "avatarUrl", "description"],
        "conversation:update" => &["conversationId", "title", "avatarUrl", "description"],
        "conversation:addMembers" => &["conversationId", "userIds"],
        "conversation:removeMember" => &["conversationId", "userId"],
        "conversation:setRole" => &["conversationId", "userId", "role"],
        "conversation:archive" => &["conversationId", "archived"],
        "conversation:mute" => &["conversationId", "mutedUntil"],
        "user:get" | "presence:get" => &["userIds"],
        "user:block" | "user:unblock" => &["userId"],
        "user:blocked" | "unread:get" | "notification:readAll" | "sync" | "ping" => &[],
        "profile:update" => &["displayName", "avatarUrl", "fields"],
        "message:send" => &["conversationId", "text", "clientMsgId", "replyTo", "attachments", "metadata"],
        "message:edit" => &["messageId", "text"],
        "message:delete" => &["messageId", "scope"],
        "message:react" => &["messageId", "emoji", "remove"],
        "message:get" | "message:receipts" => &["messageId"],
        "message:history" => &["conversationId", "before", "limit"],
        "message:delivered" => &["conversationId", "upToSeq"],
        "message:read" => &["conversationId", "upToSeq", "messageIds"],
        "presence:set" => &["status"],
        "presence:watch" => &["userIds", "unwatch"],
        "notification:list" => &["beforeId", "limit", "unreadOnly"],
        "notification:read" => &["ids"],
        "call:invite" => &["conversationId", "callType", "sdpOffer"],
        "call:accept" => &["callId", "sdpAnswer"],
        "call:reject" | "call:end" => &["callId", "reason"],
        "call:ice" => &["callId", "candidate", "sdpMid", "sdpMLineIndex"],
        "token:refresh" => &["token"],
        // conversation:get/exit/hide, typing:start/stop, presence:online
        _ => &["conversationId"],
    }
}

fn object(fields: &[&str]) -> Value {
    Value::Object(fields.iter().map(|f| ((*f).to_owned(), sample(f))).collect::<Map<_, _>>())
}

fn query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(query_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");

    let mut frames = Vec::new();
    for (i, body) in client_bodies().into_iter().enumerate() {
        let name = body.name();
        let bytes = ClientFrame::new(i as u64 + 1, body).encode();
        write(&corpus.join("client_frame"), &format!("{i:02}-{name}"), &bytes);
        frames.push(bytes);
    }
    for (i, body) in server_bodies().into_iter().enumerate() {
        let name = body.name();
        let request_id = if body.is_event() { 0 } else { i as u64 + 1 };
        write(&corpus.join("server_frame"), &format!("{i:02}-{name}"), &ServerFrame::new(request_id, body).encode());
    }
    // frame_stream: a chunk size, then a run of the client frames back to back (every frame in one
    // seed or another, so seeds stay small).
    let per_seed = frames.len().div_ceil(5);
    for (group, chunk) in frames.chunks(per_seed).zip([1u8, 3, 7, 64, 255]) {
        let mut seed = vec![chunk];
        for frame in group {
            seed.extend_from_slice(frame);
        }
        write(&corpus.join("frame_stream"), &format!("chunks-of-{chunk}"), &seed);
    }

    // socket_event: an odd first byte, the operation's name, a NUL, the payload (by name, so that a change
    // in the table's order leaves the seeds what they say).
    for op in ops::names() {
        let mut seed = vec![1];
        seed.extend_from_slice(op.as_bytes());
        seed.push(0);
        seed.extend_from_slice(object(event_fields(op)).to_string().as_bytes());
        write(&corpus.join("socket_event"), &op.replace(':', "-"), &seed);
    }

    // rest_canonical: the route's index, then the path parameter, the query and the body, NUL-separated.
    for (i, r) in ROUTES.iter().enumerate() {
        let param = if r.path.contains("{userId}") {
            "bob".to_owned()
        } else if r.path.contains("{emoji}") {
            "👍".to_owned()
        } else {
            "42".to_owned()
        };
        let query: Vec<String> = r.query.iter().map(|q| format!("{q}={}", query_text(&sample(q)))).collect();
        let body = if r.body.is_empty() { String::new() } else { object(r.body).to_string() };
        let mut seed = vec![u8::try_from(i).unwrap()];
        seed.extend_from_slice(param.as_bytes());
        seed.push(0);
        seed.extend_from_slice(query.join("&").as_bytes());
        seed.push(0);
        seed.extend_from_slice(body.as_bytes());
        let name = format!("{i:02}-{}{}", r.method.name(), r.path.replace(['/', '{', '}'], "_"));
        write(&corpus.join("rest_canonical"), &name, &seed);
    }
}
