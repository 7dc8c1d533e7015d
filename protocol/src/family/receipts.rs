//! Receipt frames: delivered/read watermarks per conversation, per-message receipts and unread counts.

use flatbuffers::WIPOffset;

use crate::convert::{Fbb, enc_table_list, enc_u64_list, max, req_str, table_list, u64_list, wire_enum};
use crate::{DecodeError, fb};

/// Every message up to and including `up_to_seq` reached one of the caller's devices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkDelivered {
    pub conversation_id: u64,
    pub up_to_seq: u64,
}

impl MarkDelivered {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MarkDelivered<'b>> {
        fb::MarkDelivered::create(
            fbb,
            &fb::MarkDeliveredArgs { conversation_id: self.conversation_id, up_to_seq: self.up_to_seq },
        )
    }

    pub(crate) fn decode(t: fb::MarkDelivered<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), up_to_seq: t.up_to_seq() })
    }
}

/// The caller read the conversation up to `up_to_seq`, or the listed messages (the watermark moves to
/// the highest of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkRead {
    pub conversation_id: u64,
    pub up_to_seq: u64,
    pub message_ids: Vec<u64>,
}

impl MarkRead {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MarkRead<'b>> {
        let message_ids = enc_u64_list(fbb, &self.message_ids);
        fb::MarkRead::create(
            fbb,
            &fb::MarkReadArgs { conversation_id: self.conversation_id, up_to_seq: self.up_to_seq, message_ids },
        )
    }

    pub(crate) fn decode(t: fb::MarkRead<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            up_to_seq: t.up_to_seq(),
            message_ids: u64_list(t.message_ids(), "MarkRead", "message_ids")?,
        })
    }
}

wire_enum! {
    /// Which watermark moved.
    pub enum ReceiptKind => fb::ReceiptKind, default Delivered {
        Delivered,
        Read,
    }
}

/// A member's watermark moved; sent to every member's devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptEvent {
    pub conversation_id: u64,
    pub user_id: String,
    pub kind: ReceiptKind,
    pub up_to_seq: u64,
    pub at_ms: u64,
    /// Where the watermark was before: the event newly covers `from_seq + 1 ..= up_to_seq`.
    pub from_seq: u64,
}

impl ReceiptEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ReceiptEvent<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::ReceiptEvent::create(
            fbb,
            &fb::ReceiptEventArgs {
                conversation_id: self.conversation_id,
                user_id,
                kind: self.kind.to_wire(),
                up_to_seq: self.up_to_seq,
                at_ms: self.at_ms,
                from_seq: self.from_seq,
            },
        )
    }

    pub(crate) fn decode(t: fb::ReceiptEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            user_id: req_str(t.user_id(), "ReceiptEvent", "user_id", max::USER_ID)?,
            kind: ReceiptKind::from_wire(t.kind(), "ReceiptEvent", "kind")?,
            up_to_seq: t.up_to_seq(),
            at_ms: t.at_ms(),
            from_seq: t.from_seq(),
        })
    }
}

/// Ask for unread counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetUnreadCounts {
    /// Empty: every conversation of the caller.
    pub conversation_ids: Vec<u64>,
}

impl GetUnreadCounts {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetUnreadCounts<'b>> {
        let conversation_ids = enc_u64_list(fbb, &self.conversation_ids);
        fb::GetUnreadCounts::create(fbb, &fb::GetUnreadCountsArgs { conversation_ids })
    }

    pub(crate) fn decode(t: fb::GetUnreadCounts<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_ids: u64_list(t.conversation_ids(), "GetUnreadCounts", "conversation_ids")? })
    }
}

/// The unread count of one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnreadCount {
    pub conversation_id: u64,
    pub unread: u32,
}

impl UnreadCount {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UnreadCount<'b>> {
        fb::UnreadCount::create(
            fbb,
            &fb::UnreadCountArgs { conversation_id: self.conversation_id, unread: self.unread },
        )
    }

    pub(crate) fn decode(t: fb::UnreadCount<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), unread: t.unread() })
    }
}

