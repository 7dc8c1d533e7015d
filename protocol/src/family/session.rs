//! Session frames: hello/welcome with resume, token refresh, heartbeat, goodbye, profiles,
//! the generic `Done` reply and operator announcements.

use flatbuffers::WIPOffset;

use super::common::{KeyValue, ResumePoint, UserProfile, dec_fields, enc_fields};
use crate::convert::{
    Fbb, enc_opt_str, enc_str, enc_str_list_req, enc_table_list, max, opt_str, req_id, req_str, str_list, str_or_empty,
    table_list, u64_list, wire_enum,
};
use crate::{DecodeError, fb};

/// First frame on the control stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hello {
    pub protocol_version: u16,
    pub token: String,
    pub device_id: String,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    /// The client can receive typing and presence as QUIC datagrams.
    pub datagrams: bool,
    /// Replay what was missed since this point, then go live.
    pub resume: Option<ResumePoint>,
    /// The connection carries many users' sessions, each on its own control stream (a gateway).
    pub multiplexed: bool,
    /// No live client is behind the session (requests alone): it does not count in the user's presence.
    pub passive: bool,
    /// With `multiplexed`: the session's events may come on the connection's shared event stream.
    pub shared_events: bool,
}

impl Hello {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Hello<'b>> {
        let token = Some(fbb.create_string(&self.token));
        let device_id = Some(fbb.create_string(&self.device_id));
        let client_name = enc_opt_str(fbb, self.client_name.as_deref());
        let client_version = enc_opt_str(fbb, self.client_version.as_deref());
        let resume = self.resume.as_ref().map(|r| r.encode(fbb));
        fb::Hello::create(
            fbb,
            &fb::HelloArgs {
                protocol_version: self.protocol_version,
                token,
                device_id,
                client_name,
                client_version,
                datagrams: self.datagrams,
                resume,
                multiplexed: self.multiplexed,
                passive: self.passive,
                shared_events: self.shared_events,
            },
        )
    }

    pub(crate) fn decode(t: fb::Hello<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            protocol_version: t.protocol_version(),
            token: req_str(t.token(), "Hello", "token", max::TOKEN)?,
            device_id: req_id(t.device_id(), "Hello", "device_id", max::DEVICE_ID)?,
            client_name: opt_str(t.client_name(), "Hello", "client_name", max::SHORT)?,
            client_version: opt_str(t.client_version(), "Hello", "client_version", max::SHORT)?,
            datagrams: t.datagrams(),
            resume: t.resume().map(ResumePoint::decode).transpose()?,
            multiplexed: t.multiplexed(),
            passive: t.passive(),
            shared_events: t.shared_events(),
        })
    }
}

/// The first frame on every event stream: the session it belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStreamOpen {
    /// The QUIC stream id of the session's control stream.
    pub control_stream_id: u64,
    pub session_id: u64,
}

impl EventStreamOpen {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::EventStreamOpen<'b>> {
        fb::EventStreamOpen::create(
            fbb,
            &fb::EventStreamOpenArgs { control_stream_id: self.control_stream_id, session_id: self.session_id },
        )
    }

    pub(crate) fn decode(t: fb::EventStreamOpen<'_>) -> Result<Self, DecodeError> {
        Ok(Self { control_stream_id: t.control_stream_id(), session_id: t.session_id() })
    }
}

/// The `control_stream_id` that names a gateway connection's shared event stream (no QUIC stream id is
/// this large: they stop below 2^62).
pub const SHARED_EVENT_STREAM: u64 = u64::MAX;

/// On a gateway connection's shared event stream: `frames` (whole size-prefixed server frames, one or
/// more) are the next events of every session in `targets` (control stream ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayEvents {
    pub targets: Vec<u64>,
    pub frames: Vec<u8>,
}

impl GatewayEvents {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GatewayEvents<'b>> {
        let targets = Some(fbb.create_vector(&self.targets));
        let frames = Some(fbb.create_vector(&self.frames));
        fb::GatewayEvents::create(fbb, &fb::GatewayEventsArgs { targets, frames })
    }

    pub(crate) fn decode(t: fb::GatewayEvents<'_>) -> Result<Self, DecodeError> {
        let frames = t.frames().bytes();
        if frames.is_empty() {
            return Err(DecodeError::MissingField { table: "GatewayEvents", field: "frames" });
        }
        Ok(Self { targets: u64_list(Some(t.targets()), "GatewayEvents", "targets")?, frames: frames.to_vec() })
    }
}

