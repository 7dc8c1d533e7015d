//! One batch, from the queue to disk: take what is queued, apply each command to one WriteBatch, write it
//! once (with fsync under `durability = "fsync"`, unless nothing in it waits for durability: see
//! `Mark::durable`), then answer every command and publish what committed.

use std::sync::atomic::Ordering;

use rocksdb::WriteBatch;
use tokio::sync::mpsc;

use super::cmd::{Committed, Publish, WriteCmd};
use super::state::{CACHE_LIMIT, Pending, State};
use crate::config::StoreConfig;
use crate::keys::{self, u64_key};
use crate::{StoreError, encode};

impl State {
    pub(super) fn run(&mut self, mut rx: mpsc::Receiver<WriteCmd>, publisher: impl Publish) {
        let mut cmds = Vec::with_capacity(self.max_batch);
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else { break };
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                if matches!(cmd, WriteCmd::Shutdown) {
                    stopping = true;
                    break;
                }
                cmds.push(cmd);
                if cmds.len() < self.max_batch {
                    next = rx.try_recv().ok();
                }
            }
            if cmds.is_empty() {
                continue;
            }
            let events = self.commit(cmds.drain(..), &publisher);
            if !events.is_empty() {
                publisher.publish(events);
            }
        }
        rx.close();
        tracing::info!("writer: queue closed, exiting");
    }

    /// Applies the commands to one batch, writes it, then answers every command.
    fn commit(&mut self, cmds: impl Iterator<Item = WriteCmd>, publisher: &impl Publish) -> Vec<Committed> {
        let mut batch = WriteBatch::default();
        let mut pending = Pending::default();
        for cmd in cmds {
            self.apply(&mut batch, &mut pending, cmd);
        }
        if let Err(e) = self.put_counters(&mut batch) {
            return self.fail(pending, e);
        }
        let started = std::time::Instant::now();
        let size = pending.replies.len();
        let opts = if pending.needs_sync { &self.write_opts } else { &self.write_opts_unsynced };
        if let Err(e) = self.store.db.write_opt(batch, opts) {
            let e = StoreError::from(e);
            if e == StoreError::Full && !self.store.full.swap(true, Ordering::AcqRel) {
                tracing::error!(
                    "writer: the disk is full; RocksDB refuses every write from now on: free space, then restart \
                     quipd (reads go on; /readyz answers 503)"
                );
            } else if e != StoreError::Full {
                tracing::error!(error = %e, "writer: batch write failed; nothing in it is acknowledged");
            }
            return self.fail(pending, e);
        }
        self.write_seconds.record(started.elapsed().as_secs_f64());
        self.batch_size.record(size as f64);
        self.store.committed_lsn.store(self.next_lsn - 1, Ordering::Release);
        for reply in pending.replies {
            reply(Ok(()));
        }
        let unread = self.unread_events(std::mem::take(&mut pending.read_moved), publisher);
        pending.events.extend(unread);
        if self.heads.len() > CACHE_LIMIT
            || self.members.len() > CACHE_LIMIT
            || self.receipts.len() > CACHE_LIMIT
            || self.device_receipts.len() > CACHE_LIMIT
            || self.profiles.len() > CACHE_LIMIT
            || self.blocked_by.len() > CACHE_LIMIT
            || self.user_convs.len() > CACHE_LIMIT
        {
            self.clear_caches();
        }
        pending.events
    }

    fn fail(&mut self, pending: Pending, e: StoreError) -> Vec<Committed> {
        for reply in pending.replies {
            reply(Err(e.clone()));
        }
        // The caches may hold what the failed batch would have written: reload from RocksDB.
        self.clear_caches();
        if let Ok(fresh) = State::load(self.store.clone(), &StoreConfig::default()) {
            self.next_conv_id = fresh.next_conv_id;
            self.next_msg_id = fresh.next_msg_id;
            self.next_lsn = fresh.next_lsn;
        }
        Vec::new()
    }

    fn put_counters(&self, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let meta = self.store.cf(keys::META)?;
        batch.put_cf(&meta, keys::NEXT_CONV_ID, u64_key(self.next_conv_id));
        batch.put_cf(&meta, keys::NEXT_MSG_ID, u64_key(self.next_msg_id));
        batch.put_cf(&meta, keys::NEXT_LSN, u64_key(self.next_lsn));
        Ok(())
    }

    fn apply(&mut self, batch: &mut WriteBatch, pending: &mut Pending, cmd: WriteCmd) {
        pending.needs_sync |= !matches!(&cmd, WriteCmd::Receipt { mark, .. } if !mark.durable);
        match cmd {
            WriteCmd::Send { msg, now_ms, reply } => {
                let result = self.append(batch, pending, msg, now_ms);
                pending.reply(reply, result);
            }
            WriteCmd::OpenDirect { a, b, context, now_ms, reply } => {
                let result = self.open_direct(batch, pending, a, b, context, now_ms);
                pending.reply(reply, result);
            }
            WriteCmd::CreateGroup { meta, members, reply } => {
                let result = self.create_conv(batch, pending, meta, members);
                pending.reply(reply, result);
            }
            WriteCmd::PutProfile { profile, reply } => {
                let result =
                    self.store.cf(keys::USERS).map(|cf| batch.put_cf(&cf, profile.id.as_bytes(), encode(&profile)));
                if result.is_ok() {
                    // A failed batch clears every cache, so this never outlives an unwritten profile.
                    self.profiles.insert(profile.id.clone(), Some(profile.sender()));
                }
                pending.reply(reply, result);
            }
            WriteCmd::Receipt { mark, reply } => {
                let result = self.mark(batch, pending, mark);
                pending.reply(reply, result);
            }
            WriteCmd::Edit { edit, reply } => {
                let result = self.edit(batch, pending, edit);
                pending.reply(reply, result);
            }
            WriteCmd::Delete { delete, reply } => {
                let result = self.delete(batch, pending, delete);
                pending.reply(reply, result);
            }
            WriteCmd::React { react, reply } => {
                let result = self.react(batch, pending, react);
                pending.reply(reply, result);
            }
            WriteCmd::Members { change, reply } => {
                let result = self.change_members(batch, pending, change);
                pending.reply(reply, result);
            }
            WriteCmd::Setting { change, reply } => {
                let result = self.change_setting(batch, pending, change);
                pending.reply(reply, result);
            }
            WriteCmd::Shutdown => {}
        }
    }
}
