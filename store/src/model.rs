//! The broker's own records, as stored in RocksDB. Wire types (quip-protocol) are converted to and from
//! these at the edge, in `convert.rs`; nothing in the store depends on the wire format.

use serde::{Deserialize, Serialize};

pub use crate::kinds::{AttachmentKind, CallOutcome, CallType, MessageKind, SystemKind};

pub type UserId = String;
pub type ConvId = u64;
pub type Seq = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConvKind {
    Direct,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

/// What a direct conversation is about (an order, a gig, a pet listing...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// A conversation's settings, written when it is created or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvMeta {
    pub id: ConvId,
    pub kind: ConvKind,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub context: Option<Context>,
    pub created_by: UserId,
    pub created_at_ms: u64,
}

/// A conversation's moving head, rewritten with every message (small on purpose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvHead {
    pub last_seq: Seq,
    pub last_activity_ms: u64,
    /// Store-wide position of the last message.
    pub last_lsn: u64,
    pub last_msg_id: u64,
}

/// One member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRec {
    pub role: Role,
    pub joined_at_ms: u64,
}

/// The snapshot of the sender carried by each message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub id: UserId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRec {
    pub kind: AttachmentKind,
    pub url: String,
    #[serde(default)]
    pub mime: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub duration_ms: u32,
    #[serde(default)]
    pub thumbnail_url: String,
}

/// A stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: u64,
    pub conv: ConvId,
    pub seq: Seq,
    /// Store-wide position (the global cursor).
    pub lsn: u64,
    pub sender: Sender,
    pub kind: MessageKind,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentRec>,
    /// Message id replied to (0: none).
    #[serde(default)]
    pub reply_to: u64,
    #[serde(default)]
    pub client_msg_id: String,
    pub created_at_ms: u64,
    #[serde(default)]
    pub edited_at_ms: u64,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub metadata: Vec<(String, String)>,
    /// A snapshot of the message replied to, taken when this one was appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_preview: Option<ReplyPreviewRec>,
    /// System messages: what changed (`Unspecified` otherwise).
    #[serde(default, skip_serializing_if = "SystemKind::is_unspecified")]
    pub system: SystemKind,
    /// Call messages: the record of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallRec>,
}

/// The record of a call, written into its conversation as a Call message when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRec {
    pub call_id: u64,
    pub call_type: CallType,
    pub outcome: CallOutcome,
    pub caller_id: UserId,
    pub started_at_ms: u64,
    #[serde(default)]
    pub answered_at_ms: u64,
    pub ended_at_ms: u64,
    #[serde(default)]
    pub duration_ms: u64,
}

/// One user's own view of one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
    /// Muted until this time (ms since the epoch; `u64::MAX` for ever, 0 not muted).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub muted_until_ms: u64,
    /// Deleted for this user up to this seq: these messages stay hidden from them, and the conversation
    /// is out of their list until a newer message arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_up_to: Option<Seq>,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

impl UserSettings {
    /// Hidden from the user's list: deleted for them and nothing new since.
    pub fn hides(&self, last_seq: Seq) -> bool {
        self.hidden_up_to.is_some_and(|h| last_seq <= h)
    }

    /// Whether message `seq` is visible to the user (not in the part they deleted for themselves).
    pub fn shows(&self, seq: Seq) -> bool {
        self.hidden_up_to.is_none_or(|h| seq > h)
    }
}

/// The quoted part of a message replied to, as stored with the reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPreviewRec {
    pub message_id: u64,
    pub seq: Seq,
    pub sender_id: UserId,
    pub kind: MessageKind,
    /// The first `REPLY_PREVIEW_CHARS` characters of its text.
    #[serde(default)]
    pub text: String,
    /// It was deleted for everyone (the text is then empty).
    #[serde(default)]
    pub deleted: bool,
}

/// How many characters of the replied message a reply quotes.
pub const REPLY_PREVIEW_CHARS: usize = 100;

impl ReplyPreviewRec {
    /// The preview of `m`, quoted by a reply.
    pub fn of(m: &StoredMessage) -> Self {
        Self {
            message_id: m.id,
            seq: m.seq,
            sender_id: m.sender.id.clone(),
            kind: m.kind,
            text: if m.deleted { String::new() } else { m.text.chars().take(REPLY_PREVIEW_CHARS).collect() },
            deleted: m.deleted,
        }
    }
}

/// One emoji's reactions on a message: who reacted with it, in the order they did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionRec {
    pub emoji: String,
    pub users: Vec<UserId>,
}

/// A user's profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: UserId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    #[serde(default)]
    pub updated_at_ms: u64,
}

