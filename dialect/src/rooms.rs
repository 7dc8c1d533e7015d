//! How a legacy app names its Socket.IO rooms (`conversation_<id>`, `user:<id>`, or the bare id), so the
//! core can put a socket in the room the app's own server would have.

/// The two kinds of room every seed app has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoomKind {
    /// A user's personal room: every socket of that user.
    User,
    /// A conversation's room: the sockets that joined it.
    Conversation,
}

/// A room as the legacy app names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Room {
    pub kind: RoomKind,
    /// The user or conversation id.
    pub id: String,
    /// The legacy room name (`conversation_12`).
    pub name: String,
}

/// A room name pattern: text around one `{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    prefix: String,
    suffix: String,
}

impl Pattern {
    fn parse(text: &str) -> Result<Self, String> {
        match text.split_once("{id}") {
            Some((prefix, suffix)) if !suffix.contains("{id}") => {
                Ok(Self { prefix: prefix.to_owned(), suffix: suffix.to_owned() })
            }
            _ => Err(format!("room pattern {text:?} must contain `{{id}}` once")),
        }
    }

    fn name(&self, id: &str) -> String {
        format!("{}{id}{}", self.prefix, self.suffix)
    }

    fn parse_name<'a>(&self, name: &'a str) -> Option<&'a str> {
        let id = name.strip_prefix(&self.prefix)?.strip_suffix(&self.suffix)?;
        (!id.is_empty()).then_some(id)
    }
}

/// A dialect's room names (`[rooms]`: `user = "user_{id}"`, `conversation = "conversation_{id}"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rooms {
    user: Pattern,
    conversation: Pattern,
}

impl Default for Rooms {
    fn default() -> Self {
        let p = |prefix: &str| Pattern { prefix: prefix.to_owned(), suffix: String::new() };
        Self { user: p("user:"), conversation: p("conversation:") }
    }
}

impl Rooms {
    pub(crate) fn new(user: Option<&str>, conversation: Option<&str>) -> Result<Self, String> {
        let default = Self::default();
        Ok(Self {
            user: user.map(Pattern::parse).transpose()?.unwrap_or(default.user),
            conversation: conversation.map(Pattern::parse).transpose()?.unwrap_or(default.conversation),
        })
    }

    /// The legacy name of a room.
    pub fn name(&self, kind: RoomKind, id: &str) -> String {
        match kind {
            RoomKind::User => self.user.name(id),
            RoomKind::Conversation => self.conversation.name(id),
        }
    }

    pub fn room(&self, kind: RoomKind, id: &str) -> Room {
        Room { kind, id: id.to_owned(), name: self.name(kind, id) }
    }

    /// Which room a legacy name is. When both patterns match (an app naming both rooms by the bare id),
    /// the conversation wins: clients only ever name conversation rooms.
    pub fn parse(&self, name: &str) -> Option<Room> {
        if let Some(id) = self.conversation.parse_name(name) {
            return Some(self.room(RoomKind::Conversation, id));
        }
        self.user.parse_name(name).map(|id| self.room(RoomKind::User, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parses_rooms() {
        let rooms = Rooms::new(Some("user_{id}"), Some("conversation_{id}")).unwrap();
        assert_eq!(rooms.name(RoomKind::Conversation, "12"), "conversation_12");
        assert_eq!(rooms.parse("user_u1"), Some(rooms.room(RoomKind::User, "u1")));
        assert_eq!(rooms.parse("conversation_12").unwrap().kind, RoomKind::Conversation);
        assert_eq!(rooms.parse("other"), None);
        assert_eq!(rooms.parse("user_"), None);
        let bare = Rooms::new(Some("{id}"), Some("{id}")).unwrap();
        assert_eq!(bare.parse("42").unwrap().kind, RoomKind::Conversation);
        assert!(Rooms::new(Some("user"), None).is_err());
        assert!(Rooms::new(Some("{id}{id}"), None).is_err());
    }
}
