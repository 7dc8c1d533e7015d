//! Typing indicators and presence: ephemeral signals that may travel as QUIC datagrams.

use flatbuffers::WIPOffset;

use super::common::{KeyValue, dec_fields, enc_fields};
use crate::convert::{
    Fbb, enc_opt_str, enc_str_list_req, enc_table_list, max, opt_str, req_str, str_list, table_list, wire_enum,
};
use crate::{DecodeError, fb};

/// Start or refresh (`active`) or stop typing. Expires by itself when not refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typing {
    pub conversation_id: u64,
    pub active: bool,
}

impl Default for Typing {
    /// As the schema: active.
    fn default() -> Self {
        Self { conversation_id: 0, active: true }
    }
}

impl Typing {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Typing<'b>> {
        fb::Typing::create(fbb, &fb::TypingArgs { conversation_id: self.conversation_id, active: self.active })
    }

    pub(crate) fn decode(t: fb::Typing<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), active: t.active() })
    }
}

/// Another member is typing (or stopped). Only online members get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingEvent {
    pub conversation_id: u64,
    pub user_id: String,
    pub active: bool,
    /// When active: the indicator disappears after this long without a refresh.
    pub expires_in_ms: u32,
    /// The typing user's display name, when they have one.
    pub display_name: Option<String>,
}

impl Default for TypingEvent {
    /// As the schema: active.
    fn default() -> Self {
        Self { conversation_id: 0, user_id: String::new(), active: true, expires_in_ms: 0, display_name: None }
    }
}

impl TypingEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::TypingEvent<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        let display_name = enc_opt_str(fbb, self.display_name.as_deref());
        fb::TypingEvent::create(
            fbb,
            &fb::TypingEventArgs {
                conversation_id: self.conversation_id,
                user_id,
                active: self.active,
                expires_in_ms: self.expires_in_ms,
                display_name,
            },
        )
    }

    pub(crate) fn decode(t: fb::TypingEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            user_id: req_str(t.user_id(), "TypingEvent", "user_id", max::USER_ID)?,
            active: t.active(),
            expires_in_ms: t.expires_in_ms(),
            display_name: opt_str(t.display_name(), "TypingEvent", "display_name", max::SHORT)?,
        })
    }
}

wire_enum! {
    /// A user's presence status.
    pub enum PresenceStatus => fb::PresenceStatus, default Offline {
        Offline,
        Online,
        Away,
        Busy,
        /// Reported to others as Offline.
        Invisible,
    }
}

/// One user's presence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    pub user_id: String,
    /// Invisible users are reported to others as Offline.
    pub status: PresenceStatus,
    pub last_seen_ms: u64,
    /// Connected devices (only in answers about the caller themself).
    pub devices: u32,
    /// The user's display name, when they have one.
    pub display_name: Option<String>,
    /// The profile fields the deployment copies from tokens (`auth.profile_claims`), e.g. a user type.
    pub fields: Vec<KeyValue>,
}

impl Presence {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Presence<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        let display_name = enc_opt_str(fbb, self.display_name.as_deref());
        let fields = enc_fields(fbb, &self.fields);
        fb::Presence::create(
            fbb,
            &fb::PresenceArgs {
                user_id,
                status: self.status.to_wire(),
                last_seen_ms: self.last_seen_ms,
                devices: self.devices,
                display_name,
                fields,
            },
        )
    }

    pub(crate) fn decode(t: fb::Presence<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user_id: req_str(t.user_id(), "Presence", "user_id", max::USER_ID)?,
            status: PresenceStatus::from_wire(t.status(), "Presence", "status")?,
            last_seen_ms: t.last_seen_ms(),
            devices: t.devices(),
            display_name: opt_str(t.display_name(), "Presence", "display_name", max::SHORT)?,
            fields: dec_fields(t.fields(), "Presence", "fields")?,
        })
    }
}

/// Set the caller's explicit status (online, away, busy, invisible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetPresence {
    pub status: PresenceStatus,
}

impl SetPresence {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::SetPresence<'b>> {
        fb::SetPresence::create(fbb, &fb::SetPresenceArgs { status: self.status.to_wire() })
    }

    pub(crate) fn decode(t: fb::SetPresence<'_>) -> Result<Self, DecodeError> {
        Ok(Self { status: PresenceStatus::from_wire(t.status(), "SetPresence", "status")? })
    }
}

/// Look up the presence of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetPresence {
    pub user_ids: Vec<String>,
}

impl GetPresence {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetPresence<'b>> {
        let user_ids = Some(enc_str_list_req(fbb, &self.user_ids));
        fb::GetPresence::create(fbb, &fb::GetPresenceArgs { user_ids })
    }

    pub(crate) fn decode(t: fb::GetPresence<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user_ids: str_list(Some(t.user_ids()), "GetPresence", "user_ids", max::USER_ID)? })
    }
}

/// The members of a conversation who are online now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetOnlineMembers {
    pub conversation_id: u64,
}

impl GetOnlineMembers {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetOnlineMembers<'b>> {
        fb::GetOnlineMembers::create(fbb, &fb::GetOnlineMembersArgs { conversation_id: self.conversation_id })
    }

    pub(crate) fn decode(t: fb::GetOnlineMembers<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id() })
    }
}