impl Profile {
    pub fn sender(&self) -> Sender {
        Sender { id: self.id.clone(), name: self.name.clone(), avatar_url: self.avatar_url.clone() }
    }
}

/// What a send's acknowledgement carries; also what the idempotency index keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub conv: ConvId,
    pub msg_id: u64,
    pub seq: Seq,
    pub created_at_ms: u64,
}

/// Which receipt watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReceiptKind {
    Delivered,
    Read,
}

impl ReceiptKind {
    /// The byte that stands for the kind in keys.
    pub fn tag(self) -> u8 {
        match self {
            ReceiptKind::Delivered => 0,
            ReceiptKind::Read => 1,
        }
    }
}

/// Receipt watermarks of one member of a conversation (merged over their devices) or of one device:
/// every message up to `delivered` reached them, every message up to `read` was read. `read <= delivered`
/// always (reading implies delivery), and neither ever moves back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermarks {
    #[serde(default, rename = "d")]
    pub delivered: Seq,
    #[serde(default, rename = "r")]
    pub read: Seq,
    /// When `delivered` last moved (ms since the epoch).
    #[serde(default, rename = "da")]
    pub delivered_at_ms: u64,
    /// When `read` last moved.
    #[serde(default, rename = "ra")]
    pub read_at_ms: u64,
    /// How many delivered steps (seq, time) are kept for this member (merged records only).
    #[serde(default, rename = "ds", skip_serializing_if = "is_zero")]
    pub delivered_steps: u32,
    /// How many read steps are kept.
    #[serde(default, rename = "rs", skip_serializing_if = "is_zero")]
    pub read_steps: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Watermarks {
    pub fn get(&self, kind: ReceiptKind) -> Seq {
        match kind {
            ReceiptKind::Delivered => self.delivered,
            ReceiptKind::Read => self.read,
        }
    }

    /// When `kind` last moved.
    pub fn at_ms(&self, kind: ReceiptKind) -> u64 {
        match kind {
            ReceiptKind::Delivered => self.delivered_at_ms,
            ReceiptKind::Read => self.read_at_ms,
        }
    }

    pub fn steps_mut(&mut self, kind: ReceiptKind) -> &mut u32 {
        match kind {
            ReceiptKind::Delivered => &mut self.delivered_steps,
            ReceiptKind::Read => &mut self.read_steps,
        }
    }

    /// Moves the `kind` watermark up to `to` at `now_ms` (reading past `delivered` raises it too) and
    /// returns the watermarks that moved, delivered first. Nothing moves back: at or below the current
    /// value this is a no-op that returns nothing.
    pub fn advance(&mut self, kind: ReceiptKind, to: Seq, now_ms: u64) -> Vec<ReceiptKind> {
        let mut moved = Vec::new();
        if to > self.delivered {
            self.delivered = to;
            self.delivered_at_ms = now_ms;
            moved.push(ReceiptKind::Delivered);
        }
        if kind == ReceiptKind::Read && to > self.read {
            self.read = to;
            self.read_at_ms = now_ms;
            moved.push(ReceiptKind::Read);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_only_move_forward_and_reading_implies_delivery() {
        let mut w = Watermarks::default();
        assert_eq!(w.advance(ReceiptKind::Delivered, 3, 10), vec![ReceiptKind::Delivered]);
        assert_eq!((w.delivered, w.read, w.delivered_at_ms), (3, 0, 10));
        assert_eq!(w.advance(ReceiptKind::Delivered, 2, 11), vec![]);
        assert_eq!(w.advance(ReceiptKind::Read, 2, 12), vec![ReceiptKind::Read]);
        assert_eq!((w.delivered, w.read, w.read_at_ms), (3, 2, 12));
        assert_eq!(w.advance(ReceiptKind::Read, 5, 13), vec![ReceiptKind::Delivered, ReceiptKind::Read]);
        assert_eq!((w.delivered, w.read, w.delivered_at_ms, w.read_at_ms), (5, 5, 13, 13));
        assert_eq!(w.advance(ReceiptKind::Read, 5, 14), vec![]);
        assert_eq!(w.read_at_ms, 13);
    }

    #[test]
    fn watermarks_are_stored_compactly() {
        let w = Watermarks { delivered: 7, read: 5, delivered_at_ms: 1, read_at_ms: 2, ..Watermarks::default() };
        let json = serde_json::to_string(&w).unwrap_or_default();
        assert_eq!(json, r#"{"d":7,"r":5,"da":1,"ra":2}"#);
        assert_eq!(serde_json::from_str::<Watermarks>(&json).ok(), Some(w));
    }
}
