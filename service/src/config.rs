//! Configuration layering: the defaults, overlaid by a TOML file, overlaid by environment variables named
//! after each setting's path (`<PREFIX>_<SECTION>_<KEY>` in upper case).

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

/// A configuration that cannot work; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config: {0}")]
    Parse(String),
    #[error("config: {setting} {reason}")]
    Invalid { setting: &'static str, reason: String },
}

/// A variable whose text is not a plain value: `parse` turns it into the setting's TOML value.
#[derive(Debug, Clone, Copy)]
pub struct EnvOverride {
    /// The whole variable name, e.g. `QUIP_BRIDGE_DIALECTS`.
    pub var: &'static str,
    pub parse: fn(&str) -> Result<toml::Value, String>,
}

/// `defaults`, overlaid by the TOML `file` (if any), then by the `prefix`-named variables of `env`.
/// Integers and booleans are parsed from the variable's text; lists are comma-separated.
pub fn layered<T: Serialize + DeserializeOwned>(
    defaults: &T,
    file: Option<&Path>,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[EnvOverride],
) -> Result<T, ConfigError> {
    let mut value = toml::Value::try_from(defaults).map_err(|e| ConfigError::Parse(e.to_string()))?;
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let file_value: toml::Value = toml::from_str(&text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        merge(&mut value, file_value);
    }
    let start = format!("{prefix}_");
    let env: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(&start)).collect();
    apply_env(&mut value, prefix, &env, overrides)?;
    value.try_into().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn apply_env(
    value: &mut toml::Value,
    prefix: &str,
    env: &[(String, String)],
    overrides: &[EnvOverride],
) -> Result<(), ConfigError> {
    let toml::Value::Table(table) = value else { return Ok(()) };
    for (key, slot) in table.iter_mut() {
        let name = format!("{prefix}_{}", key.to_uppercase());
        let raw = env.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
        if let Some(special) = overrides.iter().find(|o| o.var == name) {
            if let Some(raw) = raw {
                *slot = (special.parse)(raw).map_err(|e| ConfigError::Parse(format!("{name}: {e}")))?;
            }
            continue;
        }
        if slot.is_table() {
            apply_env(slot, &name, env, overrides)?;
            continue;
        }
        let Some(raw) = raw else { continue };
        *slot = match slot {
            toml::Value::Integer(_) => toml::Value::Integer(
                raw.parse().map_err(|_| ConfigError::Parse(format!("{name}={raw:?} is not an integer")))?,
            ),
            toml::Value::Boolean(_) => toml::Value::Boolean(
                raw.parse().map_err(|_| ConfigError::Parse(format!("{name}={raw:?} is not true or false")))?,
            ),
            toml::Value::Array(_) => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| toml::Value::String(v.into()))
                    .collect(),
            ),
            _ => toml::Value::String(raw.clone()),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Cfg {
        name: String,
        inner: Inner,
        list: Vec<String>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        port: i64,
        on: bool,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Self { name: "a".into(), inner: Inner::default(), list: vec!["x".into()] }
        }
    }

    impl Default for Inner {
        fn default() -> Self {
            Self { port: 1, on: false }
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn file_then_environment_win_over_defaults() {
        let dir = std::env::temp_dir().join(format!("quip-service-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "name = \"file\"\n[inner]\nport = 7\n").unwrap();
        let env = env(&[("Q_INNER_ON", "true"), ("Q_LIST", "p, q,"), ("OTHER_NAME", "ignored")]);
        let cfg: Cfg = layered(&Cfg::default(), Some(&file), "Q", env, &[]).unwrap();
        assert_eq!(
            cfg,
            Cfg { name: "file".into(), inner: Inner { port: 7, on: true }, list: vec!["p".into(), "q".into()] }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = layered(&Cfg::default(), None, "Q", env(&[("Q_INNER_PORT", "x")]), &[]).unwrap_err();
        assert!(err.to_string().contains("Q_INNER_PORT"), "{err}");
        let missing = layered(&Cfg::default(), Some(Path::new("/nonexistent/q.toml")), "Q", env(&[]), &[]);
        assert!(matches!(missing, Err(ConfigError::Read { .. })));
    }

    #[test]
    fn an_override_parses_its_own_variable() {
        let upper = EnvOverride {
            var: "Q_LIST",
            parse: |raw| Ok(toml::Value::Array(vec![toml::Value::String(raw.to_uppercase())])),
        };
        let cfg: Cfg = layered(&Cfg::default(), None, "Q", env(&[("Q_LIST", "a,b")]), &[upper]).unwrap();
        assert_eq!(cfg.list, vec!["A,B".to_string()]);
    }
}