/// The answer to Hello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Welcome {
    pub protocol_version: u16,
    pub session_id: u64,
    pub user: UserProfile,
    pub server_time_ms: u64,
    pub heartbeat_ms: u32,
    pub max_frame_size: u32,
    pub token_expires_at_ms: u64,
    pub global_cursor: u64,
    pub resuming: bool,
}

impl Welcome {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Welcome<'b>> {
        let user = Some(self.user.encode(fbb));
        fb::Welcome::create(
            fbb,
            &fb::WelcomeArgs {
                protocol_version: self.protocol_version,
                session_id: self.session_id,
                user,
                server_time_ms: self.server_time_ms,
                heartbeat_ms: self.heartbeat_ms,
                max_frame_size: self.max_frame_size,
                token_expires_at_ms: self.token_expires_at_ms,
                global_cursor: self.global_cursor,
                resuming: self.resuming,
            },
        )
    }

    pub(crate) fn decode(t: fb::Welcome<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            protocol_version: t.protocol_version(),
            session_id: t.session_id(),
            user: UserProfile::decode(t.user())?,
            server_time_ms: t.server_time_ms(),
            heartbeat_ms: t.heartbeat_ms(),
            max_frame_size: t.max_frame_size(),
            token_expires_at_ms: t.token_expires_at_ms(),
            global_cursor: t.global_cursor(),
            resuming: t.resuming(),
        })
    }
}

/// Replace the session's token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshToken {
    pub token: String,
}

impl RefreshToken {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::RefreshToken<'b>> {
        let token = Some(fbb.create_string(&self.token));
        fb::RefreshToken::create(fbb, &fb::RefreshTokenArgs { token })
    }

    pub(crate) fn decode(t: fb::RefreshToken<'_>) -> Result<Self, DecodeError> {
        Ok(Self { token: req_str(t.token(), "RefreshToken", "token", max::TOKEN)? })
    }
}

/// The new token was accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenRefreshed {
    pub expires_at_ms: u64,
}

impl TokenRefreshed {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::TokenRefreshed<'b>> {
        fb::TokenRefreshed::create(fbb, &fb::TokenRefreshedArgs { expires_at_ms: self.expires_at_ms })
    }

    pub(crate) fn decode(t: fb::TokenRefreshed<'_>) -> Result<Self, DecodeError> {
        Ok(Self { expires_at_ms: t.expires_at_ms() })
    }
}

/// Heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ping {
    pub nonce: u64,
}

impl Ping {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Ping<'b>> {
        fb::Ping::create(fbb, &fb::PingArgs { nonce: self.nonce })
    }

    pub(crate) fn decode(t: fb::Ping<'_>) -> Result<Self, DecodeError> {
        Ok(Self { nonce: t.nonce() })
    }
}

/// Heartbeat answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pong {
    pub nonce: u64,
    pub server_time_ms: u64,
}

impl Pong {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Pong<'b>> {
        fb::Pong::create(fbb, &fb::PongArgs { nonce: self.nonce, server_time_ms: self.server_time_ms })
    }

    pub(crate) fn decode(t: fb::Pong<'_>) -> Result<Self, DecodeError> {
        Ok(Self { nonce: t.nonce(), server_time_ms: t.server_time_ms() })
    }
}

wire_enum! {
    /// Why a connection is being closed on purpose.
    pub enum CloseReason => fb::CloseReason, default Normal {
        Normal,
        TokenExpired,
        /// Draining: reconnect (to another node) after `reconnect_after_ms`.
        ServerShutdown,
        Kicked,
        Revoked,
        ProtocolError,
        /// The same device connected again.
        Replaced,
        Idle,
    }
}

/// Sent by either side before closing on purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Goodbye {
    pub reason: CloseReason,
    pub message: String,
    pub reconnect_after_ms: u32,
}

