//! Types shared by several families: key/value pairs, user references and profiles, resume cursors.

use flatbuffers::WIPOffset;

use crate::convert::{Fbb, enc_opt_str, enc_str, enc_table_list, max, opt_str, req_str, str_or_empty, table_list};
use crate::{DecodeError, fb};

/// An app-defined key/value pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self { key: key.into(), value: value.into() }
    }

    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::KeyValue<'b>> {
        let key = Some(fbb.create_string(&self.key));
        let value = enc_str(fbb, &self.value);
        fb::KeyValue::create(fbb, &fb::KeyValueArgs { key, value })
    }

    pub(crate) fn decode(t: fb::KeyValue<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            key: req_str(t.key(), "KeyValue", "key", max::SHORT)?,
            value: str_or_empty(t.value(), "KeyValue", "value", max::TEXT)?,
        })
    }
}

pub(crate) fn enc_fields<'b>(
    fbb: &mut Fbb<'b>,
    v: &[KeyValue],
) -> Option<WIPOffset<flatbuffers::Vector<'b, flatbuffers::ForwardsUOffset<fb::KeyValue<'b>>>>> {
    enc_table_list(fbb, v, |kv, fbb| kv.encode(fbb))
}

pub(crate) fn dec_fields<'a>(
    v: Option<flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<fb::KeyValue<'a>>>>,
    table: &'static str,
    field: &'static str,
) -> Result<Vec<KeyValue>, DecodeError> {
    table_list(v, table, field, max::FIELDS, KeyValue::decode)
}

/// The short form of a user inside messages and events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRef {
    pub id: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl UserRef {
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), ..Self::default() }
    }

    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UserRef<'b>> {
        let id = Some(fbb.create_string(&self.id));
        let display_name = enc_opt_str(fbb, self.display_name.as_deref());
        let avatar_url = enc_opt_str(fbb, self.avatar_url.as_deref());
        fb::UserRef::create(fbb, &fb::UserRefArgs { id, display_name, avatar_url })
    }

    pub(crate) fn decode(t: fb::UserRef<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: req_str(t.id(), "UserRef", "id", max::USER_ID)?,
            display_name: opt_str(t.display_name(), "UserRef", "display_name", max::SHORT)?,
            avatar_url: opt_str(t.avatar_url(), "UserRef", "avatar_url", max::URL)?,
        })
    }
}

/// A user's profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    pub id: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub fields: Vec<KeyValue>,
    pub updated_at_ms: u64,
}

impl UserProfile {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::UserProfile<'b>> {
        let id = Some(fbb.create_string(&self.id));
        let display_name = enc_opt_str(fbb, self.display_name.as_deref());
        let avatar_url = enc_opt_str(fbb, self.avatar_url.as_deref());
        let fields = enc_fields(fbb, &self.fields);
        fb::UserProfile::create(
            fbb,
            &fb::UserProfileArgs { id, display_name, avatar_url, fields, updated_at_ms: self.updated_at_ms },
        )
    }

    pub(crate) fn decode(t: fb::UserProfile<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: req_str(t.id(), "UserProfile", "id", max::USER_ID)?,
            display_name: opt_str(t.display_name(), "UserProfile", "display_name", max::SHORT)?,
            avatar_url: opt_str(t.avatar_url(), "UserProfile", "avatar_url", max::URL)?,
            fields: dec_fields(t.fields(), "UserProfile", "fields")?,
            updated_at_ms: t.updated_at_ms(),
        })
    }

    /// The short form carried in messages.
    pub fn to_ref(&self) -> UserRef {
        UserRef { id: self.id.clone(), display_name: self.display_name.clone(), avatar_url: self.avatar_url.clone() }
    }
}

/// How far a client has seen one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ConversationCursor {
    pub conversation_id: u64,
    pub seq: u64,
}

/// What a client already holds: per-conversation cursors, one store-wide cursor, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumePoint {
    pub cursors: Vec<ConversationCursor>,
    pub global_cursor: u64,
}

impl ResumePoint {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ResumePoint<'b>> {
        let cursors = enc_table_list(fbb, &self.cursors, |c, fbb| {
            fb::ConversationCursor::create(
                fbb,
                &fb::ConversationCursorArgs { conversation_id: c.conversation_id, seq: c.seq },
            )
        });
        fb::ResumePoint::create(fbb, &fb::ResumePointArgs { cursors, global_cursor: self.global_cursor })
    }

    pub(crate) fn decode(t: fb::ResumePoint<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            cursors: table_list(t.cursors(), "ResumePoint", "cursors", max::LIST, |c| {
                Ok(ConversationCursor { conversation_id: c.conversation_id(), seq: c.seq() })
            })?,
            global_cursor: t.global_cursor(),
        })
    }
}
