//! Message frames: send (idempotent by client message id), edit, delete, reactions, replies,
//! attachments, history paging and sync.

mod attachments;
mod call_record;
mod history;
mod lifecycle;
mod message;
mod send;
#[cfg(test)]
mod tests;

pub use attachments::{Attachment, AttachmentKind};
pub use call_record::{CallOutcome, CallRecord, CallType};
pub use history::{Direction, GetHistory, GetMessage, HistoryPage, MessageInfo, SyncDone, SyncRequest};
pub use lifecycle::{
    DeleteMessage, DeleteScope, EditMessage, MessageDeletedEvent, MessageEditedEvent, React, ReactionEvent,
};
pub use message::{Message, MessageKind, Reaction, ReplyPreview, SystemKind};
pub use send::{MessageAck, MessageEvent, SendMessage};
