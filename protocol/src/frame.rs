//! The two frame roots: [`ClientFrame`] (client to server) and [`ServerFrame`] (server to client).
//!
//! Each body variant wraps the domain type of the same name from [`crate::family`]. The variant lists
//! below mirror the unions in `schema/frame.fbs` in order.

use bytes::Bytes;
use flatbuffers::FlatBufferBuilder;

use crate::family::calls::*;
use crate::family::conversations::*;
use crate::family::errors::*;
use crate::family::messages::*;
use crate::family::notifications::*;
use crate::family::presence::*;
use crate::family::receipts::*;
use crate::family::session::*;
use crate::framing::check_frame;
use crate::{DecodeError, Limits, fb};

macro_rules! frame_root {
    (
        $(#[$fmeta:meta])*
        frame $frame:ident => $fb_frame:ident, $fb_args:ident;
        $(#[$bmeta:meta])*
        body $body:ident => $fb_body:ident {
            $( $variant:ident => $accessor:ident ),+ $(,)?
        }
    ) => {
        $(#[$fmeta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $frame {
            /// Chosen by the client for a request, echoed by the server in the reply; 0 for events.
            pub request_id: u64,
            pub body: $body,
        }

        $(#[$bmeta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $body {
            $( $variant($variant) ),+
        }

        impl $body {
            /// The variant's name as in the schema (for logs and metrics labels).
            pub fn name(&self) -> &'static str {
                match self {
                    $( $body::$variant(_) => stringify!($variant) ),+
                }
            }
        }

        $( impl From<$variant> for $body {
            fn from(v: $variant) -> Self {
                $body::$variant(v)
            }
        } )+

        impl $frame {
            pub fn new(request_id: u64, body: impl Into<$body>) -> Self {
                Self { request_id, body: body.into() }
            }

            /// Encodes the frame with its 4-byte size prefix, ready to write to a stream.
            pub fn encode(&self) -> Bytes {
                let mut fbb = FlatBufferBuilder::with_capacity(128);
                let (body_type, body) = match &self.body {
                    $( $body::$variant(v) => (fb::$fb_body::$variant, v.encode(&mut fbb).as_union_value()) ),+
                };
                let root = fb::$fb_frame::create(
                    &mut fbb,
                    &fb::$fb_args { request_id: self.request_id, body_type, body: Some(body) },
                );
                fbb.finish_size_prefixed(root, None);
                let (buf, head) = fbb.collapse();
                Bytes::from(buf).slice(head..)
            }

            /// Decodes one whole size-prefixed frame (as returned by [`crate::FrameDecoder`]).
            /// The buffer is verified against `limits` before any field is read.
            pub fn decode(frame: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
                check_frame(frame, limits.max_frame_size)?;
                let opts = limits.verifier_options();
                let root = flatbuffers::size_prefixed_root_with_opts::<fb::$fb_frame>(&opts, frame)?;
                let tag = root.body_type();
                let unknown = DecodeError::UnknownVariant { union: stringify!($fb_body), tag: tag.0 };
                let body = match tag {
                    $( fb::$fb_body::$variant => {
                        $body::$variant($variant::decode(root.$accessor().ok_or(unknown)?)?)
                    } )+
                    _ => return Err(unknown),
                };
                Ok(Self { request_id: root.request_id(), body })
            }

            /// The `request_id` of a frame that `decode` refused, when the frame itself is sound
            /// (only a field or the body's content was wrong), so the error can answer that request;
            /// 0 when the frame cannot be read at all.
            pub fn peek_request_id(frame: &[u8], limits: &Limits) -> u64 {
                if check_frame(frame, limits.max_frame_size).is_err() {
                    return 0;
                }
                let opts = limits.verifier_options();
                flatbuffers::size_prefixed_root_with_opts::<fb::$fb_frame>(&opts, frame).map_or(0, |r| r.request_id())
            }
        }
    };
}

frame_root! {
    /// A frame sent by a client.
    frame ClientFrame => ClientFrame, ClientFrameArgs;
    /// Every request a client can make.
    body ClientBody => ClientBody {
        Hello => body_as_hello,
        RefreshToken => body_as_refresh_token,
        Ping => body_as_ping,
        Goodbye => body_as_goodbye,
        UpdateProfile => body_as_update_profile,
        GetUsers => body_as_get_users,
        OpenDirect => body_as_open_direct,
        CreateGroup => body_as_create_group,
        GetConversation => body_as_get_conversation,
        ListConversations => body_as_list_conversations,
        UpdateConversation => body_as_update_conversation,
        AddMembers => body_as_add_members,
        RemoveMember => body_as_remove_member,
        SetMemberRole => body_as_set_member_role,
        LeaveConversation => body_as_leave_conversation,
        HideConversation => body_as_hide_conversation,
        ArchiveConversation => body_as_archive_conversation,
        MuteConversation => body_as_mute_conversation,
        BlockUser => body_as_block_user,
        UnblockUser => body_as_unblock_user,
        ListBlocked => body_as_list_blocked,
        SendMessage => body_as_send_message,
        EditMessage => body_as_edit_message,
        DeleteMessage => body_as_delete_message,
        React => body_as_react,
        GetMessage => body_as_get_message,
        GetHistory => body_as_get_history,
        SyncRequest => body_as_sync_request,
        MarkDelivered => body_as_mark_delivered,
        MarkRead => body_as_mark_read,
        GetUnreadCounts => body_as_get_unread_counts,
        GetReceipts => body_as_get_receipts,
        Typing => body_as_typing,
        SetPresence => body_as_set_presence,
        GetPresence => body_as_get_presence,
        GetOnlineMembers => body_as_get_online_members,
        WatchPresence => body_as_watch_presence,
        ListNotifications => body_as_list_notifications,
        MarkNotificationsRead => body_as_mark_notifications_read,
        MarkAllNotificationsRead => body_as_mark_all_notifications_read,
        CallInvite => body_as_call_invite,
        CallAccept => body_as_call_accept,
        CallReject => body_as_call_reject,
        CallEnd => body_as_call_end,
        CallIce => body_as_call_ice,
    }
}

frame_root! {
    /// A frame sent by the server: a reply (request_id of the request) or an event (request_id 0).
    frame ServerFrame => ServerFrame, ServerFrameArgs;
    /// Every reply and event the server sends.
    body ServerBody => ServerBody {
        Welcome => body_as_welcome,
        Done => body_as_done,
        ErrorReply => body_as_error_reply,
        Pong => body_as_pong,
        TokenRefreshed => body_as_token_refreshed,
        Goodbye => body_as_goodbye,
        Users => body_as_users,
        ConversationInfo => body_as_conversation_info,
        ConversationPage => body_as_conversation_page,
        BlockedUsers => body_as_blocked_users,
        MessageAck => body_as_message_ack,
        MessageInfo => body_as_message_info,
        HistoryPage => body_as_history_page,
        SyncDone => body_as_sync_done,
        UnreadCounts => body_as_unread_counts,
        MessageReceipts => body_as_message_receipts,
        PresenceList => body_as_presence_list,
        NotificationPage => body_as_notification_page,
        CallInfo => body_as_call_info,
        MessageEvent => body_as_message_event,
        MessageEditedEvent => body_as_message_edited_event,
        MessageDeletedEvent => body_as_message_deleted_event,
        ReactionEvent => body_as_reaction_event,
        ConversationEvent => body_as_conversation_event,
        ReceiptEvent => body_as_receipt_event,
        UnreadEvent => body_as_unread_event,
        TypingEvent => body_as_typing_event,
        PresenceEvent => body_as_presence_event,
        NotificationEvent => body_as_notification_event,
        NotificationsReadEvent => body_as_notifications_read_event,
        CallEvent => body_as_call_event,
        CallIceEvent => body_as_call_ice_event,
        ProfileEvent => body_as_profile_event,
        Announcement => body_as_announcement,
        EventStreamOpen => body_as_event_stream_open,
        AppEvent => body_as_app_event,
        GatewayEvents => body_as_gateway_events,
    }
}

impl ServerBody {
    /// True for unsolicited events (as opposed to replies to a request).
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            ServerBody::MessageEvent(_)
                | ServerBody::MessageEditedEvent(_)
                | ServerBody::MessageDeletedEvent(_)
                | ServerBody::ReactionEvent(_)
                | ServerBody::ConversationEvent(_)
                | ServerBody::ReceiptEvent(_)
                | ServerBody::UnreadEvent(_)
                | ServerBody::TypingEvent(_)
                | ServerBody::PresenceEvent(_)
                | ServerBody::NotificationEvent(_)
                | ServerBody::NotificationsReadEvent(_)
                | ServerBody::CallEvent(_)
                | ServerBody::CallIceEvent(_)
                | ServerBody::ProfileEvent(_)
                | ServerBody::Announcement(_)
                | ServerBody::AppEvent(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use flatbuffers::FlatBufferBuilder;

    use super::*;
    use crate::family::messages::SendMessage;
    use crate::family::session::Ping;

    fn limits() -> Limits {
        Limits::default()
    }

    /// A client frame whose union tag is `tag` but whose body is a Ping table.
    fn frame_with_tag(tag: u8) -> Vec<u8> {
        let mut fbb = FlatBufferBuilder::new();
        let ping = fb::Ping::create(&mut fbb, &fb::PingArgs { nonce: 5 });
        let root = fb::ClientFrame::create(
            &mut fbb,
            &fb::ClientFrameArgs { request_id: 1, body_type: fb::ClientBody(tag), body: Some(ping.as_union_value()) },
        );
        fbb.finish_size_prefixed(root, None);
        fbb.finished_data().to_vec()
    }

    #[test]
    fn the_untouched_frame_decodes() {
        let ok = ClientFrame::decode(&frame_with_tag(fb::ClientBody::Ping.0), &limits()).unwrap();
        assert_eq!(ok, ClientFrame::new(1, Ping { nonce: 5 }));
    }

    #[test]
    fn a_tag_naming_a_table_with_required_fields_is_rejected() {
        let err = ClientFrame::decode(&frame_with_tag(fb::ClientBody::Hello.0), &limits()).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { ref detail } if detail.contains("token")), "{err:?}");
        assert_eq!(err.code(), crate::ErrorCode::BadFrame);
    }

    #[test]
    fn an_unknown_tag_is_unsupported() {
        let err = ClientFrame::decode(&frame_with_tag(200), &limits()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownVariant { union: "ClientBody", tag: 200 });
        assert_eq!(err.code(), crate::ErrorCode::UnsupportedFrame);
    }

    #[test]
    fn the_none_tag_is_rejected() {
        // The body is required, so the verifier refuses a NONE body before its tag is looked at.
        let err = ClientFrame::decode(&frame_with_tag(0), &limits()).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { .. }), "{err:?}");
        assert_eq!(err.code(), crate::ErrorCode::BadFrame);
    }

    #[test]
    fn a_refused_but_sound_frame_still_names_its_request() {
        let empty_offer = crate::family::calls::CallInvite { conversation_id: 1, ..Default::default() };
        let bytes = ClientFrame::new(7, empty_offer).encode();
        assert!(ClientFrame::decode(&bytes, &limits()).is_err());
        assert_eq!(ClientFrame::peek_request_id(&bytes, &limits()), 7);
        // Bytes the verifier refuses name no request.
        assert_eq!(ClientFrame::peek_request_id(&frame_with_tag(fb::ClientBody::Hello.0), &limits()), 0);
        assert_eq!(ClientFrame::peek_request_id(b"garbage!", &limits()), 0);
        assert_eq!(ClientFrame::peek_request_id(&bytes[..bytes.len() - 1], &limits()), 0);
    }

    #[test]
    fn an_oversized_frame_is_rejected_before_verification() {
        let small = Limits { max_frame_size: crate::limits::MIN_FRAME_SIZE, ..Limits::default() };
        let big = ClientFrame::new(
            1,
            SendMessage {
                conversation_id: 1,
                client_msg_id: "c".into(),
                text: "x".repeat(20_000),
                ..Default::default()
            },
        )
        .encode();
        let err = ClientFrame::decode(&big, &small).unwrap_err();
        assert!(matches!(err, DecodeError::FrameTooLarge { max, .. } if max == small.max_frame_size));
        assert!(ClientFrame::decode(&big, &limits()).is_ok());
    }

    #[test]
    fn verifier_limits_apply() {
        let shallow = Limits { max_depth: 8, max_tables: 16, ..Limits::default() };
        let many = crate::family::session::GetUsers { user_ids: (0..100).map(|i| format!("u{i}")).collect() };
        assert!(ClientFrame::decode(&ClientFrame::new(1, many.clone()).encode(), &limits()).is_ok());
        let users = crate::family::session::Users {
            users: (0..100).map(|i| crate::UserProfile { id: format!("u{i}"), ..Default::default() }).collect(),
        };
        let err = ServerFrame::decode(&ServerFrame::new(1, users).encode(), &shallow).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { .. }), "{err:?}");
    }

    /// A small deterministic generator, so failures reproduce.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (xorshift(&mut seed) % 200) as usize;
            let mut buf: Vec<u8> = (len as u32).to_le_bytes().to_vec();
            buf.extend((0..len).map(|_| xorshift(&mut seed) as u8));
            let _ = ClientFrame::decode(&buf, &limits());
            let _ = ServerFrame::decode(&buf, &limits());
        }
    }

    #[test]
    fn every_single_byte_mutation_of_real_frames_is_handled() {
        let samples = [
            ClientFrame::new(
                3,
                SendMessage { conversation_id: 9, client_msg_id: "m1".into(), text: "hi".into(), ..Default::default() },
            )
            .encode(),
            frame_with_tag(fb::ClientBody::Ping.0).into(),
        ];
        for sample in samples {
            for i in crate::FRAME_PREFIX_LEN..sample.len() {
                for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                    let mut m = sample.to_vec();
                    m[i] = v;
                    let _ = ClientFrame::decode(&m, &limits());
                    let _ = ServerFrame::decode(&m, &limits());
                }
            }
        }
    }

    #[test]
    fn every_client_tag_on_every_sample_never_panics() {
        for tag in 0..=u8::MAX {
            let _ = ClientFrame::decode(&frame_with_tag(tag), &limits());
        }
    }
}
