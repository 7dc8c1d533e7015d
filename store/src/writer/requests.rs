//! What a request asks of the writer besides a send: group changes, edits, deletions, reactions and a
//! user's own settings. Plain data, checked by the command family that applies it (`groups.rs`,
//! `lifecycle.rs`, `settings.rs`).

use crate::model::{ConvId, Role, Sender, UserId};

/// One change to a group, asked by `actor`.
#[derive(Debug, Clone)]
pub struct MemberChange {
    pub conv: ConvId,
    /// Who asks (their profile snapshot signs the system message).
    pub actor: Sender,
    pub op: MemberOp,
    /// The group size limit (`limits.max_group_members`).
    pub max_members: usize,
    pub now_ms: u64,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MemberOp {
    Add(Vec<UserId>),
    Remove(UserId),
    SetRole {
        user: UserId,
        role: Role,
    },
    /// New title, avatar or description; `None` keeps the current one.
    Update {
        title: Option<String>,
        avatar_url: Option<String>,
        description: Option<String>,
    },
    Leave,
}

/// Replace the text of message `msg_id`, asked by `user` (the request's text is already validated).
#[derive(Debug, Clone)]
pub struct Edit {
    pub msg_id: u64,
    pub user: UserId,
    pub text: String,
    pub now_ms: u64,
}

/// Delete message `msg_id` for everyone, or hide it for `user` only.
#[derive(Debug, Clone)]
pub struct Delete {
    pub msg_id: u64,
    pub user: UserId,
    pub for_everyone: bool,
    pub now_ms: u64,
}

/// `user` adds (or, with `remove`, takes back) `emoji` on message `msg_id`.
#[derive(Debug, Clone)]
pub struct ReactTo {
    pub msg_id: u64,
    pub user: UserId,
    pub emoji: String,
    pub remove: bool,
}

/// One change `user` makes for themselves.
#[derive(Debug, Clone)]
pub struct SettingChange {
    pub user: UserId,
    pub op: SettingOp,
    pub now_ms: u64,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SettingOp {
    Hide(ConvId),
    Archive(ConvId, bool),
    /// Muted until this time (0 unmutes, `u64::MAX` for ever).
    Mute(ConvId, u64),
    Block(UserId),
    Unblock(UserId),
}
