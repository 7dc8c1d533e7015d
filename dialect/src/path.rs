//! Dotted JSON paths (`sender.id`, `attachments.0.url`, `$` for the whole value): read and write.

use serde_json::{Map, Value};

/// A parsed path; empty means the whole value (`$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    /// `$` or an empty string is the root; otherwise segments separated by dots.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "$" || text.is_empty() {
            return Ok(Self(Vec::new()));
        }
        let segments: Vec<String> = text.split('.').map(str::to_owned).collect();
        if segments.iter().any(|s| s.is_empty() || s.starts_with('$')) {
            return Err(format!("bad path {text:?}"));
        }
        Ok(Self(segments))
    }

    /// The whole value (`$`).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// The path as written (`$` for the root).
    pub fn display(&self) -> String {
        if self.0.is_empty() { "$".to_owned() } else { self.0.join(".") }
    }

    /// The value at this path; numeric segments index arrays. Absent parts give `None`.
    pub fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        let mut current = value;
        for segment in &self.0 {
            current = match current {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Writes `new` at this path, creating objects on the way (a non-object on the way is replaced).
    pub fn set(&self, target: &mut Value, new: Value) {
        set_in(target, &self.0, new);
    }
}

fn set_in(current: &mut Value, segments: &[String], new: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *current = new;
        return;
    };
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    if let Value::Object(map) = current {
        set_in(map.entry(first.clone()).or_insert(Value::Null), rest, new);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn get_and_set_nested_paths() {
        let v = json!({"a": {"b": [10, {"c": 3}]}});
        assert_eq!(Path::parse("a.b.0").unwrap().get(&v), Some(&json!(10)));
        assert_eq!(Path::parse("a.b.1.c").unwrap().get(&v), Some(&json!(3)));
        assert_eq!(Path::parse("a.x").unwrap().get(&v), None);
        assert_eq!(Path::parse("$").unwrap().get(&v), Some(&v));
        let mut out = json!(null);
        Path::parse("data.messageId").unwrap().set(&mut out, json!(5));
        Path::parse("type").unwrap().set(&mut out, json!("t"));
        assert_eq!(out, json!({"data": {"messageId": 5}, "type": "t"}));
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("$x").is_err());
    }
}
