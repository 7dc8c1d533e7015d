//! The kinds a stored record carries, each a `#[repr(u8)]` enum stored as its number (the JSON of every
//! record written so far holds these numbers). An unknown number, from a newer quipd, reads as the kind's
//! fallback instead of failing the record. The protocol has enums of the same names: they are converted at
//! the broker's wire edge, so the stored numbers never depend on the wire's.

use serde::{Deserialize, Serialize};

macro_rules! stored_kind {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $var:ident = $n:literal),+ $(,)? } unknown as $fallback:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "u8", into = "u8")]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $var = $n),+
        }

        impl From<u8> for $name {
            fn from(n: u8) -> Self {
                match n {
                    $($n => Self::$var,)+
                    _ => Self::$fallback,
                }
            }
        }

        impl From<$name> for u8 {
            fn from(kind: $name) -> u8 {
                kind as u8
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$fallback
            }
        }
    };
}

stored_kind! {
    /// What a message is.
    MessageKind { Text = 0, Image = 1, Video = 2, Audio = 3, File = 4, System = 5, Call = 6 } unknown as Text
}

stored_kind! {
    /// What an attachment is.
    AttachmentKind { File = 0, Image = 1, Video = 2, Audio = 3, Pdf = 4, Doc = 5 } unknown as File
}

stored_kind! {
    /// What a system message says changed. `Unspecified` also stands for a group's details changing
    /// without a rename.
    SystemKind {
        Unspecified = 0,
        GroupCreated = 1,
        MembersAdded = 2,
        MemberRemoved = 3,
        MemberLeft = 4,
        RoleChanged = 5,
        Renamed = 6,
    } unknown as Unspecified
}

stored_kind! {
    /// Whether a call carried video.
    CallType { Audio = 0, Video = 1 } unknown as Audio
}

stored_kind! {
    /// How a call ended.
    CallOutcome { Completed = 0, Missed = 1, Declined = 2, Cancelled = 3, Failed = 4 } unknown as Completed
}

impl SystemKind {
    /// Not a system message (or nothing said): left out of the stored record.
    pub fn is_unspecified(&self) -> bool {
        *self == SystemKind::Unspecified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_as_their_numbers() {
        assert_eq!(serde_json::to_string(&MessageKind::Call).unwrap(), "6");
        assert_eq!(serde_json::from_str::<MessageKind>("1").unwrap(), MessageKind::Image);
        assert_eq!(serde_json::to_string(&SystemKind::Renamed).unwrap(), "6");
        assert_eq!(u8::from(CallOutcome::Failed), 4);
    }

    #[test]
    fn an_unknown_number_reads_as_the_fallback() {
        assert_eq!(serde_json::from_str::<MessageKind>("200").unwrap(), MessageKind::Text);
        assert_eq!(serde_json::from_str::<AttachmentKind>("9").unwrap(), AttachmentKind::File);
        assert_eq!(CallType::from(7), CallType::Audio);
    }
}
