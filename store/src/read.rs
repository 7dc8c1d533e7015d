//! Reads: straight from RocksDB, safe from any thread. Callers on the async runtime run the scans
//! (history, catch-up, conversation lists) in `spawn_blocking`.

use rocksdb::{Direction as RDirection, IteratorMode};

use super::keys::{self, msg_key, read_u64, split_msg_key};
use super::{Store, StoreError, decode};
use crate::model::{Ack, ConvHead, ConvId, ConvMeta, MemberRec, Profile, Seq, StoredMessage, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Older messages: seq < anchor (anchor 0: from the newest), newest first.
    Backward,
    /// Newer messages: seq > anchor, oldest first.
    Forward,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<StoredMessage>,
    pub has_more: bool,
}

impl Store {
    pub fn conv_meta(&self, conv: ConvId) -> Result<Option<ConvMeta>, StoreError> {
        let cf = self.cf(keys::CONVS)?;
        self.db.get_cf(&cf, keys::u64_key(conv))?.map(|v| decode(&v, "convs")).transpose()
    }

    pub fn conv_head(&self, conv: ConvId) -> Result<ConvHead, StoreError> {
        let cf = self.cf(keys::HEADS)?;
        Ok(self.db.get_cf(&cf, keys::u64_key(conv))?.map(|v| decode(&v, "heads")).transpose()?.unwrap_or_default())
    }

    pub fn member(&self, conv: ConvId, user: &str) -> Result<Option<MemberRec>, StoreError> {
        let cf = self.cf(keys::MEMBERS)?;
        self.db.get_cf(&cf, keys::member_key(conv, user))?.map(|v| decode(&v, "members")).transpose()
    }

