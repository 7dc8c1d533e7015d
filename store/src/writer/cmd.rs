//! What the writer is asked to do, and what it hands to fan-out once a batch is durable.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::requests::{Delete, Edit, MemberChange, ReactTo, SettingChange};
use crate::StoreError;
use crate::model::{
    Ack, AttachmentRec, CallRec, Context, ConvId, ConvMeta, MessageKind, Profile, ReactionRec, ReceiptKind, Sender,
    Seq, StoredMessage, SystemKind, UserId,
};

/// A message to append.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub conv: ConvId,
    /// Who sends it. A user's send (`Writer::send`) stores the sender's profile as it is at commit, so
    /// only the id matters there; server-written notes keep what is given.
    pub sender: Sender,
    pub client_msg_id: String,
    pub kind: MessageKind,
    pub text: String,
    pub attachments: Vec<AttachmentRec>,
    pub reply_to: u64,
    pub metadata: Vec<(String, String)>,
    /// System messages only (written by the server): what changed.
    pub system: SystemKind,
    /// Call messages only (written by the server): the call's record.
    pub call: Option<CallRec>,
    /// When the send arrived (for the send→deliver latency; not stored).
    pub received: Option<std::time::Instant>,
    /// Sending leaves the sender's read state alone (`SendMessage.leave_read_state`): no read watermark
    /// move; a `sent` row keeps the message from counting as unread for its sender.
    pub leaves_read_state: bool,
}

/// A receipt: device `device` of `user` got (or read) `conv` up to `up_to`. Beyond the conversation's
/// last message it is clamped to it; at or below the current watermark it changes nothing.
#[derive(Debug, Clone)]
pub struct Mark {
    pub conv: ConvId,
    pub user: UserId,
    pub device: String,
    pub kind: ReceiptKind,
    pub up_to: Seq,
    pub now_ms: u64,
    /// Whether the caller is told once the move is durable. A delivery report that asks for no reply is
    /// not (`false`): its batch, when nothing else in it needs one, is written without an fsync and
    /// becomes durable with the next synced batch (or the OS's own writeback). Only a crash of the
    /// machine, not of quipd, can lose it, and then the device's next report moves the watermark again.
    pub durable: bool,
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the writer can be asked to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteCmd {
    /// Append a message; the reply is its ack and whether it is a retry of an earlier send.
    Send { msg: NewMessage, now_ms: u64, reply: Reply<(Ack, bool)> },
    /// Get or create the direct conversation of two users (and a context); the reply says if it was created.
    OpenDirect { a: UserId, b: UserId, context: Option<Context>, now_ms: u64, reply: Reply<(ConvId, bool)> },
    /// Create a group owned by `creator` with `members`.
    CreateGroup { meta: ConvMeta, members: Vec<UserId>, reply: Reply<ConvId> },
    /// Create or replace a profile.
    PutProfile { profile: Profile, reply: Reply<()> },
    /// Move a member's delivered or read watermark (NotFound for non-members).
    Receipt { mark: Mark, reply: Reply<()> },
    /// Replace a message's text (its sender only, within the edit window).
    Edit { edit: Edit, reply: Reply<()> },
    /// Delete a message for everyone (a tombstone) or hide it for its requester.
    Delete { delete: Delete, reply: Reply<()> },
    /// Add or remove a reaction.
    React { react: ReactTo, reply: Reply<()> },
    /// Change a group: members, roles, title (admins), or leave it.
    Members { change: MemberChange, reply: Reply<()> },
    /// Change a user's own view of a conversation, or whom they block.
    Setting { change: SettingChange, reply: Reply<()> },
    /// Finish what was queued before this, then stop.
    Shutdown,
}

/// What became durable, for fan-out.
#[derive(Debug, Clone)]
// Exhaustive on purpose (unlike the crate's other public enums): fan-out must handle every kind of
// committed event, so a new one is a compile error there rather than an event silently not published.
pub enum Committed {
    Message {
        msg: Arc<StoredMessage>,
        members: Arc<[UserId]>,
        /// When the send arrived, if it came from a client.
        received: Option<std::time::Instant>,
    },
    ConvCreated {
        conv: ConvId,
        members: Arc<[UserId]>,
    },
    /// `user`'s merged `kind` watermark in `conv` moved up to `up_to` at `at_ms`.
    Receipt {
        conv: ConvId,
        user: UserId,
        kind: ReceiptKind,
        /// The watermark before this move: the receipt newly covers `from + 1 ..= up_to`.
        from: Seq,
        up_to: Seq,
        at_ms: u64,
        members: Arc<[UserId]>,
        /// The device whose mark this was (none when a send moved the sender's read watermark).
        by_device: Option<String>,
    },
    /// After a batch that moved `user`'s read watermark in `conv`: their unread count there and their
    /// total over all their conversations (only for users the publisher reaches, `Publish::reaches`).
    Unread {
        user: UserId,
        conv: ConvId,
        unread: u32,
        total: u32,
    },
    /// A message's text was replaced.
    Edited {
        msg: Arc<StoredMessage>,
        members: Arc<[UserId]>,
    },
    /// A message was deleted for everyone (`for_everyone`; `audience` is every member) or hidden for
    /// `by` alone (`audience` is `by`).
    Deleted {
        conv: ConvId,
        msg_id: u64,
        seq: Seq,
        for_everyone: bool,
        by: UserId,
        at_ms: u64,
        audience: Arc<[UserId]>,
    },
    /// `user` added (or removed) `emoji`; `reactions` is the message's whole set after the change.
    Reacted {
        conv: ConvId,
        msg_id: u64,
        user: UserId,
        emoji: String,
        removed: bool,
        reactions: Vec<ReactionRec>,
        members: Arc<[UserId]>,
    },
    /// A conversation changed (`change`), by `actor`, about `users`; `audience` is told.
    ConvChanged {
        conv: ConvId,
        change: ConvChange,
        actor: UserId,
        users: Vec<UserId>,
        at_ms: u64,
        audience: Arc<[UserId]>,
    },
}

/// What kind of change a `Committed::ConvChanged` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Exhaustive on purpose, like `Committed`: fan-out maps each change to its wire event.
pub enum ConvChange {
    Updated,
    MembersAdded,
    MemberRemoved,
    RoleChanged,
    MemberLeft,
    /// The audience's own view changed (archive, mute, hide).
    SettingsChanged,
    /// The audience blocked or unblocked the other member of this direct conversation.
    BlockChanged,
}

/// Receives what each batch committed, on the writer thread, in commit order. Must not block.
pub trait Publish: Send + 'static {
    fn publish(&self, events: Vec<Committed>);

    /// Whether events for `user` reach anyone now (a device online); the writer skips the work of
    /// events nobody would get (`Committed::Unread`).
    fn reaches(&self, _user: &str) -> bool {
        true
    }
}