/// The answer to GetUnreadCounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnreadCounts {
    pub total: u32,
    pub conversations: Vec<UnreadCount>,
}

impl UnreadCounts {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UnreadCounts<'b>> {
        let conversations = enc_table_list(fbb, &self.conversations, |c, fbb| c.encode(fbb));
        fb::UnreadCounts::create(fbb, &fb::UnreadCountsArgs { total: self.total, conversations })
    }

    pub(crate) fn decode(t: fb::UnreadCounts<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            total: t.total(),
            conversations: table_list(
                t.conversations(),
                "UnreadCounts",
                "conversations",
                max::LIST,
                UnreadCount::decode,
            )?,
        })
    }
}

/// The caller's unread count changed (read on another device, new message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnreadEvent {
    pub conversation_id: u64,
    pub unread: u32,
    pub total: u32,
}

impl UnreadEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UnreadEvent<'b>> {
        fb::UnreadEvent::create(
            fbb,
            &fb::UnreadEventArgs { conversation_id: self.conversation_id, unread: self.unread, total: self.total },
        )
    }

    pub(crate) fn decode(t: fb::UnreadEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self { conversation_id: t.conversation_id(), unread: t.unread(), total: t.total() })
    }
}

/// Who has received and read one message, and when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetReceipts {
    pub message_id: u64,
}

impl GetReceipts {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::GetReceipts<'b>> {
        fb::GetReceipts::create(fbb, &fb::GetReceiptsArgs { message_id: self.message_id })
    }

    pub(crate) fn decode(t: fb::GetReceipts<'_>) -> Result<Self, DecodeError> {
        Ok(Self { message_id: t.message_id() })
    }
}

/// One member's receipt for a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberReceipt {
    pub user_id: String,
    /// 0: not delivered yet.
    pub delivered_at_ms: u64,
    /// 0: not read yet.
    pub read_at_ms: u64,
}

impl MemberReceipt {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MemberReceipt<'b>> {
        let user_id = Some(fbb.create_string(&self.user_id));
        fb::MemberReceipt::create(
            fbb,
            &fb::MemberReceiptArgs { user_id, delivered_at_ms: self.delivered_at_ms, read_at_ms: self.read_at_ms },
        )
    }

    pub(crate) fn decode(t: fb::MemberReceipt<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user_id: req_str(t.user_id(), "MemberReceipt", "user_id", max::USER_ID)?,
            delivered_at_ms: t.delivered_at_ms(),
            read_at_ms: t.read_at_ms(),
        })
    }
}

/// The answer to GetReceipts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageReceipts {
    pub conversation_id: u64,
    pub message_id: u64,
    pub seq: u64,
    /// Members other than the sender.
    pub recipients: u32,
    pub delivered: u32,
    pub read: u32,
    pub members: Vec<MemberReceipt>,
}

