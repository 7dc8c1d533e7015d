//! Attachments: files uploaded elsewhere that a message carries by URL.

use crate::convert::{max, table_codec, wire_enum};
use crate::fb;

wire_enum! {
    /// What an attachment is.
    pub enum AttachmentKind => fb::AttachmentKind, default File {
        File,
        Image,
        Video,
        Audio,
        Pdf,
        Doc,
    }
}

/// A file attached to a message (uploaded elsewhere; the message carries its URL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub url: String,
    pub mime: String,
    pub name: String,
    /// In bytes.
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u32,
    pub thumbnail_url: String,
}

table_codec! {
    Attachment => fb::Attachment, fb::AttachmentArgs {
        kind: wire_enum(AttachmentKind),
        url: req_str(max::URL),
        mime: str_or_empty(max::SHORT),
        name: str_or_empty(max::SHORT),
        size: scalar,
        width: scalar,
        height: scalar,
        duration_ms: scalar,
        thumbnail_url: str_or_empty(max::URL),
    }
}
