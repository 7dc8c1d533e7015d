//! Structured frames: `arbitrary` builds a client or server frame (most of the bodies, with every enum
//! and every optional, list and nested field) from the input; encoded, it must decode to the very same
//! frame, or be refused only for what the protocol forbids in a value (an empty required field, a
//! string or list over its maximum). A cut of the encoding, with its size prefix rewritten to match,
//! must be refused or decode to the same frame (only alignment padding was cut).
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use quip_protocol::family::calls::{
    Call, CallAccept, CallEnd, CallEvent, CallEventKind, CallIce, CallInvite, CallState,
};
use quip_protocol::family::conversations::Conversation;
use quip_protocol::family::conversations::{
    ConversationContext, ConversationInfo, ConversationKind, CreateGroup, ListConversations, Member, MemberRole,
    OpenDirect, SetMemberRole, UpdateConversation,
};
use quip_protocol::family::messages::{
    Attachment, AttachmentKind, CallOutcome, CallRecord, CallType, DeleteMessage, DeleteScope, Direction, EditMessage,
    GetHistory, HistoryPage, Message, MessageEvent, MessageKind, React, Reaction, ReplyPreview, SendMessage,
    SyncRequest, SystemKind,
};
use quip_protocol::family::presence::{PresenceStatus, SetPresence, Typing, TypingEvent, WatchPresence};
use quip_protocol::family::receipts::{MarkRead, ReceiptEvent, ReceiptKind};
use quip_protocol::family::session::{
    AppEvent, GatewayEvents, GetUsers, Hello, Ping, RefreshToken, UpdateProfile, Welcome,
};
use quip_protocol::{
    ClientBody, ClientFrame, ConversationCursor, DecodeError, ErrorCode, ErrorReply, FRAME_PREFIX_LEN, KeyValue,
    Limits, ResumePoint, ServerBody, ServerFrame, UserProfile, UserRef,
};

/// Picks one of `options` with an arbitrary byte (enums are `#[non_exhaustive]`).
fn pick<T: Copy>(options: &[T], b: u8) -> T {
    options[usize::from(b) % options.len()]
}

#[derive(Debug, Arbitrary)]
struct Kv(String, String);

fn kvs(v: Vec<Kv>) -> Vec<KeyValue> {
    v.into_iter().map(|Kv(k, v)| KeyValue::new(k, v)).collect()
}

#[derive(Debug, Arbitrary)]
struct ARef(String, Option<String>, Option<String>);

impl ARef {
    fn into_ref(self) -> UserRef {
        UserRef { id: self.0, display_name: self.1, avatar_url: self.2 }
    }
}

#[derive(Debug, Arbitrary)]
struct AResume(Vec<(u64, u64)>, u64);

impl AResume {
    fn into_point(self) -> ResumePoint {
        ResumePoint {
            cursors: self.0.into_iter().map(|(c, s)| ConversationCursor { conversation_id: c, seq: s }).collect(),
            global_cursor: self.1,
        }
    }
}

#[derive(Debug, Arbitrary)]
struct AAttachment(u8, String, String, String, u64, u32, u32, u32, String);

impl AAttachment {
    fn into_attachment(self) -> Attachment {
        use AttachmentKind::*;
        Attachment {
            kind: pick(&[File, Image, Video, Audio, Pdf, Doc], self.0),
            url: self.1,
            mime: self.2,
            name: self.3,
            size: self.4,
            width: self.5,
            height: self.6,
            duration_ms: self.7,
            thumbnail_url: self.8,
        }
    }
}

const MESSAGE_KINDS: &[MessageKind] = &[
    MessageKind::Text,
    MessageKind::Image,
    MessageKind::Video,
    MessageKind::Audio,
    MessageKind::File,
    MessageKind::System,
    MessageKind::Call,
];

