//! Reads of what each user decides for themselves: their view of a conversation (archived, muted,
//! deleted for them) and whom they blocked. Written by the writer (`writer/settings.rs`).

use rocksdb::{Direction as RDirection, IteratorMode};

use super::keys::{self, read_u64};
use super::{Store, StoreError, decode};
use crate::model::{ConvId, Seq, UserId, UserSettings};

impl Store {
    /// `user`'s own view of `conv` (all defaults when they never changed it).
    pub fn settings(&self, user: &str, conv: ConvId) -> Result<UserSettings, StoreError> {
        let cf = self.cf(keys::SETTINGS)?;
        Ok(self
            .db
            .get_cf(&cf, keys::user_conv_key(user, conv))?
            .map(|v| decode(&v, "settings"))
            .transpose()?
            .unwrap_or_default())
    }

    /// Whether `blocker` has blocked `blocked`.
    pub fn has_blocked(&self, blocker: &str, blocked: &str) -> Result<bool, StoreError> {
        let cf = self.cf(keys::BLOCKS)?;
        Ok(self.db.get_pinned_cf(&cf, keys::block_key(blocker, blocked))?.is_some())
    }

    /// Whether either of two users has blocked the other.
    pub fn blocked_either(&self, a: &str, b: &str) -> Result<bool, StoreError> {
        Ok(self.has_blocked(a, b)? || self.has_blocked(b, a)?)
    }

    /// Everyone `blocker` has blocked, with when, in user id order.
    pub fn blocked_by(&self, blocker: &str) -> Result<Vec<(UserId, u64)>, StoreError> {
        let cf = self.cf(keys::BLOCKS)?;
        let prefix = keys::block_prefix(blocker);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&prefix, RDirection::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let user = keys::split_block_key(&k).ok_or(StoreError::Corrupt("blocks"))?;
            out.push((user, read_u64(&v).unwrap_or(0)));
        }
        Ok(out)
    }

    /// Refuses `user`'s tokens issued before `before_ms` from now on. A single key written directly: it
    /// orders against nothing the writer does (sessions check it at their handshake and refresh).
    pub fn revoke(&self, user: &str, before_ms: u64) -> Result<(), StoreError> {
        let cf = self.cf(keys::REVOKED)?;
        self.db.put_cf(&cf, user.as_bytes(), keys::u64_key(before_ms))?;
        Ok(())
    }

    /// The time before which `user`'s tokens are refused, if an administrator revoked them.
    pub fn revoked_before(&self, user: &str) -> Result<Option<u64>, StoreError> {
        let cf = self.cf(keys::REVOKED)?;
        Ok(self.db.get_cf(&cf, user.as_bytes())?.as_deref().and_then(read_u64))
    }

    /// How many messages with `after < seq <= up_to` of `conv` `user` deleted for themselves.
    pub fn hidden_between(&self, user: &str, conv: ConvId, after: Seq, up_to: Seq) -> Result<u64, StoreError> {
        Ok(self.hidden_seqs(user, conv, after, up_to)?.len() as u64)
    }

    /// The seqs `after < seq <= up_to` of `conv` that `user` deleted for themselves, ascending.
    pub fn hidden_seqs(&self, user: &str, conv: ConvId, after: Seq, up_to: Seq) -> Result<Vec<Seq>, StoreError> {
        self.user_conv_seqs(keys::HIDDEN, user, conv, after, up_to)
    }

    /// The seqs `after < seq <= up_to` of the (user, conversation, seq) rows of `cf_name`, ascending.
    pub(crate) fn user_conv_seqs(
        &self,
        cf_name: &'static str,
        user: &str,
        conv: ConvId,
        after: Seq,
        up_to: Seq,
    ) -> Result<Vec<Seq>, StoreError> {
        let mut seqs = Vec::new();
        if up_to <= after {
            return Ok(seqs);
        }
        let cf = self.cf(cf_name)?;
        let prefix = keys::user_conv_key(user, conv);
        let start = keys::hidden_key(user, conv, after.saturating_add(1));
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&start, RDirection::Forward)) {
            let (k, _) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            match k.get(prefix.len()..).and_then(read_u64) {
                Some(seq) if seq <= up_to => seqs.push(seq),
                _ => break,
            }
        }
        Ok(seqs)
    }
}