impl Goodbye {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Goodbye<'b>> {
        let message = enc_str(fbb, &self.message);
        fb::Goodbye::create(
            fbb,
            &fb::GoodbyeArgs { reason: self.reason.to_wire(), message, reconnect_after_ms: self.reconnect_after_ms },
        )
    }

    pub(crate) fn decode(t: fb::Goodbye<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reason: CloseReason::from_wire(t.reason(), "Goodbye", "reason")?,
            message: str_or_empty(t.message(), "Goodbye", "message", max::TEXT)?,
            reconnect_after_ms: t.reconnect_after_ms(),
        })
    }
}

/// Update the caller's profile; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateProfile {
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    /// Replaces the app-defined fields when non-empty.
    pub fields: Vec<KeyValue>,
}

impl UpdateProfile {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UpdateProfile<'b>> {
        let display_name = enc_opt_str(fbb, self.display_name.as_deref());
        let avatar_url = enc_opt_str(fbb, self.avatar_url.as_deref());
        let fields = enc_fields(fbb, &self.fields);
        fb::UpdateProfile::create(fbb, &fb::UpdateProfileArgs { display_name, avatar_url, fields })
    }

    pub(crate) fn decode(t: fb::UpdateProfile<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            display_name: opt_str(t.display_name(), "UpdateProfile", "display_name", max::SHORT)?,
            avatar_url: opt_str(t.avatar_url(), "UpdateProfile", "avatar_url", max::URL)?,
            fields: dec_fields(t.fields(), "UpdateProfile", "fields")?,
        })
    }
}

/// Look up profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetUsers {
    pub user_ids: Vec<String>,
}

impl GetUsers {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetUsers<'b>> {
        let user_ids = Some(enc_str_list_req(fbb, &self.user_ids));
        fb::GetUsers::create(fbb, &fb::GetUsersArgs { user_ids })
    }

    pub(crate) fn decode(t: fb::GetUsers<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user_ids: str_list(Some(t.user_ids()), "GetUsers", "user_ids", max::USER_ID)? })
    }
}

/// Profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    pub users: Vec<UserProfile>,
}

impl Users {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Users<'b>> {
        let users = enc_table_list(fbb, &self.users, |u, fbb| u.encode(fbb));
        fb::Users::create(fbb, &fb::UsersArgs { users })
    }

    pub(crate) fn decode(t: fb::Users<'_>) -> Result<Self, DecodeError> {
        Ok(Self { users: table_list(t.users(), "Users", "users", max::LIST, UserProfile::decode)? })
    }
}

/// A user's profile changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileEvent {
    pub user: UserProfile,
}

impl ProfileEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ProfileEvent<'b>> {
        let user = Some(self.user.encode(fbb));
        fb::ProfileEvent::create(fbb, &fb::ProfileEventArgs { user })
    }

    pub(crate) fn decode(t: fb::ProfileEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user: UserProfile::decode(t.user())? })
    }
}

/// Generic success for requests that return nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done;

impl Done {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Done<'b>> {
        fb::Done::create(fbb, &fb::DoneArgs {})
    }

    pub(crate) fn decode(_: fb::Done<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

/// An operator's announcement to everyone or to one conversation (`conversation_id` 0: everyone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announcement {
    pub text: String,
    pub conversation_id: u64,
    pub at_ms: u64,
}

impl Announcement {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Announcement<'b>> {
        let text = Some(fbb.create_string(&self.text));
        fb::Announcement::create(
            fbb,
            &fb::AnnouncementArgs { text, conversation_id: self.conversation_id, at_ms: self.at_ms },
        )
    }

    pub(crate) fn decode(t: fb::Announcement<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            text: req_str(t.text(), "Announcement", "text", max::TEXT)?,
            conversation_id: t.conversation_id(),
            at_ms: t.at_ms(),
        })
    }
}

/// An app-defined event for one user's devices (its backend sends it through quipd's admin API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppEvent {
    /// The event name the app chose.
    pub name: String,
    /// Its data, as JSON text.
    pub data: String,
    pub at_ms: u64,
}