    /// Every member of a conversation with their record.
    pub fn members(&self, conv: ConvId) -> Result<Vec<(UserId, MemberRec)>, StoreError> {
        let cf = self.cf(keys::MEMBERS)?;
        let prefix = keys::u64_key(conv);
        let mut out = Vec::new();
        for item in self.db.prefix_iterator_cf(&cf, prefix) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let user =
                k.get(9..).map(|b| String::from_utf8_lossy(b).into_owned()).ok_or(StoreError::Corrupt("members"))?;
            out.push((user, decode(&v, "members")?));
        }
        Ok(out)
    }

    /// The conversations a user is a member of.
    pub fn user_convs(&self, user: &str) -> Result<Vec<ConvId>, StoreError> {
        let cf = self.cf(keys::USER_CONVS)?;
        let prefix = keys::user_conv_prefix(user);
        let mut out = Vec::new();
        for item in self.db.prefix_iterator_cf(&cf, &prefix) {
            let (k, _) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(k.get(prefix.len()..).and_then(read_u64).ok_or(StoreError::Corrupt("user_convs"))?);
        }
        Ok(out)
    }

    pub fn message(&self, conv: ConvId, seq: Seq) -> Result<Option<StoredMessage>, StoreError> {
        let cf = self.cf(keys::MSGS)?;
        self.db.get_cf(&cf, msg_key(conv, seq))?.map(|v| decode(&v, "msgs")).transpose()
    }

    /// Where a message id lives.
    pub fn locate(&self, msg_id: u64) -> Result<Option<(ConvId, Seq)>, StoreError> {
        let cf = self.cf(keys::MSG_IDX)?;
        Ok(self.db.get_cf(&cf, keys::u64_key(msg_id))?.as_deref().and_then(split_msg_key))
    }

    pub fn profile(&self, user: &str) -> Result<Option<Profile>, StoreError> {
        let cf = self.cf(keys::USERS)?;
        self.db.get_cf(&cf, user.as_bytes())?.map(|v| decode(&v, "users")).transpose()
    }

    pub(super) fn idempotent_ack(&self, key: &[u8]) -> Result<Option<Ack>, StoreError> {
        let cf = self.cf(keys::IDEM)?;
        self.db.get_cf(&cf, key)?.map(|v| decode(&v, "idem")).transpose()
    }

    /// The direct conversation of two users (and a context), if it exists.
    pub fn find_direct(&self, a: &str, b: &str, context: Option<(&str, &str)>) -> Result<Option<ConvId>, StoreError> {
        self.direct(&keys::direct_key(a, b, context))
    }

    pub(super) fn direct(&self, key: &[u8]) -> Result<Option<ConvId>, StoreError> {
        let cf = self.cf(keys::DIRECT)?;
        Ok(self.db.get_cf(&cf, key)?.as_deref().and_then(read_u64))
    }

    /// Messages with `after < seq <= up_to`, oldest first, at most `limit`.
    pub fn range(&self, conv: ConvId, after: Seq, up_to: Seq, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
        let cf = self.cf(keys::MSGS)?;
        let start = msg_key(conv, after.saturating_add(1));
        let mut out = Vec::new();
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&start, RDirection::Forward)) {
            let (k, v) = item?;
            let Some((c, seq)) = split_msg_key(&k) else { break };
            if c != conv || seq > up_to || out.len() >= limit {
                break;
            }
            out.push(decode(&v, "msgs")?);
        }
        Ok(out)
    }

    /// Messages with `after < seq <= up_to` as `viewer` sees them (what they deleted for themselves is
    /// left out), oldest first, scanning at most `limit`; also the last seq scanned, to go on from.
    pub fn visible_range(
        &self,
        viewer: &str,
        conv: ConvId,
        after: Seq,
        up_to: Seq,
        limit: usize,
    ) -> Result<(Vec<StoredMessage>, Option<Seq>), StoreError> {
        let settings = self.settings(viewer, conv)?;
        let page = self.range(conv, after, up_to, limit)?;
        let Some(last) = page.last().map(|m| m.seq) else { return Ok((page, None)) };
        // One seek (usually onto nothing) rather than a lookup per message: a long resume felt those.
        let hidden = self.hidden_seqs(viewer, conv, after, last)?;
        let out = page.into_iter().filter(|m| settings.shows(m.seq) && hidden.binary_search(&m.seq).is_err()).collect();
        Ok((out, Some(last)))
    }

    /// One page of history by sequence cursor, as `viewer` sees it: messages they deleted for
    /// themselves are skipped.
    pub fn history(
        &self,
        viewer: &str,
        conv: ConvId,
        anchor: Seq,
        dir: Direction,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let cf = self.cf(keys::MSGS)?;
        let hidden = self.cf(keys::HIDDEN)?;
        let settings = self.settings(viewer, conv)?;
        let mut messages = Vec::new();
        let mut has_more = false;
        let (start, mode) = match dir {
            Direction::Forward => (msg_key(conv, anchor.saturating_add(1)), RDirection::Forward),
            Direction::Backward => {
                let below = if anchor == 0 { u64::MAX } else { anchor - 1 };
                (msg_key(conv, below), RDirection::Reverse)
            }
        };
        if dir == Direction::Backward && anchor == 1 {
            return Ok(HistoryPage::default());
        }
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&start, mode)) {
            let (k, v) = item?;
            let Some((c, seq)) = split_msg_key(&k) else { break };
            if c != conv {
                break;
            }
            if !settings.shows(seq) {
                // Deleted for the viewer with the whole conversation: nothing older is visible either.
                if dir == Direction::Backward {
                    break;
                }
                continue;
            }
            if self.db.get_pinned_cf(&hidden, keys::hidden_key(viewer, conv, seq))?.is_some() {
                continue;
            }
            if messages.len() >= limit {
                has_more = true;
                break;
            }
            messages.push(decode(&v, "msgs")?);
        }
        Ok(HistoryPage { messages, has_more })
    }

    /// Messages of `conv` stored after the store-wide position `lsn`, oldest first (resume by global
    /// cursor). Walks back from the newest message until it reaches `lsn`.
    pub fn since_lsn(&self, conv: ConvId, lsn: u64, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
        let head = self.conv_head(conv)?;
        if head.last_lsn <= lsn {
            return Ok(Vec::new());
        }
        let cf = self.cf(keys::MSGS)?;
        let start = msg_key(conv, head.last_seq);
        let mut out: Vec<StoredMessage> = Vec::new();
        for item in self.db.iterator_cf(&cf, IteratorMode::From(&start, RDirection::Reverse)) {
            let (k, v) = item?;
            let Some((c, _)) = split_msg_key(&k) else { break };
            if c != conv {
                break;
            }
            let m: StoredMessage = decode(&v, "msgs")?;
            if m.lsn <= lsn {
                break;
            }
            out.push(m);
        }
        out.reverse();
        out.truncate(limit);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StoreConfig;

    #[test]
    fn a_range_leaves_out_what_the_viewer_hid_and_only_that() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), &StoreConfig::default()).expect("store");
        let (msgs, hidden) = (store.cf(keys::MSGS).expect("msgs"), store.cf(keys::HIDDEN).expect("hidden"));
        for conv in [7, 8] {
            for seq in 1..=6 {
                let m = StoredMessage { conv, seq, ..Default::default() };
                store.db.put_cf(&msgs, msg_key(conv, seq), super::super::encode(&m)).expect("put");
            }
        }
        // Rows that must not count: another viewer's, another conversation's, one outside the range.
        for (user, conv, seq) in [("bob", 7, 2), ("bob", 7, 5), ("bob", 7, 1), ("alice", 7, 3), ("bob", 8, 4)] {
            store.db.put_cf(&hidden, keys::hidden_key(user, conv, seq), []).expect("put");
        }
        let seqs =
            |(page, last): (Vec<StoredMessage>, Option<Seq>)| (page.iter().map(|m| m.seq).collect::<Vec<_>>(), last);
        assert_eq!(seqs(store.visible_range("bob", 7, 1, 6, 256).expect("range")), (vec![3, 4, 6], Some(6)));
        assert_eq!(seqs(store.visible_range("bob", 7, 1, 6, 3).expect("range")), (vec![3, 4], Some(4)));
        assert_eq!(seqs(store.visible_range("alice", 7, 0, 6, 256).expect("range")), (vec![1, 2, 4, 5, 6], Some(6)));
        assert_eq!(seqs(store.visible_range("bob", 7, 6, 6, 256).expect("range")), (vec![], None));
    }
}
