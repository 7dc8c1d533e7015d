//! Call signaling: WebRTC offer/answer/ICE relayed between users' devices. Media never touches Quip.

use flatbuffers::WIPOffset;

use super::messages::CallType;
use crate::convert::{Fbb, enc_opt_str, enc_str, max, opt_str, req_str, str_or_empty, wire_enum};
use crate::{DecodeError, fb};

/// Ring the other members of a conversation. Every device of every callee rings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInvite {
    pub conversation_id: u64,
    pub call_type: CallType,
    pub sdp_offer: String,
}

impl CallInvite {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallInvite<'b>> {
        let sdp_offer = Some(fbb.create_string(&self.sdp_offer));
        fb::CallInvite::create(
            fbb,
            &fb::CallInviteArgs {
                conversation_id: self.conversation_id,
                call_type: self.call_type.to_wire(),
                sdp_offer,
            },
        )
    }

    pub(crate) fn decode(t: fb::CallInvite<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            call_type: CallType::from_wire(t.call_type(), "CallInvite", "call_type")?,
            sdp_offer: req_str(t.sdp_offer(), "CallInvite", "sdp_offer", max::SDP)?,
        })
    }
}

/// Answer from one device: the others stop ringing (CallEvent AnsweredElsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallAccept {
    pub call_id: u64,
    pub sdp_answer: String,
}

impl CallAccept {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallAccept<'b>> {
        let sdp_answer = Some(fbb.create_string(&self.sdp_answer));
        fb::CallAccept::create(fbb, &fb::CallAcceptArgs { call_id: self.call_id, sdp_answer })
    }

    pub(crate) fn decode(t: fb::CallAccept<'_>) -> Result<Self, DecodeError> {
        Ok(Self { call_id: t.call_id(), sdp_answer: req_str(t.sdp_answer(), "CallAccept", "sdp_answer", max::SDP)? })
    }
}

/// Decline a ringing call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallReject {
    pub call_id: u64,
    pub reason: String,
}

impl CallReject {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallReject<'b>> {
        let reason = enc_str(fbb, &self.reason);
        fb::CallReject::create(fbb, &fb::CallRejectArgs { call_id: self.call_id, reason })
    }

    pub(crate) fn decode(t: fb::CallReject<'_>) -> Result<Self, DecodeError> {
        Ok(Self { call_id: t.call_id(), reason: str_or_empty(t.reason(), "CallReject", "reason", max::SHORT)? })
    }
}

/// Hang up (or cancel a call not yet answered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallEnd {
    pub call_id: u64,
    pub reason: String,
}

impl CallEnd {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallEnd<'b>> {
        let reason = enc_str(fbb, &self.reason);
        fb::CallEnd::create(fbb, &fb::CallEndArgs { call_id: self.call_id, reason })
    }

    pub(crate) fn decode(t: fb::CallEnd<'_>) -> Result<Self, DecodeError> {
        Ok(Self { call_id: t.call_id(), reason: str_or_empty(t.reason(), "CallEnd", "reason", max::SHORT)? })
    }
}

/// An ICE candidate for the other side of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallIce {
    pub call_id: u64,
    pub candidate: String,
    /// As WebRTC's `sdpMid`, which may be null.
    pub sdp_mid: Option<String>,
    pub sdp_mline_index: u16,
}

impl CallIce {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallIce<'b>> {
        let candidate = Some(fbb.create_string(&self.candidate));
        let sdp_mid = enc_opt_str(fbb, self.sdp_mid.as_deref());
        fb::CallIce::create(
            fbb,
            &fb::CallIceArgs { call_id: self.call_id, candidate, sdp_mid, sdp_mline_index: self.sdp_mline_index },
        )
    }

    pub(crate) fn decode(t: fb::CallIce<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            call_id: t.call_id(),
            candidate: req_str(t.candidate(), "CallIce", "candidate", max::SDP)?,
            sdp_mid: opt_str(t.sdp_mid(), "CallIce", "sdp_mid", max::SHORT)?,
            sdp_mline_index: t.sdp_mline_index(),
        })
    }
}

wire_enum! {
    /// Where a call is in its life.
    pub enum CallState => fb::CallState, default Ringing {
        Ringing,
        Active,
        Ended,
    }
}

/// A call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    pub id: u64,
    pub conversation_id: u64,
    pub call_type: CallType,
    pub caller_id: String,
    pub state: CallState,
    pub started_at_ms: u64,
    pub answered_at_ms: u64,
    /// The device that answered (empty while ringing).
    pub answered_by_device: String,
}

impl Call {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Call<'b>> {
        let caller_id = Some(fbb.create_string(&self.caller_id));
        let answered_by_device = enc_str(fbb, &self.answered_by_device);
        fb::Call::create(
            fbb,
            &fb::CallArgs {
                id: self.id,
                conversation_id: self.conversation_id,
                call_type: self.call_type.to_wire(),
                caller_id,
                state: self.state.to_wire(),
                started_at_ms: self.started_at_ms,
                answered_at_ms: self.answered_at_ms,
                answered_by_device,
            },
        )
    }

    pub(crate) fn decode(t: fb::Call<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: t.id(),
            conversation_id: t.conversation_id(),
            call_type: CallType::from_wire(t.call_type(), "Call", "call_type")?,
            caller_id: req_str(t.caller_id(), "Call", "caller_id", max::USER_ID)?,
            state: CallState::from_wire(t.state(), "Call", "state")?,
            started_at_ms: t.started_at_ms(),
            answered_at_ms: t.answered_at_ms(),
            answered_by_device: str_or_empty(t.answered_by_device(), "Call", "answered_by_device", max::DEVICE_ID)?,
        })
    }
}