crate::convert::table_codec! {
    AppEvent => fb::AppEvent, fb::AppEventArgs {
        name: req_str(max::SHORT),
        data: str_or_empty(max::TEXT),
        at_ms: scalar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::common::ConversationCursor;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, ServerBody};

    fn profile() -> UserProfile {
        UserProfile {
            id: "u-alice".into(),
            display_name: Some("Alice".into()),
            avatar_url: Some("https://cdn.example/a.png".into()),
            fields: vec![KeyValue::new("role", "seller"), KeyValue::new("city", "")],
            updated_at_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::Hello(Hello {
            protocol_version: 1,
            token: "eyJ.token".into(),
            device_id: "phone".into(),
            client_name: Some("quip-sdk".into()),
            client_version: None,
            datagrams: true,
            resume: Some(ResumePoint {
                cursors: vec![ConversationCursor { conversation_id: 7, seq: 42 }],
                global_cursor: 99,
            }),
            multiplexed: true,
            passive: true,
            shared_events: true,
        }));
        roundtrip_client(ClientBody::Hello(Hello { token: "t".into(), device_id: "d".into(), ..Hello::default() }));
        roundtrip_client(ClientBody::RefreshToken(RefreshToken { token: "new".into() }));
        roundtrip_client(ClientBody::Ping(Ping { nonce: u64::MAX }));
        roundtrip_client(ClientBody::Goodbye(Goodbye {
            reason: CloseReason::Replaced,
            message: "bye".into(),
            reconnect_after_ms: 10,
        }));
        roundtrip_client(ClientBody::UpdateProfile(UpdateProfile {
            display_name: Some(String::new()),
            avatar_url: None,
            fields: vec![KeyValue::new("k", "v")],
        }));
        roundtrip_client(ClientBody::GetUsers(GetUsers { user_ids: vec!["a".into(), "b".into()] }));
        roundtrip_client(ClientBody::GetUsers(GetUsers { user_ids: vec![] }));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::Welcome(Welcome {
            protocol_version: 1,
            session_id: 5,
            user: profile(),
            server_time_ms: 1,
            heartbeat_ms: 15_000,
            max_frame_size: 1 << 20,
            token_expires_at_ms: 2,
            global_cursor: 3,
            resuming: true,
        }));
        roundtrip_server(ServerBody::TokenRefreshed(TokenRefreshed { expires_at_ms: 9 }));
        roundtrip_server(ServerBody::Pong(Pong { nonce: 1, server_time_ms: 2 }));
        roundtrip_server(ServerBody::EventStreamOpen(EventStreamOpen { control_stream_id: 4, session_id: 9 }));
        roundtrip_server(ServerBody::GatewayEvents(GatewayEvents {
            targets: vec![0, 4, 8],
            frames: crate::ServerFrame::new(0, Pong { nonce: 1, server_time_ms: 2 }).encode().to_vec(),
        }));
        roundtrip_server(ServerBody::Goodbye(Goodbye::default()));
        roundtrip_server(ServerBody::Users(Users {
            users: vec![profile(), UserProfile { id: "b".into(), ..Default::default() }],
        }));
        roundtrip_server(ServerBody::ProfileEvent(ProfileEvent { user: profile() }));
        roundtrip_server(ServerBody::Done(Done));
        roundtrip_server(ServerBody::Announcement(Announcement {
            text: "maintenance at 2am".into(),
            conversation_id: 0,
            at_ms: 5,
        }));
        roundtrip_server(ServerBody::AppEvent(AppEvent {
            name: "order:updated".into(),
            data: r#"{"orderId":"o-1"}"#.into(),
            at_ms: 6,
        }));
    }

    #[test]
    fn empty_required_fields_are_rejected() {
        let bytes =
            crate::ClientFrame::new(1, Hello { token: String::new(), device_id: "d".into(), ..Hello::default() })
                .encode();
        let err = crate::ClientFrame::decode(&bytes, &crate::Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "Hello", field: "token" });
    }

    #[test]
    fn overlong_fields_are_rejected() {
        let hello = Hello { token: "t".into(), device_id: "d".repeat(max::DEVICE_ID + 1), ..Hello::default() };
        let err = crate::ClientFrame::decode(&crate::ClientFrame::new(1, hello).encode(), &crate::Limits::default())
            .unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "Hello", field: "device_id", len: 65, max: 64 });
        assert_eq!(err.code(), crate::ErrorCode::PayloadTooLarge);
    }
}
