//! Errors: numbered codes and the error reply.

mod reply;

pub use reply::ErrorReply;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $num:literal ),+ $(,)?) => {
        /// Numbered error codes; the thousands digit is the class (1 request, 2 authentication,
        /// 3 authorization and state, 4 limits, 5 server). See docs/PROTOCOL.md.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $name ),+
        }

        impl ErrorCode {
            /// Every code, in schema order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$name ),+];

            /// The number on the wire.
            pub fn as_u16(self) -> u16 {
                match self {
                    $( ErrorCode::$name => $num ),+
                }
            }

            /// The code for a number; numbers this version does not know become `Unknown`.
            pub fn from_u16(n: u16) -> Self {
                match n {
                    $( $num => ErrorCode::$name, )+
                    _ => ErrorCode::Unknown,
                }
            }

            /// The code's name (stable; used as a metrics label and in the bridge's JSON errors).
            pub fn name(self) -> &'static str {
                match self {
                    $( ErrorCode::$name => stringify!($name) ),+
                }
            }
        }
    };
}

error_codes! {
    Unknown = 0,
    BadFrame = 1000,
    FrameTooLarge = 1001,
    UnsupportedVersion = 1002,
    UnexpectedFrame = 1003,
    InvalidArgument = 1004,
    UnsupportedFrame = 1005,
    Unauthenticated = 2000,
    TokenInvalid = 2001,
    TokenExpired = 2002,
    TokenNotYetValid = 2003,
    WrongAudience = 2004,
    WrongIssuer = 2005,
    AlgorithmNotAllowed = 2006,
    TokenRevoked = 2007,
    Forbidden = 3000,
    NotFound = 3001,
    Blocked = 3002,
    Conflict = 3003,
    EditWindowClosed = 3004,
    RateLimited = 4000,
    PayloadTooLarge = 4001,
    TooManyAttachments = 4002,
    AttachmentNotAllowed = 4003,
    SlowConsumer = 4004,
    Internal = 5000,
    Unavailable = 5001,
    StoreError = 5002,
    Timeout = 5003,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::roundtrip_server;
    use crate::{ServerBody, fb};

    #[test]
    fn every_code_matches_the_schema_enum() {
        for code in ErrorCode::ALL {
            let wire = fb::ErrorCode(code.as_u16());
            assert_eq!(wire.variant_name(), Some(code.name()), "{code}");
            assert_eq!(ErrorCode::from_u16(code.as_u16()), *code);
        }
        assert_eq!(ErrorCode::ALL.len(), fb::ErrorCode::ENUM_VALUES.len());
        assert_eq!(ErrorCode::from_u16(65000), ErrorCode::Unknown);
    }

    #[test]
    fn error_reply_round_trips() {
        roundtrip_server(ServerBody::ErrorReply(ErrorReply {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            retry_after_ms: Some(1500),
            field: Some("text".into()),
        }));
        roundtrip_server(ServerBody::ErrorReply(ErrorReply::new(ErrorCode::NotFound, "")));
    }
}