/// The answer to CallInvite and CallAccept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    pub call: Call,
}

impl CallInfo {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallInfo<'b>> {
        let call = Some(self.call.encode(fbb));
        fb::CallInfo::create(fbb, &fb::CallInfoArgs { call })
    }

    pub(crate) fn decode(t: fb::CallInfo<'_>) -> Result<Self, DecodeError> {
        Ok(Self { call: Call::decode(t.call())? })
    }
}

wire_enum! {
    /// What happened to a call.
    pub enum CallEventKind => fb::CallEventKind, default Incoming {
        /// Ring: carries the SDP offer.
        Incoming,
        /// To the caller: carries the SDP answer.
        Accepted,
        /// To the callee's other devices: stop ringing.
        AnsweredElsewhere,
        Rejected,
        Ended,
        /// Nobody answered in time.
        Missed,
    }
}

/// A call changed state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallEvent {
    pub kind: CallEventKind,
    pub call: Call,
    pub from_user_id: String,
    /// The offer (Incoming) or answer (Accepted).
    pub sdp: String,
    pub reason: String,
    pub at_ms: u64,
}

impl CallEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallEvent<'b>> {
        let call = Some(self.call.encode(fbb));
        let from_user_id = enc_str(fbb, &self.from_user_id);
        let sdp = enc_str(fbb, &self.sdp);
        let reason = enc_str(fbb, &self.reason);
        fb::CallEvent::create(
            fbb,
            &fb::CallEventArgs { kind: self.kind.to_wire(), call, from_user_id, sdp, reason, at_ms: self.at_ms },
        )
    }

    pub(crate) fn decode(t: fb::CallEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kind: CallEventKind::from_wire(t.kind(), "CallEvent", "kind")?,
            call: Call::decode(t.call())?,
            from_user_id: str_or_empty(t.from_user_id(), "CallEvent", "from_user_id", max::USER_ID)?,
            sdp: str_or_empty(t.sdp(), "CallEvent", "sdp", max::SDP)?,
            reason: str_or_empty(t.reason(), "CallEvent", "reason", max::SHORT)?,
            at_ms: t.at_ms(),
        })
    }
}

/// An ICE candidate from another participant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallIceEvent {
    pub call_id: u64,
    pub from_user_id: String,
    pub candidate: String,
    /// As WebRTC's `sdpMid`, which may be null.
    pub sdp_mid: Option<String>,
    pub sdp_mline_index: u16,
}

