use super::*;
use crate::convert::{Fbb, max};
use crate::family::common::{ConversationCursor, KeyValue, ResumePoint, UserRef};
use crate::testing::{roundtrip_client, roundtrip_server};
use crate::{ClientBody, ClientFrame, DecodeError, Limits, ServerBody, ServerFrame, fb};

fn image() -> Attachment {
    Attachment {
        kind: AttachmentKind::Image,
        url: "https://cdn.example/p/1.jpg".into(),
        mime: "image/jpeg".into(),
        name: "1.jpg".into(),
        size: 482_113,
        width: 1920,
        height: 1080,
        duration_ms: 0,
        thumbnail_url: "https://cdn.example/p/1_t.jpg".into(),
    }
}

/// A message with every field filled.
fn full_message() -> Message {
    Message {
        id: 9001,
        conversation_id: 7,
        seq: 42,
        sender: UserRef {
            id: "u-alice".into(),
            display_name: Some("Alice".into()),
            avatar_url: Some("https://cdn.example/a.png".into()),
        },
        kind: MessageKind::Image,
        text: "look at this 🐕".into(),
        attachments: vec![
            image(),
            Attachment {
                kind: AttachmentKind::Audio,
                url: "https://cdn.example/v.ogg".into(),
                duration_ms: 12_500,
                ..Attachment::default()
            },
        ],
        reply_to: Some(ReplyPreview {
            message_id: 9000,
            seq: 41,
            sender_id: "u-bob".into(),
            kind: MessageKind::Text,
            text: "is the puppy still avail".into(),
            deleted: false,
        }),
        client_msg_id: "c-0f3a".into(),
        created_at_ms: 1_700_000_000_000,
        edited_at_ms: 1_700_000_060_000,
        deleted: false,
        reactions: vec![
            Reaction { emoji: "👍".into(), count: 2, user_ids: vec!["u-bob".into(), "u-carol".into()] },
            Reaction { emoji: "❤️".into(), count: 1, user_ids: vec![] },
        ],
        call: Some(CallRecord {
            call_id: 55,
            call_type: CallType::Video,
            outcome: CallOutcome::Completed,
            caller_id: "u-alice".into(),
            started_at_ms: 1,
            answered_at_ms: 2,
            ended_at_ms: 3,
            duration_ms: 4,
        }),
        system: SystemKind::Renamed,
        metadata: vec![KeyValue::new("listing", "pet-12"), KeyValue::new("empty", "")],
    }
}

fn minimal_message() -> Message {
    Message { sender: UserRef::new("u"), ..Message::default() }
}

#[test]
fn client_frames_round_trip() {
    roundtrip_client(ClientBody::SendMessage(SendMessage {
        conversation_id: 7,
        client_msg_id: "c".repeat(max::CLIENT_MSG_ID),
        kind: MessageKind::File,
        text: "the contract".into(),
        attachments: vec![image(); max::ATTACHMENTS],
        reply_to: 9000,
        metadata: vec![KeyValue::new("k", "v")],
        leave_read_state: true,
    }));
    roundtrip_client(ClientBody::SendMessage(SendMessage { client_msg_id: "c1".into(), ..SendMessage::default() }));
    roundtrip_client(ClientBody::EditMessage(EditMessage { message_id: 9001, text: "fixed typo".into() }));
    roundtrip_client(ClientBody::DeleteMessage(DeleteMessage { message_id: 9001, scope: DeleteScope::ForEveryone }));
    roundtrip_client(ClientBody::DeleteMessage(DeleteMessage::default()));
    roundtrip_client(ClientBody::React(React { message_id: 9001, emoji: "👍".into(), remove: true }));
    roundtrip_client(ClientBody::React(React { emoji: "x".into(), ..React::default() }));
    roundtrip_client(ClientBody::GetMessage(GetMessage { message_id: u64::MAX }));
    roundtrip_client(ClientBody::GetMessage(GetMessage::default()));
    roundtrip_client(ClientBody::GetHistory(GetHistory {
        conversation_id: 7,
        anchor_seq: 100,
        direction: Direction::Forward,
        limit: 200,
    }));
    roundtrip_client(ClientBody::GetHistory(GetHistory::default()));
    roundtrip_client(ClientBody::GetHistory(GetHistory { limit: 0, ..GetHistory::default() }));
    roundtrip_client(ClientBody::SyncRequest(SyncRequest {
        since: ResumePoint {
            cursors: vec![
                ConversationCursor { conversation_id: 7, seq: 42 },
                ConversationCursor { conversation_id: 8, seq: 0 },
            ],
            global_cursor: 1234,
        },
    }));
    roundtrip_client(ClientBody::SyncRequest(SyncRequest::default()));
}

