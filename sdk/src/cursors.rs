//! What the app has been given, per conversation, and where to resume from.
//!
//! The tracker is the SDK's half of "no gap, no duplicate": every `MessageEvent` is checked against the
//! highest `seq` already handed to the app for its conversation (duplicates, e.g. replayed twice across a
//! reconnect, are dropped), and what was handed over becomes the `ResumePoint` of the next `Hello`.

use std::collections::HashMap;

use quip_protocol::{ConversationCursor, ResumePoint};

/// Most per-conversation cursors put in one `Hello` (the most recently active ones). The broker reads
/// `Hello` before it announces its frame limit, so the frame must stay under 16 KiB; conversations left
/// out are still covered by the global cursor, and the dedupe here drops anything replayed twice.
pub(crate) const MAX_RESUME_CURSORS: usize = 256;

/// What to do with an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// The next one (or the first seen in this conversation): hand it over.
    Next,
    /// Already handed over: drop it.
    Duplicate,
    /// Newer than expected: some messages are missing. Handed over anyway (the broker guarantees no
    /// gap, so this is logged as a broker bug rather than stalled on).
    Gap { expected: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Logical time of the last update, to pick the most active conversations for a resume point.
    touched: u64,
}

/// Per-conversation delivered `seq` plus the global cursor.
#[derive(Debug, Default)]
pub(crate) struct CursorTracker {
    convs: HashMap<u64, Entry>,
    global: u64,
    clock: u64,
}

impl CursorTracker {
    /// Starts from what the app says it already holds.
    pub(crate) fn from_resume(point: Option<&ResumePoint>) -> Self {
        let mut t = Self::default();
        if let Some(point) = point {
            for c in &point.cursors {
                t.delivered(c.conversation_id, c.seq);
            }
            t.advance_global(point.global_cursor);
        }
        t
    }

    /// Whether message `seq` of `conv` should be handed to the app.
    pub(crate) fn admit(&self, conv: u64, seq: u64) -> Admit {
        match self.convs.get(&conv) {
            Some(e) if seq <= e.seq => Admit::Duplicate,
            Some(e) if seq > e.seq + 1 => Admit::Gap { expected: e.seq + 1 },
            _ => Admit::Next,
        }
    }

    /// Records that message `seq` of `conv` was handed to the app. Never moves a cursor backwards.
    pub(crate) fn delivered(&mut self, conv: u64, seq: u64) {
        self.clock += 1;
        let entry = self.convs.entry(conv).or_insert(Entry { seq: 0, touched: 0 });
        entry.seq = entry.seq.max(seq);
        entry.touched = self.clock;
    }

    /// A conversation the app learnt about (e.g. it was just created) before any of its messages: resume
    /// it from its start rather than relying on the global cursor.
    pub(crate) fn note_conversation(&mut self, conv: u64) {
        if !self.convs.contains_key(&conv) {
            self.delivered(conv, 0);
        }
    }

    /// Raises the global cursor (never lowers it).
    pub(crate) fn advance_global(&mut self, cursor: u64) {
        self.global = self.global.max(cursor);
    }

    #[cfg(test)]
    pub(crate) fn global(&self) -> u64 {
        self.global
    }

    /// The highest seq handed over for `conv`.
    #[cfg(test)]
    pub(crate) fn seq(&self, conv: u64) -> Option<u64> {
        self.convs.get(&conv).map(|e| e.seq)
    }

