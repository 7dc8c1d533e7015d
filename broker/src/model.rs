//! The broker's own records, as stored in RocksDB. Wire types (quip-protocol) are converted to and from
//! these at the edge, in `convert.rs`; nothing in the store depends on the wire format.

use serde::{Deserialize, Serialize};

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
    pub kind: u8,
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
    /// `quip_protocol` MessageKind, as its wire number.
    pub kind: u8,
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
