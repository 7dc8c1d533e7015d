//! Reading messages back: one message, history pages by sequence cursor, and sync from a resume point.

use super::message::Message;
use crate::convert::{max, table_codec, wire_enum};
use crate::family::common::ResumePoint;
use crate::fb;

wire_enum! {
    /// Which way a history page goes from its anchor.
    pub enum Direction => fb::Direction, default Backward {
        /// Older messages (seq < anchor), newest first.
        Backward,
        /// Newer messages (seq > anchor), oldest first.
        Forward,
    }
}

/// Fetch one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetMessage {
    pub message_id: u64,
}

table_codec! {
    GetMessage => fb::GetMessage, fb::GetMessageArgs {
        message_id: scalar,
    }
}

/// The answer to GetMessage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageInfo {
    pub message: Message,
}

table_codec! {
    MessageInfo => fb::MessageInfo, fb::MessageInfoArgs {
        message: table(Message),
    }
}

/// A page of one conversation's history by sequence cursor (anchor 0 going backward: from the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetHistory {
    pub conversation_id: u64,
    pub anchor_seq: u64,
    pub direction: Direction,
    /// The schema's default is 50.
    pub limit: u32,
}

impl Default for GetHistory {
    fn default() -> Self {
        Self { conversation_id: 0, anchor_seq: 0, direction: Direction::Backward, limit: 50 }
    }
}

table_codec! {
    GetHistory => fb::GetHistory, fb::GetHistoryArgs {
        conversation_id: scalar,
        anchor_seq: scalar,
        direction: wire_enum(Direction),
        limit: scalar,
    }
}

/// A page of history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    pub conversation_id: u64,
    pub messages: Vec<Message>,
    /// Pass as anchor_seq for the next page in the same direction; 0 when there is none.
    pub next_anchor_seq: u64,
    pub has_more: bool,
}

table_codec! {
    HistoryPage => fb::HistoryPage, fb::HistoryPageArgs {
        conversation_id: scalar,
        messages: table_list(Message, max::LIST),
        next_anchor_seq: scalar,
        has_more: scalar,
    }
}

/// Replay what the client missed since `since` (as MessageEvents before SyncDone), then go on live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    pub since: ResumePoint,
}

table_codec! {
    SyncRequest => fb::SyncRequest, fb::SyncRequestArgs {
        since: table(ResumePoint),
    }
}

/// The replay asked for by SyncRequest is complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncDone {
    pub global_cursor: u64,
    pub replayed: u32,
}

table_codec! {
    SyncDone => fb::SyncDone, fb::SyncDoneArgs {
        global_cursor: scalar,
        replayed: scalar,
    }
}