impl CallIceEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::CallIceEvent<'b>> {
        let from_user_id = Some(fbb.create_string(&self.from_user_id));
        let candidate = Some(fbb.create_string(&self.candidate));
        let sdp_mid = enc_opt_str(fbb, self.sdp_mid.as_deref());
        fb::CallIceEvent::create(
            fbb,
            &fb::CallIceEventArgs {
                call_id: self.call_id,
                from_user_id,
                candidate,
                sdp_mid,
                sdp_mline_index: self.sdp_mline_index,
            },
        )
    }

    pub(crate) fn decode(t: fb::CallIceEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            call_id: t.call_id(),
            from_user_id: req_str(t.from_user_id(), "CallIceEvent", "from_user_id", max::USER_ID)?,
            candidate: req_str(t.candidate(), "CallIceEvent", "candidate", max::SDP)?,
            sdp_mid: opt_str(t.sdp_mid(), "CallIceEvent", "sdp_mid", max::SHORT)?,
            sdp_mline_index: t.sdp_mline_index(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, ClientFrame, Limits, ServerBody, ServerFrame};

    const OFFER: &str =
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    const CANDIDATE: &str = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0";

    fn call() -> Call {
        Call {
            id: 900,
            conversation_id: 7,
            call_type: CallType::Video,
            caller_id: "u-alice".into(),
            state: CallState::Active,
            started_at_ms: 1_700_000_000_000,
            answered_at_ms: 1_700_000_004_000,
            answered_by_device: "phone".into(),
        }
    }

    fn minimal_call() -> Call {
        Call { caller_id: "a".into(), ..Call::default() }
    }

    fn decode_client(body: impl Into<ClientBody>) -> Result<ClientFrame, DecodeError> {
        ClientFrame::decode(&ClientFrame::new(1, body).encode(), &Limits::default())
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::CallInvite(CallInvite {
            conversation_id: 7,
            call_type: CallType::Video,
            sdp_offer: OFFER.into(),
        }));
        roundtrip_client(ClientBody::CallInvite(CallInvite { sdp_offer: "o".into(), ..CallInvite::default() }));
        roundtrip_client(ClientBody::CallAccept(CallAccept { call_id: 900, sdp_answer: OFFER.into() }));
        roundtrip_client(ClientBody::CallAccept(CallAccept { call_id: 0, sdp_answer: "a".into() }));
        roundtrip_client(ClientBody::CallReject(CallReject { call_id: 900, reason: "busy".into() }));
        roundtrip_client(ClientBody::CallReject(CallReject::default()));
        roundtrip_client(ClientBody::CallEnd(CallEnd { call_id: 900, reason: "hangup".into() }));
        roundtrip_client(ClientBody::CallEnd(CallEnd::default()));
        roundtrip_client(ClientBody::CallIce(CallIce {
            call_id: 900,
            candidate: CANDIDATE.into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: 1,
        }));
        roundtrip_client(ClientBody::CallIce(CallIce {
            candidate: "c".into(),
            sdp_mid: Some(String::new()),
            ..CallIce::default()
        }));
        roundtrip_client(ClientBody::CallIce(CallIce { candidate: "c".into(), ..CallIce::default() }));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::CallInfo(CallInfo { call: call() }));
        roundtrip_server(ServerBody::CallInfo(CallInfo { call: minimal_call() }));
        for kind in [
            CallEventKind::Incoming,
            CallEventKind::Accepted,
            CallEventKind::AnsweredElsewhere,
            CallEventKind::Rejected,
            CallEventKind::Ended,
            CallEventKind::Missed,
        ] {
            roundtrip_server(ServerBody::CallEvent(CallEvent {
                kind,
                call: call(),
                from_user_id: "u-bob".into(),
                sdp: OFFER.into(),
                reason: "declined".into(),
                at_ms: 1_700_000_005_000,
            }));
        }
        roundtrip_server(ServerBody::CallEvent(CallEvent { call: minimal_call(), ..CallEvent::default() }));
        roundtrip_server(ServerBody::CallIceEvent(CallIceEvent {
            call_id: 900,
            from_user_id: "u-bob".into(),
            candidate: CANDIDATE.into(),
            sdp_mid: Some("audio".into()),
            sdp_mline_index: 0,
        }));
        roundtrip_server(ServerBody::CallIceEvent(CallIceEvent {
            from_user_id: "b".into(),
            candidate: "c".into(),
            ..CallIceEvent::default()
        }));
    }

    #[test]
    fn bad_fields_are_rejected() {
        let err = decode_client(CallInvite { conversation_id: 7, ..CallInvite::default() }).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "CallInvite", field: "sdp_offer" });

        let err = decode_client(CallAccept { call_id: 1, sdp_answer: "s".repeat(max::SDP + 1) }).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "CallAccept", field: "sdp_answer", len: 65_537, max: 65_536 });

        let err = decode_client(CallIce {
            call_id: 1,
            candidate: "c".into(),
            sdp_mid: Some("m".repeat(257)),
            sdp_mline_index: 0,
        })
        .unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "CallIce", field: "sdp_mid", len: 257, max: 256 });

        let event = CallEvent { call: Call { caller_id: String::new(), ..call() }, ..CallEvent::default() };
        let err = ServerFrame::decode(&ServerFrame::new(0, event).encode(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "Call", field: "caller_id" });
    }

    #[test]
    fn unknown_enum_values_are_rejected() {
        let mut fbb = Fbb::new();
        let sdp_offer = Some(fbb.create_string(OFFER));
        let body = fb::CallInvite::create(
            &mut fbb,
            &fb::CallInviteArgs { conversation_id: 7, call_type: fb::CallType(9), sdp_offer },
        );
        let root = fb::ClientFrame::create(
            &mut fbb,
            &fb::ClientFrameArgs {
                request_id: 1,
                body_type: fb::ClientBody::CallInvite,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ClientFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "CallInvite", field: "call_type", value: 9 });

        let mut fbb = Fbb::new();
        let caller_id = Some(fbb.create_string("u-alice"));
        let call =
            fb::Call::create(&mut fbb, &fb::CallArgs { caller_id, state: fb::CallState(3), ..Default::default() });
        let body = fb::CallEvent::create(
            &mut fbb,
            &fb::CallEventArgs { kind: fb::CallEventKind::Missed, call: Some(call), ..Default::default() },
        );
        let root = fb::ServerFrame::create(
            &mut fbb,
            &fb::ServerFrameArgs {
                request_id: 0,
                body_type: fb::ServerBody::CallEvent,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ServerFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "Call", field: "state", value: 3 });

        let mut fbb = Fbb::new();
        let caller_id = Some(fbb.create_string("u-alice"));
        let call = fb::Call::create(&mut fbb, &fb::CallArgs { caller_id, ..Default::default() });
        let body = fb::CallEvent::create(
            &mut fbb,
            &fb::CallEventArgs { kind: fb::CallEventKind(6), call: Some(call), ..Default::default() },
        );
        let root = fb::ServerFrame::create(
            &mut fbb,
            &fb::ServerFrameArgs {
                request_id: 0,
                body_type: fb::ServerBody::CallEvent,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ServerFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "CallEvent", field: "kind", value: 6 });
    }
}