#[derive(Debug, Arbitrary)]
struct AMessage {
    ids: (u64, u64, u64),
    sender: ARef,
    kind: u8,
    text: String,
    attachments: Vec<AAttachment>,
    reply_to: Option<(u64, u64, String, u8, String, bool)>,
    client_msg_id: String,
    times: (u64, u64),
    deleted: bool,
    reactions: Vec<(String, u32, Vec<String>)>,
    call: Option<(u64, u8, u8, String, [u64; 4])>,
    system: u8,
    metadata: Vec<Kv>,
}

impl AMessage {
    fn into_message(self) -> Message {
        Message {
            id: self.ids.0,
            conversation_id: self.ids.1,
            seq: self.ids.2,
            sender: self.sender.into_ref(),
            kind: pick(MESSAGE_KINDS, self.kind),
            text: self.text,
            attachments: self.attachments.into_iter().map(AAttachment::into_attachment).collect(),
            reply_to: self.reply_to.map(|(message_id, seq, sender_id, kind, text, deleted)| ReplyPreview {
                message_id,
                seq,
                sender_id,
                kind: pick(MESSAGE_KINDS, kind),
                text,
                deleted,
            }),
            client_msg_id: self.client_msg_id,
            created_at_ms: self.times.0,
            edited_at_ms: self.times.1,
            deleted: self.deleted,
            reactions: self
                .reactions
                .into_iter()
                .map(|(emoji, count, user_ids)| Reaction { emoji, count, user_ids })
                .collect(),
            call: self.call.map(|(call_id, t, o, caller_id, times)| CallRecord {
                call_id,
                call_type: pick(&[CallType::Audio, CallType::Video], t),
                outcome: pick(
                    &[
                        CallOutcome::Completed,
                        CallOutcome::Missed,
                        CallOutcome::Declined,
                        CallOutcome::Cancelled,
                        CallOutcome::Failed,
                    ],
                    o,
                ),
                caller_id,
                started_at_ms: times[0],
                answered_at_ms: times[1],
                ended_at_ms: times[2],
                duration_ms: times[3],
            }),
            system: pick(
                &[
                    SystemKind::Unspecified,
                    SystemKind::GroupCreated,
                    SystemKind::MembersAdded,
                    SystemKind::MemberRemoved,
                    SystemKind::MemberLeft,
                    SystemKind::RoleChanged,
                    SystemKind::Renamed,
                ],
                self.system,
            ),
            metadata: kvs(self.metadata),
        }
    }
}

const ROLES: &[MemberRole] = &[MemberRole::Member, MemberRole::Admin, MemberRole::Owner];

#[derive(Debug, Arbitrary)]
struct AContext(String, String, String);

impl AContext {
    fn into_context(self) -> ConversationContext {
        ConversationContext { kind: self.0, id: self.1, title: self.2 }
    }
}

#[derive(Debug, Arbitrary)]
struct ACall(u64, u64, u8, String, u8, u64, u64, String);