/// Also receive presence of users who share no conversation with the caller (or stop, with `unwatch`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchPresence {
    pub user_ids: Vec<String>,
    pub unwatch: bool,
}

impl WatchPresence {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::WatchPresence<'b>> {
        let user_ids = Some(enc_str_list_req(fbb, &self.user_ids));
        fb::WatchPresence::create(fbb, &fb::WatchPresenceArgs { user_ids, unwatch: self.unwatch })
    }

    pub(crate) fn decode(t: fb::WatchPresence<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user_ids: str_list(Some(t.user_ids()), "WatchPresence", "user_ids", max::USER_ID)?,
            unwatch: t.unwatch(),
        })
    }
}

/// The answer to GetPresence and GetOnlineMembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceList {
    pub presences: Vec<Presence>,
}

impl PresenceList {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::PresenceList<'b>> {
        let presences = enc_table_list(fbb, &self.presences, |p, fbb| p.encode(fbb));
        fb::PresenceList::create(fbb, &fb::PresenceListArgs { presences })
    }

    pub(crate) fn decode(t: fb::PresenceList<'_>) -> Result<Self, DecodeError> {
        Ok(Self { presences: table_list(t.presences(), "PresenceList", "presences", max::LIST, Presence::decode)? })
    }
}

/// A user's presence changed. Sent only to users who share a conversation with them or watch them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceEvent {
    pub presence: Presence,
}

impl PresenceEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::PresenceEvent<'b>> {
        let presence = Some(self.presence.encode(fbb));
        fb::PresenceEvent::create(fbb, &fb::PresenceEventArgs { presence })
    }

    pub(crate) fn decode(t: fb::PresenceEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self { presence: Presence::decode(t.presence())? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, ClientFrame, Limits, ServerBody, ServerFrame};

    fn presence() -> Presence {
        Presence {
            user_id: "u-alice".into(),
            status: PresenceStatus::Away,
            last_seen_ms: 1_700_000_000_000,
            devices: 2,
            display_name: Some("Alice".into()),
            fields: vec![KeyValue { key: "userType".into(), value: "Teacher".into() }],
        }
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::Typing(Typing { conversation_id: 7, active: true }));
        roundtrip_client(ClientBody::Typing(Typing { conversation_id: 7, active: false }));
        roundtrip_client(ClientBody::Typing(Typing::default()));
        for status in [
            PresenceStatus::Offline,
            PresenceStatus::Online,
            PresenceStatus::Away,
            PresenceStatus::Busy,
            PresenceStatus::Invisible,
        ] {
            roundtrip_client(ClientBody::SetPresence(SetPresence { status }));
        }
        roundtrip_client(ClientBody::GetPresence(GetPresence { user_ids: vec!["u-alice".into(), "u-bob".into()] }));
        roundtrip_client(ClientBody::GetPresence(GetPresence::default()));
        roundtrip_client(ClientBody::GetOnlineMembers(GetOnlineMembers { conversation_id: 7 }));
        roundtrip_client(ClientBody::GetOnlineMembers(GetOnlineMembers::default()));
        roundtrip_client(ClientBody::WatchPresence(WatchPresence { user_ids: vec!["u-bob".into()], unwatch: true }));
        roundtrip_client(ClientBody::WatchPresence(WatchPresence::default()));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::TypingEvent(TypingEvent {
            conversation_id: 7,
            user_id: "u-bob".into(),
            active: true,
            expires_in_ms: 5_000,
            display_name: Some("Bob".into()),
        }));
        roundtrip_server(ServerBody::TypingEvent(TypingEvent {
            user_id: "b".into(),
            active: false,
            ..TypingEvent::default()
        }));
        roundtrip_server(ServerBody::PresenceList(PresenceList {
            presences: vec![presence(), Presence { user_id: "u-bob".into(), ..Presence::default() }],
        }));
        roundtrip_server(ServerBody::PresenceList(PresenceList::default()));
        roundtrip_server(ServerBody::PresenceEvent(PresenceEvent { presence: presence() }));
        roundtrip_server(ServerBody::PresenceEvent(PresenceEvent {
            presence: Presence { user_id: "b".into(), ..Presence::default() },
        }));
    }

    #[test]
    fn bad_fields_are_rejected() {
        let bytes = ClientFrame::new(1, GetPresence { user_ids: vec!["u-bob".into(), String::new()] }).encode();
        let err = ClientFrame::decode(&bytes, &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "GetPresence", field: "user_ids" });

        let event = TypingEvent { user_id: "u".repeat(max::USER_ID + 1), ..TypingEvent::default() };
        let err = ServerFrame::decode(&ServerFrame::new(0, event).encode(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "TypingEvent", field: "user_id", len: 129, max: 128 });

        let event = PresenceEvent::default();
        let err = ServerFrame::decode(&ServerFrame::new(0, event).encode(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "Presence", field: "user_id" });
    }

    #[test]
    fn unknown_status_is_rejected() {
        let mut fbb = Fbb::new();
        let body = fb::SetPresence::create(&mut fbb, &fb::SetPresenceArgs { status: fb::PresenceStatus(200) });
        let root = fb::ClientFrame::create(
            &mut fbb,
            &fb::ClientFrameArgs {
                request_id: 1,
                body_type: fb::ClientBody::SetPresence,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ClientFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "SetPresence", field: "status", value: 200 });
    }
}