#[test]
fn server_frames_round_trip() {
    roundtrip_server(ServerBody::MessageAck(MessageAck {
        conversation_id: 7,
        message_id: 9001,
        seq: 42,
        created_at_ms: 1_700_000_000_000,
        client_msg_id: "c-0f3a".into(),
        duplicate: true,
    }));
    roundtrip_server(ServerBody::MessageAck(MessageAck::default()));
    roundtrip_server(ServerBody::MessageInfo(MessageInfo { message: full_message() }));
    roundtrip_server(ServerBody::MessageInfo(MessageInfo { message: minimal_message() }));
    roundtrip_server(ServerBody::HistoryPage(HistoryPage {
        conversation_id: 7,
        messages: vec![full_message(), minimal_message()],
        next_anchor_seq: 41,
        has_more: true,
    }));
    roundtrip_server(ServerBody::HistoryPage(HistoryPage::default()));
    roundtrip_server(ServerBody::SyncDone(SyncDone { global_cursor: 99, replayed: 12 }));
    roundtrip_server(ServerBody::SyncDone(SyncDone::default()));
    roundtrip_server(ServerBody::MessageEvent(MessageEvent { message: full_message(), cursor: 1234, replay: true }));
    roundtrip_server(ServerBody::MessageEvent(MessageEvent {
        message: Message {
            kind: MessageKind::System,
            system: SystemKind::MembersAdded,
            deleted: true,
            ..minimal_message()
        },
        ..MessageEvent::default()
    }));
    roundtrip_server(ServerBody::MessageEditedEvent(MessageEditedEvent {
        conversation_id: 7,
        message_id: 9001,
        seq: 42,
        text: "fixed typo".into(),
        edited_at_ms: 5,
    }));
    roundtrip_server(ServerBody::MessageEditedEvent(MessageEditedEvent::default()));
    roundtrip_server(ServerBody::MessageDeletedEvent(MessageDeletedEvent {
        conversation_id: 7,
        message_id: 9001,
        seq: 42,
        scope: DeleteScope::ForEveryone,
        deleted_by: "u-alice".into(),
        at_ms: 6,
    }));
    roundtrip_server(ServerBody::MessageDeletedEvent(MessageDeletedEvent::default()));
    roundtrip_server(ServerBody::ReactionEvent(ReactionEvent {
        conversation_id: 7,
        message_id: 9001,
        user_id: "u-bob".into(),
        emoji: "👍".into(),
        removed: false,
        reactions: full_message().reactions,
    }));
    roundtrip_server(ServerBody::ReactionEvent(ReactionEvent {
        user_id: "u".into(),
        emoji: "x".into(),
        removed: true,
        ..ReactionEvent::default()
    }));
}

fn decode_client(body: impl Into<ClientBody>) -> Result<ClientFrame, DecodeError> {
    ClientFrame::decode(&ClientFrame::new(1, body).encode(), &Limits::default())
}

#[test]
fn empty_required_fields_are_rejected() {
    let err = decode_client(SendMessage::default()).unwrap_err();
    assert_eq!(err, DecodeError::MissingField { table: "SendMessage", field: "client_msg_id" });
    let err = decode_client(EditMessage { message_id: 1, text: String::new() }).unwrap_err();
    assert_eq!(err, DecodeError::MissingField { table: "EditMessage", field: "text" });
    let send =
        SendMessage { client_msg_id: "c".into(), attachments: vec![Attachment::default()], ..SendMessage::default() };
    assert_eq!(decode_client(send).unwrap_err(), DecodeError::MissingField { table: "Attachment", field: "url" });
    let event = MessageEvent { message: Message::default(), ..MessageEvent::default() };
    let err = ServerFrame::decode(&ServerFrame::new(0, event).encode(), &Limits::default()).unwrap_err();
    assert_eq!(err, DecodeError::MissingField { table: "UserRef", field: "id" });
}

#[test]
fn overlong_fields_are_rejected() {
    let send = SendMessage { client_msg_id: "c".repeat(max::CLIENT_MSG_ID + 1), ..SendMessage::default() };
    let err = decode_client(send).unwrap_err();
    assert_eq!(err, DecodeError::TooLong { table: "SendMessage", field: "client_msg_id", len: 65, max: 64 });
    assert_eq!(err.code(), crate::ErrorCode::PayloadTooLarge);

    let send = SendMessage {
        client_msg_id: "c".into(),
        attachments: vec![image(); max::ATTACHMENTS + 1],
        ..SendMessage::default()
    };
    assert_eq!(
        decode_client(send).unwrap_err(),
        DecodeError::TooLong { table: "SendMessage", field: "attachments", len: 33, max: 32 }
    );

    let react = React { message_id: 1, emoji: "e".repeat(max::SHORT + 1), remove: false };
    assert_eq!(
        decode_client(react).unwrap_err(),
        DecodeError::TooLong { table: "React", field: "emoji", len: max::SHORT + 1, max: max::SHORT }
    );
}

#[test]
fn unknown_enum_values_are_rejected() {
    let mut fbb = Fbb::with_capacity(64);
    let body = fb::DeleteMessage::create(&mut fbb, &fb::DeleteMessageArgs { message_id: 1, scope: fb::DeleteScope(9) });
    let root = fb::ClientFrame::create(
        &mut fbb,
        &fb::ClientFrameArgs {
            request_id: 1,
            body_type: fb::ClientBody::DeleteMessage,
            body: Some(body.as_union_value()),
        },
    );
    fbb.finish_size_prefixed(root, None);
    let err = ClientFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
    assert_eq!(err, DecodeError::UnknownEnum { table: "DeleteMessage", field: "scope", value: 9 });
}
