//! The checks after the last restart: the store against the acks, and each client's event stream
//! against the store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use quip_sdk::{Client, Direction, Message};

use super::workload::{AckRecord, Member};

/// How long the clients may take to receive everything after the load stops (a liveness bound).
const CATCH_UP: Duration = Duration::from_secs(90);

/// What was checked.
#[derive(Debug, Default)]
pub struct Report {
    /// Distinct acknowledged messages (one per client_msg_id).
    pub acked: usize,
    /// Acks that said `duplicate` (the message was stored before the kill, its ack was lost).
    pub duplicate_acks: usize,
    /// Messages that needed more than one `send` call.
    pub retried: usize,
    /// Messages stored, over all conversations (system messages included).
    pub stored: usize,
    /// Message events checked over all clients.
    pub delivered: usize,
    /// Sessions the clients opened (the first ones included), and how many of them resumed.
    pub sessions: u64,
    pub resumes: u64,
}

/// Every message of `conv`, oldest first, through history pages.
async fn full_history(client: &Client, conv: u64) -> Result<Vec<Message>, String> {
    let mut out = Vec::new();
    let mut anchor = 0;
    loop {
        let page = client.history(conv, anchor, Direction::Forward, 200).await.map_err(|e| format!("history: {e}"))?;
        out.extend(page.messages);
        if !page.has_more || page.next_anchor_seq == 0 {
            return Ok(out);
        }
        anchor = page.next_anchor_seq;
    }
}

pub async fn check(members: &[Member], convs: &[u64], acks: &[AckRecord]) -> Result<Report, String> {
    let mut failures = Vec::new();
    let mut report = Report::default();

    // 1. The store: per conversation, seqs 1..=n in order, and each client_msg_id stored once.
    let mut stored: HashMap<u64, Vec<Message>> = HashMap::new();
    let mut by_cmid: HashMap<String, (u64, u64, u64, String)> = HashMap::new();
    for &conv in convs {
        let reader = members.iter().find(|m| m.convs.contains(&conv)).ok_or("conversation without members")?;
        let messages = full_history(&reader.client, conv).await?;
        for (i, m) in messages.iter().enumerate() {
            if m.seq != i as u64 + 1 {
                failures.push(format!("conv {conv}: history position {i} holds seq {} (gap or disorder)", m.seq));
                break;
            }
        }
        for m in &messages {
            if !m.client_msg_id.starts_with("crash:") {
                continue;
            }
            let value = (conv, m.seq, m.id, m.sender.id.clone());
            if let Some(first) = by_cmid.insert(m.client_msg_id.clone(), value) {
                failures.push(format!(
                    "{} stored twice: conv {} seq {} and conv {conv} seq {}",
                    m.client_msg_id, first.0, first.1, m.seq
                ));
            }
        }
        report.stored += messages.len();
        stored.insert(conv, messages);
    }

    // 2. Every ack: consistent with the other acks of its client_msg_id, and present in the store as acked.
    let mut acked: BTreeMap<&str, &AckRecord> = BTreeMap::new();
    for ack in acks {
        if ack.duplicate {
            report.duplicate_acks += 1;
        }
        if let Some(first) = acked.insert(&ack.client_msg_id, ack) {
            if (first.conv, first.seq, first.message_id) != (ack.conv, ack.seq, ack.message_id) {
                failures.push(format!("{} acked twice differently: {first:?} / {ack:?}", ack.client_msg_id));
            }
        }
        match by_cmid.get(&ack.client_msg_id) {
            None => failures.push(format!("acked but not stored: {ack:?}")),
            Some((conv, seq, id, sender)) => {
                if (*conv, *seq, *id) != (ack.conv, ack.seq, ack.message_id) || *sender != ack.user {
                    failures.push(format!("stored as conv {conv} seq {seq} id {id} by {sender}, acked as {ack:?}"));
                }
            }
        }
    }
    report.acked = acked.len();
    report.retried = acked.values().filter(|a| a.attempts > 1).count();
    for cmid in by_cmid.keys() {
        if !acked.contains_key(cmid.as_str()) {
            failures.push(format!("{cmid} stored but never acked (its lane retries until acked)"));
        }
    }

    // 3. Per lane and conversation, seqs grow in the order the lane sent (one send at a time).
    let mut last: HashMap<(&str, usize, u64), u64> = HashMap::new();
    for ack in acks {
        let prev = last.insert((ack.user.as_str(), ack.lane, ack.conv), ack.seq).unwrap_or(0);
        if ack.seq <= prev {
            failures.push(format!("{}: seq {} after seq {prev} in conv {}", ack.client_msg_id, ack.seq, ack.conv));
        }
    }

    // 4. Every client's event stream: each message of its conversations once, in seq order, ids as stored.
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    for member in members {
        for &conv in &member.convs {
            let want = stored.get(&conv).map_or(0, |m| m.len() as u64);
            while member.received.last_seq(conv) < want && tokio::time::Instant::now() < deadline {
                if let Some(end) = member.received.finished.lock().unwrap().clone() {
                    failures.push(format!("{}: event stream ended: {end}", member.user));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    for member in members {
        report.sessions += member.received.connected.load(std::sync::atomic::Ordering::Relaxed);
        report.resumes += member.received.resumed.load(std::sync::atomic::Ordering::Relaxed);
        let got = member.received.messages.lock().unwrap().clone();
        let mine: HashSet<u64> = member.convs.iter().copied().collect();
        for conv in got.keys().filter(|c| !mine.contains(c)) {
            failures.push(format!("{} got messages of conv {conv}, not one of theirs", member.user));
        }
        for &conv in &member.convs {
            let want: Vec<(u64, u64)> =
                stored.get(&conv).map(|v| v.iter().map(|m| (m.seq, m.id)).collect()).unwrap_or_default();
            let have = got.get(&conv).cloned().unwrap_or_default();
            report.delivered += have.len();
            if have != want {
                let first_diff = have.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(have.len().min(want.len()));
                failures.push(format!(
                    "{} in conv {conv}: received {} messages, {} stored; first difference at position {first_diff}: \
                     received {:?}, stored {:?}",
                    member.user,
                    have.len(),
                    want.len(),
                    have.get(first_diff),
                    want.get(first_diff)
                ));
            }
        }
    }

    if failures.is_empty() {
        Ok(report)
    } else {
        let n = failures.len();
        failures.truncate(25);
        Err(format!("{n} failures:\n  {}", failures.join("\n  ")))
    }
}
