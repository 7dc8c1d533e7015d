//! The realistic values the seed frames are made of.

use quip_protocol::family::calls::*;
use quip_protocol::family::conversations::*;
use quip_protocol::family::messages::*;
use quip_protocol::family::notifications::*;
use quip_protocol::family::presence::*;
use quip_protocol::{ConversationCursor, KeyValue, ResumePoint, UserProfile, UserRef};

pub(crate) const SDP: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
pub(crate) const CANDIDATE: &str =
    "candidate:842163049 1 udp 1677729535 203.0.113.7 49203 typ srflx raddr 0.0.0.0 rport 0";
pub(crate) const NOW: u64 = 1_790_000_000_000;

pub(crate) fn alice() -> UserRef {
    UserRef {
        id: "alice".into(),
        display_name: Some("Alice Martin".into()),
        avatar_url: Some("https://cdn.example.com/u/alice.png".into()),
    }
}

pub(crate) fn profile() -> UserProfile {
    UserProfile {
        id: "alice".into(),
        display_name: Some("Alice Martin".into()),
        avatar_url: Some("https://cdn.example.com/u/alice.png".into()),
        fields: vec![KeyValue::new("city", "Lyon"), KeyValue::new("role", "seller")],
        updated_at_ms: NOW - 86_400_000,
    }
}

pub(crate) fn resume() -> ResumePoint {
    ResumePoint {
        cursors: vec![
            ConversationCursor { conversation_id: 42, seq: 17 },
            ConversationCursor { conversation_id: 43, seq: 3 },
        ],
        global_cursor: 9_812,
    }
}

pub(crate) fn attachment() -> Attachment {
    Attachment {
        kind: AttachmentKind::Image,
        url: "/media/6f1c2a9e4b.jpg".into(),
        mime: "image/jpeg".into(),
        name: "bike.jpg".into(),
        size: 184_320,
        width: 1280,
        height: 960,
        duration_ms: 0,
        thumbnail_url: "/media/6f1c2a9e4b-thumb.jpg".into(),
    }
}

pub(crate) fn message() -> Message {
    Message {
        id: 1_001,
        conversation_id: 42,
        seq: 18,
        sender: alice(),
        kind: MessageKind::Text,
        text: "Is the bike still available? I can pick it up tonight 🚲".into(),
        attachments: vec![attachment()],
        reply_to: Some(ReplyPreview {
            message_id: 998,
            seq: 16,
            sender_id: "bob".into(),
            kind: MessageKind::Text,
            text: "Selling my bike, 120€".into(),
            deleted: false,
        }),
        client_msg_id: "c-7f3a9d".into(),
        created_at_ms: NOW,
        edited_at_ms: 0,
        deleted: false,
        reactions: vec![Reaction { emoji: "👍".into(), count: 2, user_ids: vec!["bob".into(), "carol".into()] }],
        call: None,
        system: SystemKind::Unspecified,
        metadata: vec![KeyValue::new("listingId", "l-9")],
    }
}

pub(crate) fn call_message() -> Message {
    Message {
        id: 1_002,
        seq: 19,
        kind: MessageKind::Call,
        text: String::new(),
        attachments: Vec::new(),
        reply_to: None,
        reactions: Vec::new(),
        call: Some(CallRecord {
            call_id: 5,
            call_type: CallType::Video,
            outcome: CallOutcome::Completed,
            caller_id: "alice".into(),
            started_at_ms: NOW,
            answered_at_ms: NOW + 4_000,
            ended_at_ms: NOW + 64_000,
            duration_ms: 60_000,
        }),
        ..message()
    }
}

pub(crate) fn context() -> ConversationContext {
    ConversationContext { kind: "listing".into(), id: "l-9".into(), title: "Blue city bike".into() }
}

pub(crate) fn conversation() -> Conversation {
    Conversation {
        id: 42,
        kind: ConversationKind::Group,
        title: "Weekend ride".into(),
        avatar_url: "https://cdn.example.com/g/42.png".into(),
        description: "Sunday morning, 9am".into(),
        context: Some(context()),
        members: vec![
            Member { user: alice(), role: MemberRole::Owner, joined_at_ms: NOW - 1_000_000 },
            Member { user: UserRef::new("bob"), role: MemberRole::Member, joined_at_ms: NOW - 900_000 },
        ],
        created_by: "alice".into(),
        created_at_ms: NOW - 1_000_000,
        last_activity_ms: NOW,
        last_seq: 18,
        last_message: Some(Box::new(message())),
        unread: 2,
        read_up_to_seq: 16,
        delivered_up_to_seq: 18,
        muted_until_ms: 0,
        archived: false,
        blocked_by_me: false,
        blocked_me: false,
    }
}

pub(crate) fn call() -> Call {
    Call {
        id: 5,
        conversation_id: 42,
        call_type: CallType::Video,
        caller_id: "alice".into(),
        state: CallState::Ringing,
        started_at_ms: NOW,
        answered_at_ms: 0,
        answered_by_device: String::new(),
    }
}

pub(crate) fn notification() -> Notification {
    Notification {
        id: 77,
        kind: "order.shipped".into(),
        title: "Your order has shipped".into(),
        body: "Order #1234 is on its way".into(),
        link: "/orders/1234".into(),
        data: vec![KeyValue::new("orderId", "1234")],
        created_at_ms: NOW,
        read_at_ms: 0,
    }
}

pub(crate) fn presence() -> Presence {
    let (display_name, fields) = (Some("Bob".into()), vec![KeyValue::new("userType", "Teacher")]);
    Presence {
        user_id: "bob".into(),
        status: PresenceStatus::Online,
        last_seen_ms: NOW,
        devices: 2,
        display_name,
        fields,
    }
}
