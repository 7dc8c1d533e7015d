//! Event arguments as they came, binary attachments included: the echo handlers send back exactly what
//! they received (any number of arguments; byte buffers stay byte buffers, so they travel as
//! attachments again).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

/// One argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    Seq(Vec<Arg>),
    /// In the order the client wrote the keys.
    Map(Vec<(String, Arg)>),
}

/// Every argument of an event (socketioxide hands a "tuple" the whole argument list, and sends one back
/// spread out as separate arguments).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Args(pub(crate) Vec<Arg>);

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Null => s.serialize_unit(),
            Arg::Bool(b) => s.serialize_bool(*b),
            Arg::I64(n) => s.serialize_i64(*n),
            Arg::U64(n) => s.serialize_u64(*n),
            Arg::F64(n) => s.serialize_f64(*n),
            Arg::Str(v) => s.serialize_str(v),
            Arg::Bin(b) => s.serialize_bytes(b),
            Arg::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Arg::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any event argument")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Arg, D::Error> {
        Arg::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        Ok(Arg::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Bin(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Arg, E> {
        Ok(Arg::Bin(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Arg::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Arg>()? {
            entries.push((k, v));
        }
        Ok(Arg::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
        d.deserialize_any(ArgVisitor)
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Args, D::Error> {
        struct AllVisitor;
        impl<'de> Visitor<'de> for AllVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the event's arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }
        // A tuple, so that socketioxide passes every argument rather than the first one.
        d.deserialize_tuple(usize::MAX, AllVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_arguments_come_back_as_they_were() {
        let text = r#"[1,"2",{"3":[true],"a":null},-4,2.5]"#;
        let args: Args = serde_json::from_str(text).unwrap();
        assert_eq!(args.0.len(), 5);
        assert_eq!(serde_json::to_string(&args).unwrap(), text);
    }
}
