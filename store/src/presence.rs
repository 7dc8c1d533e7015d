//! The `presence` column family: one record per user, `{status, last_seen_ms}`, last writer wins.
//!
//! Presence is not ordered with messages, so these records are written directly (`put_cf`) from a
//! blocking task rather than through the single writer. Only the publicly visible `last_seen_ms` is
//! stored: while a user is invisible it stays frozen at the moment they went invisible.

use serde::{Deserialize, Serialize};

use crate::keys;
use crate::{Store, StoreError, decode, encode};

/// The status a user chose (Offline is not a choice: it is the absence of connected devices).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChosenStatus {
    #[default]
    Online,
    Away,
    Busy,
    Invisible,
}

/// What is kept of a user's presence across restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceRecord {
    #[serde(default)]
    pub status: ChosenStatus,
    /// When the user was last seen online, as others may see it (ms since the epoch).
    #[serde(default)]
    pub last_seen_ms: u64,
}

impl Store {
    /// The stored presence of `user`, if any.
    pub fn presence(&self, user: &str) -> Result<Option<PresenceRecord>, StoreError> {
        let cf = self.cf(keys::PRESENCE)?;
        self.db.get_cf(&cf, user.as_bytes())?.map(|v| decode(&v, "presence")).transpose()
    }

    /// The stored presence of several users (one multi-get), in the order asked.
    pub fn presences(&self, users: &[String]) -> Result<Vec<Option<PresenceRecord>>, StoreError> {
        let cf = self.cf(keys::PRESENCE)?;
        self.db
            .multi_get_cf(users.iter().map(|u| (&cf, u.as_bytes())))
            .into_iter()
            .map(|r| r?.map(|v| decode(&v, "presence")).transpose())
            .collect()
    }

    /// Replaces the stored presence of `user` (not synced: the WAL is flushed at shutdown).
    pub fn put_presence(&self, user: &str, rec: &PresenceRecord) -> Result<(), StoreError> {
        let cf = self.cf(keys::PRESENCE)?;
        self.db.put_cf(&cf, user.as_bytes(), encode(rec))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_small_and_tolerant() {
        let rec = PresenceRecord { status: ChosenStatus::Away, last_seen_ms: 5 };
        let json = serde_json::to_string(&rec).unwrap_or_default();
        assert_eq!(json, r#"{"status":"away","last_seen_ms":5}"#);
        assert_eq!(serde_json::from_str::<PresenceRecord>("{}").ok(), Some(PresenceRecord::default()));
    }
}
