//! Call records: what a Call message says about a finished call.

use crate::convert::{max, table_codec, wire_enum};
use crate::fb;

wire_enum! {
    /// Audio or video call.
    pub enum CallType => fb::CallType, default Audio {
        Audio,
        Video,
    }
}

wire_enum! {
    /// How a call ended, as recorded in its call message.
    pub enum CallOutcome => fb::CallOutcome, default Completed {
        Completed,
        Missed,
        Declined,
        Cancelled,
        Failed,
    }
}

/// Written into a conversation as a Call message when a call ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRecord {
    pub call_id: u64,
    pub call_type: CallType,
    pub outcome: CallOutcome,
    pub caller_id: String,
    pub started_at_ms: u64,
    pub answered_at_ms: u64,
    pub ended_at_ms: u64,
    pub duration_ms: u64,
}

table_codec! {
    CallRecord => fb::CallRecord, fb::CallRecordArgs {
        call_id: scalar,
        call_type: wire_enum(CallType),
        outcome: wire_enum(CallOutcome),
        caller_id: str_or_empty(max::USER_ID),
        started_at_ms: scalar,
        answered_at_ms: scalar,
        ended_at_ms: scalar,
        duration_ms: scalar,
    }
}
