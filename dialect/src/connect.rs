//! How a legacy client presents its token (Socket.IO handshake and REST requests).

/// One place a token may be found, in the dialect's order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// Socket.IO handshake `auth` object: `auth.token`.
    Auth(String),
    /// An HTTP header (`header.authorization` takes `Bearer <token>`; other headers the bare token).
    Header(String),
    /// A query parameter: `query.token`.
    Query(String),
    /// A cookie: `cookie.token`.
    Cookie(String),
}

impl TokenSource {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (place, name) = text.split_once('.').ok_or_else(|| format!("token source {text:?} is not place.name"))?;
        if name.is_empty() {
            return Err(format!("token source {text:?} names nothing"));
        }
        let name = name.to_owned();
        Ok(match place {
            "auth" => Self::Auth(name),
            "header" => Self::Header(name.to_ascii_lowercase()),
            "query" => Self::Query(name),
            "cookie" => Self::Cookie(name),
            _ => return Err(format!("token source {text:?}: the place is auth, header, query or cookie")),
        })
    }
}

/// `[connect]`: where the Socket.IO handshake carries the token, and where the app's client also names
/// its user (to be checked against the token's user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Where to look for the token, first found wins.
    pub token: Vec<TokenSource>,
    /// Where the client states its user id (`query.userId`), if it does.
    pub user_id: Option<TokenSource>,
    /// The `connect_error` message of a handshake refused for its token or user, when the app's client
    /// compares it to a fixed string (Jivbook's `Authentication error`); `None`: `<Code>: <why>`.
    pub refused_message: Option<String>,
}

impl Default for Connect {
    fn default() -> Self {
        Self {
            token: vec![TokenSource::Auth("token".into()), TokenSource::Header("authorization".into())],
            user_id: None,
            refused_message: None,
        }
    }
}

/// Strips `Bearer ` from an `Authorization` header value; other values pass as they are.
pub fn bearer(value: &str) -> &str {
    let v = value.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources_and_bearer() {
        assert_eq!(TokenSource::parse("header.X-Auth-Token").unwrap(), TokenSource::Header("x-auth-token".into()));
        assert_eq!(TokenSource::parse("query.userId").unwrap(), TokenSource::Query("userId".into()));
        assert!(TokenSource::parse("body.token").is_err());
        assert!(TokenSource::parse("auth.").is_err());
        assert_eq!(bearer("Bearer abc"), "abc");
        assert_eq!(bearer("bearer  abc "), "abc");
        assert_eq!(bearer("abc"), "abc");
    }
}