impl MessageReceipts {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MessageReceipts<'b>> {
        let members = enc_table_list(fbb, &self.members, |m, fbb| m.encode(fbb));
        fb::MessageReceipts::create(
            fbb,
            &fb::MessageReceiptsArgs {
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                seq: self.seq,
                recipients: self.recipients,
                delivered: self.delivered,
                read: self.read,
                members,
            },
        )
    }

    pub(crate) fn decode(t: fb::MessageReceipts<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            conversation_id: t.conversation_id(),
            message_id: t.message_id(),
            seq: t.seq(),
            recipients: t.recipients(),
            delivered: t.delivered(),
            read: t.read(),
            members: table_list(t.members(), "MessageReceipts", "members", max::LIST, MemberReceipt::decode)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, Limits, ServerBody, ServerFrame};

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::MarkDelivered(MarkDelivered { conversation_id: 7, up_to_seq: 42 }));
        roundtrip_client(ClientBody::MarkDelivered(MarkDelivered::default()));
        roundtrip_client(ClientBody::MarkRead(MarkRead { conversation_id: 7, up_to_seq: 42, message_ids: vec![] }));
        roundtrip_client(ClientBody::MarkRead(MarkRead {
            conversation_id: 7,
            up_to_seq: 0,
            message_ids: vec![1001, 1003, u64::MAX],
        }));
        roundtrip_client(ClientBody::MarkRead(MarkRead::default()));
        roundtrip_client(ClientBody::GetUnreadCounts(GetUnreadCounts { conversation_ids: vec![7, 8, 9] }));
        roundtrip_client(ClientBody::GetUnreadCounts(GetUnreadCounts::default()));
        roundtrip_client(ClientBody::GetReceipts(GetReceipts { message_id: 1001 }));
        roundtrip_client(ClientBody::GetReceipts(GetReceipts::default()));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::ReceiptEvent(ReceiptEvent {
            conversation_id: 7,
            user_id: "u-bob".into(),
            kind: ReceiptKind::Read,
            up_to_seq: 42,
            at_ms: 1_700_000_000_000,
            from_seq: 39,
        }));
        roundtrip_server(ServerBody::ReceiptEvent(ReceiptEvent { user_id: "b".into(), ..ReceiptEvent::default() }));
        roundtrip_server(ServerBody::UnreadCounts(UnreadCounts {
            total: 5,
            conversations: vec![
                UnreadCount { conversation_id: 7, unread: 3 },
                UnreadCount { conversation_id: 8, unread: 2 },
                UnreadCount::default(),
            ],
        }));
        roundtrip_server(ServerBody::UnreadCounts(UnreadCounts::default()));
        roundtrip_server(ServerBody::UnreadEvent(UnreadEvent { conversation_id: 7, unread: 0, total: 2 }));
        roundtrip_server(ServerBody::UnreadEvent(UnreadEvent::default()));
        roundtrip_server(ServerBody::MessageReceipts(MessageReceipts {
            conversation_id: 7,
            message_id: 1001,
            seq: 42,
            recipients: 3,
            delivered: 2,
            read: 1,
            members: vec![
                MemberReceipt { user_id: "u-bob".into(), delivered_at_ms: 10, read_at_ms: 20 },
                MemberReceipt { user_id: "u-carol".into(), delivered_at_ms: 11, read_at_ms: 0 },
                MemberReceipt { user_id: "u-dave".into(), delivered_at_ms: 0, read_at_ms: 0 },
            ],
        }));
        roundtrip_server(ServerBody::MessageReceipts(MessageReceipts::default()));
    }

    fn decode_server(body: impl Into<ServerBody>) -> Result<ServerFrame, DecodeError> {
        ServerFrame::decode(&ServerFrame::new(1, body).encode(), &Limits::default())
    }

    #[test]
    fn bad_fields_are_rejected() {
        let err = decode_server(ReceiptEvent::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "ReceiptEvent", field: "user_id" });

        let members = vec![MemberReceipt { user_id: "u".repeat(max::USER_ID + 1), ..MemberReceipt::default() }];
        let err = decode_server(MessageReceipts { members, ..MessageReceipts::default() }).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "MemberReceipt", field: "user_id", len: 129, max: 128 });

        let message_ids = (0..=max::LIST as u64).collect();
        let bytes = crate::ClientFrame::new(1, MarkRead { message_ids, ..MarkRead::default() }).encode();
        let err = crate::ClientFrame::decode(&bytes, &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "MarkRead", field: "message_ids", len: 10_001, max: 10_000 });
    }

    #[test]
    fn unknown_receipt_kind_is_rejected() {
        let mut fbb = Fbb::new();
        let user_id = Some(fbb.create_string("u-bob"));
        let body = fb::ReceiptEvent::create(
            &mut fbb,
            &fb::ReceiptEventArgs { user_id, kind: fb::ReceiptKind(9), ..Default::default() },
        );
        let root = fb::ServerFrame::create(
            &mut fbb,
            &fb::ServerFrameArgs {
                request_id: 0,
                body_type: fb::ServerBody::ReceiptEvent,
                body: Some(body.as_union_value()),
            },
        );
        fbb.finish_size_prefixed(root, None);
        let err = ServerFrame::decode(fbb.finished_data(), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEnum { table: "ReceiptEvent", field: "kind", value: 9 });
    }
}
