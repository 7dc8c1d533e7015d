//! Shared helpers for converting between domain types and the generated FlatBuffers tables.
//!
//! Every family module gives each domain type two `pub(crate)` functions:
//! `fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::T<'b>>` and
//! `fn decode(t: fb::T<'_>) -> Result<Self, DecodeError>`, written by hand or, for a struct that mirrors
//! its table field by field, by [`table_codec!`]. Decoding happens only after the verifier accepted the
//! buffer, so reading a field cannot go out of bounds; what is checked here is meaning: required values
//! present, lengths within the protocol's maxima, enum values known.

use flatbuffers::{FlatBufferBuilder, ForwardsUOffset, Vector, WIPOffset};

use crate::DecodeError;

pub(crate) type Fbb<'b> = FlatBufferBuilder<'b>;
pub(crate) type StrVec<'a> = Vector<'a, ForwardsUOffset<&'a str>>;

/// Maximum lengths of fields, in bytes for strings and items for lists. Documented in
/// docs/PROTOCOL.md; a longer field is a [`DecodeError::TooLong`].
pub mod max {
    /// User ids (the JWT `sub`).
    pub const USER_ID: usize = 128;
    /// Device ids.
    pub const DEVICE_ID: usize = 64;
    /// Client message ids.
    pub const CLIENT_MSG_ID: usize = 64;
    /// Tokens.
    pub const TOKEN: usize = 8 * 1024;
    /// Names, titles, kinds, keys, reasons, emoji, mime types and other short strings.
    pub const SHORT: usize = 256;
    /// URLs and links.
    pub const URL: usize = 2048;
    /// Message text, descriptions, notification bodies, metadata values.
    pub const TEXT: usize = 64 * 1024;
    /// SDP offers and answers, ICE candidates.
    pub const SDP: usize = 64 * 1024;
    /// Items in any list carried by a request or reply.
    pub const LIST: usize = 10_000;
    /// Attachments on one message.
    pub const ATTACHMENTS: usize = 32;
    /// Key/value pairs on one object.
    pub const FIELDS: usize = 64;
}

fn check_len(len: usize, table: &'static str, field: &'static str, max: usize) -> Result<(), DecodeError> {
    if len > max {
        return Err(DecodeError::TooLong { table, field, len, max });
    }
    Ok(())
}

/// A required string: present (the verifier guarantees it), non-empty and at most `max` bytes.
pub(crate) fn req_str(v: &str, table: &'static str, field: &'static str, max: usize) -> Result<String, DecodeError> {
    if v.is_empty() {
        return Err(DecodeError::MissingField { table, field });
    }
    check_len(v.len(), table, field, max)?;
    Ok(v.to_owned())
}

/// A required identifier: as [`req_str`], and without control characters (identifiers reach logs).
pub(crate) fn req_id(v: &str, table: &'static str, field: &'static str, max: usize) -> Result<String, DecodeError> {
    if v.chars().any(char::is_control) {
        return Err(DecodeError::ControlCharacter { table, field });
    }
    req_str(v, table, field, max)
}

/// An optional string where absence means "not given" (distinct from empty).
pub(crate) fn opt_str(
    v: Option<&str>,
    table: &'static str,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, DecodeError> {
    v.map(|s| check_len(s.len(), table, field, max).map(|()| s.to_owned())).transpose()
}

/// An optional string where absence and empty mean the same thing.
pub(crate) fn str_or_empty(
    v: Option<&str>,
    table: &'static str,
    field: &'static str,
    max: usize,
) -> Result<String, DecodeError> {
    Ok(opt_str(v, table, field, max)?.unwrap_or_default())
}

/// A list of non-empty strings of at most `max_len` bytes each.
pub(crate) fn str_list(
    v: Option<StrVec<'_>>,
    table: &'static str,
    field: &'static str,
    max_len: usize,
) -> Result<Vec<String>, DecodeError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    check_len(v.len(), table, field, max::LIST)?;
    v.iter().map(|s| req_str(s, table, field, max_len)).collect()
}

/// A list of `u64`.
pub(crate) fn u64_list(
    v: Option<Vector<'_, u64>>,
    table: &'static str,
    field: &'static str,
) -> Result<Vec<u64>, DecodeError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    check_len(v.len(), table, field, max::LIST)?;
    Ok(v.iter().collect())
}