impl ACall {
    fn into_call(self) -> Call {
        Call {
            id: self.0,
            conversation_id: self.1,
            call_type: pick(&[CallType::Audio, CallType::Video], self.2),
            caller_id: self.3,
            state: pick(&[CallState::Ringing, CallState::Active, CallState::Ended], self.4),
            started_at_ms: self.5,
            answered_at_ms: self.6,
            answered_by_device: self.7,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum AClient {
    Hello(u16, String, String, Option<String>, Option<String>, bool, Option<AResume>, (bool, bool, bool)),
    RefreshToken(String),
    Ping(u64),
    UpdateProfile(Option<String>, Option<String>, Vec<Kv>),
    GetUsers(Vec<String>),
    OpenDirect(String, Option<AContext>),
    CreateGroup(String, Vec<String>, String, String),
    ListConversations(Option<String>, u32, bool),
    UpdateConversation(u64, Option<String>, Option<String>, Option<String>),
    SetMemberRole(u64, String, u8),
    SendMessage(u64, String, u8, String, Vec<AAttachment>, u64, (Vec<Kv>, bool)),
    EditMessage(u64, String),
    DeleteMessage(u64, bool),
    React(u64, String, bool),
    GetHistory(u64, u64, bool, u32),
    SyncRequest(AResume),
    MarkRead(u64, u64, Vec<u64>),
    Typing(u64, bool),
    SetPresence(u8),
    WatchPresence(Vec<String>, bool),
    CallInvite(u64, bool, String),
    CallAccept(u64, String),
    CallEnd(u64, String),
    CallIce(u64, String, Option<String>, u16),
}

impl AClient {
    fn into_body(self) -> ClientBody {
        match self {
            AClient::Hello(
                protocol_version,
                token,
                device_id,
                client_name,
                client_version,
                datagrams,
                resume,
                flags,
            ) => Hello {
                protocol_version,
                token,
                device_id,
                client_name,
                client_version,
                datagrams,
                resume: resume.map(AResume::into_point),
                multiplexed: flags.0,
                passive: flags.1,
                shared_events: flags.2,
            }
            .into(),
            AClient::RefreshToken(token) => RefreshToken { token }.into(),
            AClient::Ping(nonce) => Ping { nonce }.into(),
            AClient::UpdateProfile(display_name, avatar_url, fields) => {
                UpdateProfile { display_name, avatar_url, fields: kvs(fields) }.into()
            }
            AClient::GetUsers(user_ids) => GetUsers { user_ids }.into(),
            AClient::OpenDirect(peer_user_id, context) => {
                OpenDirect { peer_user_id, context: context.map(AContext::into_context) }.into()
            }
            AClient::CreateGroup(title, member_ids, avatar_url, description) => {
                CreateGroup { title, member_ids, avatar_url, description }.into()
            }
            AClient::ListConversations(cursor, limit, include_archived) => {
                ListConversations { cursor, limit, include_archived }.into()
            }
            AClient::UpdateConversation(conversation_id, title, avatar_url, description) => {
                UpdateConversation { conversation_id, title, avatar_url, description }.into()
            }
            AClient::SetMemberRole(conversation_id, user_id, role) => {
                SetMemberRole { conversation_id, user_id, role: pick(ROLES, role) }.into()
            }
            AClient::SendMessage(conversation_id, client_msg_id, kind, text, attachments, reply_to, rest) => {
                SendMessage {
                    conversation_id,
                    client_msg_id,
                    kind: pick(MESSAGE_KINDS, kind),
                    text,
                    attachments: attachments.into_iter().map(AAttachment::into_attachment).collect(),
                    reply_to,
                    metadata: kvs(rest.0),
                    leave_read_state: rest.1,
                }
                .into()
            }
            AClient::EditMessage(message_id, text) => EditMessage { message_id, text }.into(),
            AClient::DeleteMessage(message_id, everyone) => DeleteMessage {
                message_id,
                scope: if everyone { DeleteScope::ForEveryone } else { DeleteScope::ForMe },
            }
            .into(),
            AClient::React(message_id, emoji, remove) => React { message_id, emoji, remove }.into(),
            AClient::GetHistory(conversation_id, anchor_seq, forward, limit) => GetHistory {
                conversation_id,
                anchor_seq,
                direction: if forward { Direction::Forward } else { Direction::Backward },
                limit,
            }
            .into(),
            AClient::SyncRequest(since) => SyncRequest { since: since.into_point() }.into(),
            AClient::MarkRead(conversation_id, up_to_seq, message_ids) => {
                MarkRead { conversation_id, up_to_seq, message_ids }.into()
            }
            AClient::Typing(conversation_id, active) => Typing { conversation_id, active }.into(),
            AClient::SetPresence(s) => {
                use PresenceStatus::*;
                SetPresence { status: pick(&[Offline, Online, Away, Busy, Invisible], s) }.into()
            }
            AClient::WatchPresence(user_ids, unwatch) => WatchPresence { user_ids, unwatch }.into(),
            AClient::CallInvite(conversation_id, video, sdp_offer) => CallInvite {
                conversation_id,
                call_type: if video { CallType::Video } else { CallType::Audio },
                sdp_offer,
            }
            .into(),
            AClient::CallAccept(call_id, sdp_answer) => CallAccept { call_id, sdp_answer }.into(),
            AClient::CallEnd(call_id, reason) => CallEnd { call_id, reason }.into(),
            AClient::CallIce(call_id, candidate, sdp_mid, sdp_mline_index) => {
                CallIce { call_id, candidate, sdp_mid, sdp_mline_index }.into()
            }
        }
    }
}

// A fuzz input is built once per run: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Arbitrary)]
enum AServer {
    Welcome(u16, u64, ARef, Vec<Kv>, u64, u32, u32, u64, u64, bool),
    ErrorReply(u8, String, Option<u32>, Option<String>),
    MessageEvent(AMessage, u64, bool),
    HistoryPage(u64, Vec<AMessage>, u64, bool),
    ConversationInfo {
        ids: (u64, bool),
        texts: (String, String, String, String),
        context: Option<AContext>,
        members: Vec<(ARef, u8, u64)>,
        numbers: [u64; 6],
        unread: u32,
        last_message: Option<AMessage>,
        flags: (bool, bool, bool, bool),
    },
    ReceiptEvent(u64, String, bool, u64, u64, u64),
    TypingEvent(u64, String, bool, u32, Option<String>),
    CallEvent(u8, ACall, String, String, String, u64),
    AppEvent(String, String, u64),
    GatewayEvents(Vec<u64>, Vec<u8>),
}

impl AServer {
    fn into_body(self) -> ServerBody {
        match self {
            AServer::Welcome(protocol_version, session_id, user, fields, now, hb, max, exp, cursor, resuming) => {
                let r = user.into_ref();
                Welcome {
                    protocol_version,
                    session_id,
                    user: UserProfile {
                        id: r.id,
                        display_name: r.display_name,
                        avatar_url: r.avatar_url,
                        fields: kvs(fields),
                        updated_at_ms: now,
                    },
                    server_time_ms: now,
                    heartbeat_ms: hb,
                    max_frame_size: max,
                    token_expires_at_ms: exp,
                    global_cursor: cursor,
                    resuming,
                }
                .into()
            }
            AServer::ErrorReply(code, message, retry_after_ms, field) => {
                // 0 on the wire means "no retry_after" (errors.fbs has no optional scalar): Some(0) is sent
                // as None, by design.
                let retry_after_ms = retry_after_ms.filter(|ms| *ms > 0);
                ErrorReply { code: pick(ErrorCode::ALL, code), message, retry_after_ms, field }.into()
            }
            AServer::MessageEvent(m, cursor, replay) => {
                MessageEvent { message: m.into_message(), cursor, replay }.into()
            }
            AServer::HistoryPage(conversation_id, messages, next_anchor_seq, has_more) => HistoryPage {
                conversation_id,
                messages: messages.into_iter().map(AMessage::into_message).collect(),
                next_anchor_seq,
                has_more,
            }
            .into(),
            AServer::ConversationInfo { ids, texts, context, members, numbers, unread, last_message, flags } => {
                ConversationInfo {
                    conversation: Conversation {
                        id: ids.0,
                        kind: if ids.1 { ConversationKind::Group } else { ConversationKind::Direct },
                        title: texts.0,
                        avatar_url: texts.1,
                        description: texts.2,
                        context: context.map(AContext::into_context),
                        members: members
                            .into_iter()
                            .map(|(u, role, joined_at_ms)| Member {
                                user: u.into_ref(),
                                role: pick(ROLES, role),
                                joined_at_ms,
                            })
                            .collect(),
                        created_by: texts.3,
                        created_at_ms: numbers[0],
                        last_activity_ms: numbers[1],
                        last_seq: numbers[2],
                        last_message: last_message.map(|m| Box::new(m.into_message())),
                        unread,
                        read_up_to_seq: numbers[3],
                        delivered_up_to_seq: numbers[4],
                        muted_until_ms: numbers[5],
                        archived: flags.0,
                        blocked_by_me: flags.1,
                        blocked_me: flags.2,
                    },
                    created: flags.3,
                }
                .into()
            }
            AServer::ReceiptEvent(conversation_id, user_id, read, up_to_seq, at_ms, from_seq) => ReceiptEvent {
                conversation_id,
                user_id,
                kind: if read { ReceiptKind::Read } else { ReceiptKind::Delivered },
                up_to_seq,
                at_ms,
                from_seq,
            }
            .into(),
            AServer::TypingEvent(conversation_id, user_id, active, expires_in_ms, display_name) => {
                TypingEvent { conversation_id, user_id, active, expires_in_ms, display_name }.into()
            }
            AServer::CallEvent(kind, call, from_user_id, sdp, reason, at_ms) => {
                use CallEventKind::*;
                CallEvent {
                    kind: pick(&[Incoming, Accepted, AnsweredElsewhere, Rejected, Ended, Missed], kind),
                    call: call.into_call(),
                    from_user_id,
                    sdp,
                    reason,
                    at_ms,
                }
                .into()
            }
            AServer::AppEvent(name, data, at_ms) => AppEvent { name, data, at_ms }.into(),
            AServer::GatewayEvents(targets, frames) => GatewayEvents { targets, frames }.into(),
        }
    }
}

// A fuzz input is built once per run: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Arbitrary)]
enum Input {
    Client(u64, AClient),
    Server(u64, AServer),
}

#[derive(Debug, Arbitrary)]
struct Case {
    input: Input,
    /// Where to cut the encoding for the truncation check.
    cut: u16,
}

/// What a well-formed encoding of a domain value may be refused for: the value breaks a rule of the
/// protocol (an empty required field, something too long). Never the framing, the verifier or a tag.
fn refused_for_the_value(e: &DecodeError) -> bool {
    matches!(e, DecodeError::MissingField { .. } | DecodeError::TooLong { .. })
}

fn check<F: PartialEq + std::fmt::Debug>(
    frame: &F,
    bytes: &[u8],
    cut: u16,
    decode: impl Fn(&[u8]) -> Result<F, DecodeError>,
) {
    match decode(bytes) {
        Ok(back) => assert_eq!(&back, frame, "the frame did not round-trip"),
        Err(e) => {
            assert!(refused_for_the_value(&e), "a well-formed encoding was refused: {e}");
            return;
        }
    }
    let cut = FRAME_PREFIX_LEN + usize::from(cut) % (bytes.len() - FRAME_PREFIX_LEN);
    let mut relabelled = bytes[..cut].to_vec();
    let len = u32::try_from(cut - FRAME_PREFIX_LEN).unwrap();
    relabelled[..FRAME_PREFIX_LEN].copy_from_slice(&len.to_le_bytes());
    if let Ok(other) = decode(&relabelled) {
        assert_eq!(&other, frame, "a {cut}-byte cut decoded to another frame");
    }
    assert!(decode(&bytes[..cut]).is_err(), "a {cut}-byte prefix decoded");
}

fuzz_target!(|case: Case| {
    let limits = Limits::default();
    match case.input {
        Input::Client(request_id, body) => {
            let frame = ClientFrame { request_id, body: body.into_body() };
            check(&frame, &frame.encode(), case.cut, |b| ClientFrame::decode(b, &limits));
        }
        Input::Server(request_id, body) => {
            let frame = ServerFrame { request_id, body: body.into_body() };
            check(&frame, &frame.encode(), case.cut, |b| ServerFrame::decode(b, &limits));
        }
    }
});