    /// Where to resume from: the global cursor and the `max_cursors` most recently active conversations
    /// (ordered by conversation id, so the frame is deterministic).
    pub(crate) fn resume_point(&self, max_cursors: usize) -> ResumePoint {
        let mut entries: Vec<(u64, Entry)> = self.convs.iter().map(|(c, e)| (*c, *e)).collect();
        if entries.len() > max_cursors {
            entries.sort_unstable_by_key(|(_, e)| std::cmp::Reverse(e.touched));
            entries.truncate(max_cursors);
        }
        let mut cursors: Vec<ConversationCursor> = entries
            .into_iter()
            .map(|(conversation_id, e)| ConversationCursor { conversation_id, seq: e.seq })
            .collect();
        cursors.sort_unstable_by_key(|c| c.conversation_id);
        ResumePoint { cursors, global_cursor: self.global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_message_of_an_unknown_conversation_is_admitted() {
        let t = CursorTracker::default();
        assert_eq!(t.admit(7, 1), Admit::Next);
        assert_eq!(t.admit(7, 42), Admit::Next);
    }

    #[test]
    fn duplicates_and_gaps_are_recognised() {
        let mut t = CursorTracker::default();
        for seq in 1..=3 {
            assert_eq!(t.admit(1, seq), Admit::Next);
            t.delivered(1, seq);
        }
        assert_eq!(t.admit(1, 2), Admit::Duplicate);
        assert_eq!(t.admit(1, 3), Admit::Duplicate);
        assert_eq!(t.admit(1, 4), Admit::Next);
        assert_eq!(t.admit(1, 6), Admit::Gap { expected: 4 });
        // Other conversations are independent.
        assert_eq!(t.admit(2, 1), Admit::Next);
    }

    #[test]
    fn a_replay_after_reconnect_yields_no_duplicate_and_no_gap() {
        // The app got 1..=5 live; the connection dropped; the broker replays 3..=8 then goes live with 9.
        let mut t = CursorTracker::default();
        let mut app = Vec::new();
        let mut feed = |t: &mut CursorTracker, seq: u64| {
            if t.admit(9, seq) != Admit::Duplicate {
                t.delivered(9, seq);
                app.push(seq);
            }
        };
        for seq in 1..=5 {
            feed(&mut t, seq);
        }
        assert_eq!(t.resume_point(MAX_RESUME_CURSORS).cursors, vec![ConversationCursor { conversation_id: 9, seq: 5 }]);
        for seq in (3..=8).chain([8, 9]) {
            feed(&mut t, seq);
        }
        assert_eq!(app, (1..=9).collect::<Vec<_>>());
    }

    #[test]
    fn cursors_never_move_back_and_global_only_grows() {
        let mut t = CursorTracker::default();
        t.delivered(1, 10);
        t.delivered(1, 4);
        assert_eq!(t.seq(1), Some(10));
        t.advance_global(100);
        t.advance_global(50);
        assert_eq!(t.global(), 100);
    }

    #[test]
    fn noting_a_conversation_resumes_it_from_the_start_without_lowering_it() {
        let mut t = CursorTracker::default();
        t.note_conversation(3);
        assert_eq!(t.seq(3), Some(0));
        assert_eq!(t.admit(3, 1), Admit::Next);
        t.delivered(3, 5);
        t.note_conversation(3);
        assert_eq!(t.seq(3), Some(5));
    }

    #[test]
    fn resume_point_keeps_the_most_recent_conversations() {
        let mut t = CursorTracker::default();
        for conv in 1..=10 {
            t.delivered(conv, conv * 10);
        }
        t.delivered(2, 21); // conversation 2 is active again
        t.advance_global(777);
        let p = t.resume_point(3);
        let ids: Vec<u64> = p.cursors.iter().map(|c| c.conversation_id).collect();
        assert_eq!(ids, vec![2, 9, 10]);
        assert_eq!(p.cursors[0].seq, 21);
        assert_eq!(p.global_cursor, 777);
        assert_eq!(t.resume_point(100).cursors.len(), 10);
    }

    #[test]
    fn starts_from_a_saved_resume_point() {
        let saved = ResumePoint { cursors: vec![ConversationCursor { conversation_id: 4, seq: 8 }], global_cursor: 99 };
        let t = CursorTracker::from_resume(Some(&saved));
        assert_eq!(t.admit(4, 8), Admit::Duplicate);
        assert_eq!(t.admit(4, 9), Admit::Next);
        assert_eq!(t.resume_point(MAX_RESUME_CURSORS), saved);
        assert_eq!(CursorTracker::from_resume(None).resume_point(10), ResumePoint::default());
    }
}