/// A list of tables, each decoded with `f`.
pub(crate) fn table_list<'a, T, D>(
    v: Option<Vector<'a, ForwardsUOffset<T>>>,
    table: &'static str,
    field: &'static str,
    max_items: usize,
    f: impl Fn(T::Inner) -> Result<D, DecodeError>,
) -> Result<Vec<D>, DecodeError>
where
    T: flatbuffers::Follow<'a> + 'a,
{
    let Some(v) = v else { return Ok(Vec::new()) };
    check_len(v.len(), table, field, max_items)?;
    v.iter().map(f).collect()
}

/// Encodes an optional string (absent stays absent).
pub(crate) fn enc_opt_str<'b>(fbb: &mut Fbb<'b>, v: Option<&str>) -> Option<WIPOffset<&'b str>> {
    v.map(|s| fbb.create_string(s))
}

/// Encodes a string, leaving it absent when empty.
pub(crate) fn enc_str<'b>(fbb: &mut Fbb<'b>, v: &str) -> Option<WIPOffset<&'b str>> {
    (!v.is_empty()).then(|| fbb.create_string(v))
}

/// Encodes a list of strings (always present: use for required lists).
pub(crate) fn enc_str_list_req<'b>(fbb: &mut Fbb<'b>, v: &[String]) -> WIPOffset<Vector<'b, ForwardsUOffset<&'b str>>> {
    let offsets: Vec<_> = v.iter().map(|s| fbb.create_string(s)).collect();
    fbb.create_vector(&offsets)
}

/// Encodes a list of strings, absent when empty.
pub(crate) fn enc_str_list<'b>(
    fbb: &mut Fbb<'b>,
    v: &[String],
) -> Option<WIPOffset<Vector<'b, ForwardsUOffset<&'b str>>>> {
    (!v.is_empty()).then(|| enc_str_list_req(fbb, v))
}

/// Encodes a list of `u64`, absent when empty.
pub(crate) fn enc_u64_list<'b>(fbb: &mut Fbb<'b>, v: &[u64]) -> Option<WIPOffset<Vector<'b, u64>>> {
    (!v.is_empty()).then(|| fbb.create_vector(v))
}

/// Encodes a list of tables with `f`, absent when empty.
pub(crate) fn enc_table_list<'b, D, T>(
    fbb: &mut Fbb<'b>,
    v: &[D],
    f: impl Fn(&D, &mut Fbb<'b>) -> WIPOffset<T>,
) -> Option<WIPOffset<Vector<'b, ForwardsUOffset<T>>>> {
    if v.is_empty() {
        return None;
    }
    let offsets: Vec<_> = v.iter().map(|d| f(d, fbb)).collect();
    Some(fbb.create_vector(&offsets))
}

/// Declares a domain enum mirroring a generated FlatBuffers enum, with conversions both ways.
/// An unknown wire value decodes to [`DecodeError::UnknownEnum`].
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident => $fb:ty, default $default:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl $name {
            #[allow(dead_code)]
            pub(crate) fn to_wire(self) -> $fb {
                match self {
                    $( $name::$variant => <$fb>::$variant ),+
                }
            }

            #[allow(dead_code)]
            pub(crate) fn from_wire(
                w: $fb,
                table: &'static str,
                field: &'static str,
            ) -> Result<Self, $crate::DecodeError> {
                $( if w == <$fb>::$variant { return Ok($name::$variant); } )+
                Err($crate::DecodeError::UnknownEnum { table, field, value: w.0 as u64 })
            }
        }
    };
}
pub(crate) use wire_enum;

/// Implements `encode` and `decode` for a domain struct that mirrors a generated table field by field
/// (same names), each field converted as its kind says:
///
/// - `scalar`: numbers and booleans, as they are.
/// - `wire_enum(T)`: an enum declared with [`wire_enum!`].
/// - `req_str(max)`: a required string ([`req_str`]).
/// - `str_or_empty(max)`: a string left absent when empty ([`enc_str`], [`str_or_empty`]).
/// - `opt_str(max)`: an `Option<String>` ([`enc_opt_str`], [`opt_str`]).
/// - `str_list(max)`: a list of strings left absent when empty; `str_list_req(max)` when the schema
///   requires the list ([`str_list`], `max` is each string's).
/// - `table(T)`: a required table; `opt_table(T)`: an optional one (the field may be an
///   `Option<Box<T>>`).
/// - `table_list(T, max)`: a list of at most `max` tables, left absent when empty.
///
/// Strings and tables are written in the order the fields are listed. Errors name the table and the
/// field as they are written here.
macro_rules! table_codec {
    (
        $name:ident => fb::$fb:ident, fb::$args:ident {
            $( $field:ident : $kind:ident $( ( $($arg:tt)* ) )? ),* $(,)?
        }
    ) => {
        impl $name {
            pub(crate) fn encode<'b>(
                &self,
                fbb: &mut $crate::convert::Fbb<'b>,
            ) -> ::flatbuffers::WIPOffset<$crate::fb::$fb<'b>> {
                $( let $field = $crate::convert::table_codec!(@enc fbb, self.$field, $kind $( ( $($arg)* ) )?); )*
                $crate::fb::$fb::create(fbb, &$crate::fb::$args { $( $field ),* })
            }

            pub(crate) fn decode(t: $crate::fb::$fb<'_>) -> Result<Self, $crate::DecodeError> {
                Ok(Self {
                    $( $field: $crate::convert::table_codec!(
                        @dec t.$field(), stringify!($fb), stringify!($field), $kind $( ( $($arg)* ) )?
                    ), )*
                })
            }
        }
    };

    (@enc $fbb:ident, $v:expr, scalar) => { $v };
    (@enc $fbb:ident, $v:expr, wire_enum($ty:ty)) => { $v.to_wire() };
    (@enc $fbb:ident, $v:expr, req_str($max:expr)) => { Some($fbb.create_string(&$v)) };
    (@enc $fbb:ident, $v:expr, str_or_empty($max:expr)) => { $crate::convert::enc_str($fbb, &$v) };
    (@enc $fbb:ident, $v:expr, opt_str($max:expr)) => { $crate::convert::enc_opt_str($fbb, $v.as_deref()) };
    (@enc $fbb:ident, $v:expr, str_list($max:expr)) => { $crate::convert::enc_str_list($fbb, &$v) };
    (@enc $fbb:ident, $v:expr, str_list_req($max:expr)) => { Some($crate::convert::enc_str_list_req($fbb, &$v)) };
    (@enc $fbb:ident, $v:expr, table($ty:ty)) => { Some($v.encode($fbb)) };
    (@enc $fbb:ident, $v:expr, opt_table($ty:ty)) => { $v.as_ref().map(|x| x.encode($fbb)) };
    (@enc $fbb:ident, $v:expr, table_list($ty:ty, $max:expr)) => {
        $crate::convert::enc_table_list($fbb, &$v, |x, fbb| x.encode(fbb))
    };

    (@dec $w:expr, $table:expr, $field:expr, scalar) => { $w };
    (@dec $w:expr, $table:expr, $field:expr, wire_enum($ty:ty)) => { <$ty>::from_wire($w, $table, $field)? };
    (@dec $w:expr, $table:expr, $field:expr, req_str($max:expr)) => {
        $crate::convert::req_str($w, $table, $field, $max)?
    };
    (@dec $w:expr, $table:expr, $field:expr, str_or_empty($max:expr)) => {
        $crate::convert::str_or_empty($w, $table, $field, $max)?
    };
    (@dec $w:expr, $table:expr, $field:expr, opt_str($max:expr)) => {
        $crate::convert::opt_str($w, $table, $field, $max)?
    };
    (@dec $w:expr, $table:expr, $field:expr, str_list($max:expr)) => {
        $crate::convert::str_list($w, $table, $field, $max)?
    };
    (@dec $w:expr, $table:expr, $field:expr, str_list_req($max:expr)) => {
        $crate::convert::str_list(Some($w), $table, $field, $max)?
    };
    (@dec $w:expr, $table:expr, $field:expr, table($ty:ty)) => { <$ty>::decode($w)? };
    (@dec $w:expr, $table:expr, $field:expr, opt_table($ty:ty)) => {
        $w.map(|x| <$ty>::decode(x).map(Into::into)).transpose()?
    };
    (@dec $w:expr, $table:expr, $field:expr, table_list($ty:ty, $max:expr)) => {
        $crate::convert::table_list($w, $table, $field, $max, <$ty>::decode)?
    };
}
pub(crate) use table_codec;
