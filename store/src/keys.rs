//! Key layouts. Integers are big-endian so RocksDB's byte order is numeric order; user ids are
//! length-prefixed so one user's keys never run into another's.

use crate::model::{ConvId, ReceiptKind, Seq};

pub const META: &str = "meta";
pub const CONVS: &str = "convs";
pub const HEADS: &str = "heads";
pub const MEMBERS: &str = "members";
pub const USER_CONVS: &str = "user_convs";
pub const MSGS: &str = "msgs";
pub const MSG_IDX: &str = "msg_idx";
pub const IDEM: &str = "idem";
pub const DIRECT: &str = "direct";
pub const USERS: &str = "users";
/// Receipt watermarks: conversation, user (merged over devices) → delivered/read state.
pub const RECEIPTS: &str = "receipts";
/// Receipt watermarks per device: conversation, user, device → delivered/read state.
pub const DEVICE_RECEIPTS: &str = "device_receipts";
/// Messages deleted for everyone: conversation, seq → () (for unread counts).
pub const DELETED: &str = "deleted";
/// Messages a user deleted for themselves: user, conversation, seq → ().
pub const HIDDEN: &str = "hidden";
/// Messages their sender sent without marking the conversation read (`leave_read_state`), past the
/// sender's read watermark: user, conversation, seq → (). They are not unread for their sender; a row
/// goes once the sender marks the conversation read past it, or when the message is deleted for everyone
/// or hidden by them (a row left below the watermark is never counted).
pub const SENT: &str = "sent";
/// Reactions per message: conversation, seq → every emoji with who reacted.
pub const REACTIONS: &str = "reactions";
/// Presence kept across restarts: user → explicit status and last seen.
pub const PRESENCE: &str = "presence";
/// Notification feeds: user, notification id → the notification (written by `notify.rs`).
pub const NOTIFICATIONS: &str = "notifications";
/// Notification counters: user → unread count, and the next notification id.
pub const NOTIF_UNREAD: &str = "notif_unread";
/// A user's own view of a conversation: user, conversation → archived, muted, hidden (`UserSettings`).
pub const SETTINGS: &str = "settings";
/// Blocks: blocker, blocked → when (ms, big-endian).
pub const BLOCKS: &str = "blocks";
/// Token revocations: user → tokens issued before this time (ms, big-endian) are refused.
pub const REVOKED: &str = "revoked";

pub const ALL: &[&str] = &[
    META,
    CONVS,
    HEADS,
    MEMBERS,
    USER_CONVS,
    MSGS,
    MSG_IDX,
    IDEM,
    DIRECT,
    USERS,
    RECEIPTS,
    DEVICE_RECEIPTS,
    DELETED,
    PRESENCE,
    NOTIFICATIONS,
    NOTIF_UNREAD,
    HIDDEN,
    REACTIONS,
    SETTINGS,
    BLOCKS,
    REVOKED,
    SENT,
];

/// `meta` keys.
pub const NEXT_CONV_ID: &[u8] = b"next_conv_id";
pub const NEXT_MSG_ID: &[u8] = b"next_msg_id";
pub const NEXT_LSN: &[u8] = b"next_lsn";

pub fn u64_key(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

pub fn read_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// `msgs`: conversation, then sequence.
pub fn msg_key(conv: ConvId, seq: Seq) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&conv.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub fn split_msg_key(k: &[u8]) -> Option<(ConvId, Seq)> {
    Some((read_u64(k.get(..8)?)?, read_u64(k.get(8..16)?)?))
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Ids are at most 128 bytes (the protocol's limit) but never trust that here.
    let bytes = &s.as_bytes()[..s.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

/// `members`: conversation, then user.
pub fn member_key(conv: ConvId, user: &str) -> Vec<u8> {
    let mut k = conv.to_be_bytes().to_vec();
    push_str(&mut k, user);
    k
}

/// `user_convs`: user, then conversation.
pub fn user_conv_prefix(user: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(user.len() + 9);
    push_str(&mut k, user);
    k
}

pub fn user_conv_key(user: &str, conv: ConvId) -> Vec<u8> {
    let mut k = user_conv_prefix(user);
    k.extend_from_slice(&conv.to_be_bytes());
    k
}

/// `idem`: conversation, sender, client message id.
pub fn idem_key(conv: ConvId, sender: &str, client_msg_id: &str) -> Vec<u8> {
    let mut k = conv.to_be_bytes().to_vec();
    push_str(&mut k, sender);
    push_str(&mut k, client_msg_id);
    k
}

/// `direct`: the two users in order, then the context (kind, id), so the same pair and context always
/// map to the same conversation.
pub fn direct_key(a: &str, b: &str, context: Option<(&str, &str)>) -> Vec<u8> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut k = Vec::new();
    push_str(&mut k, lo);
    push_str(&mut k, hi);
    if let Some((kind, id)) = context {
        push_str(&mut k, kind);
        push_str(&mut k, id);
    }
    k
}

/// `receipts` holds two kinds of rows per conversation, told apart by the byte after the conversation
/// id so that a conversation's watermarks can be scanned without its steps.
const RECEIPT_WATERMARK: u8 = 0;
const RECEIPT_STEP: u8 = 1;

/// `receipts`: every member's merged watermarks of one conversation start with this.
pub fn receipt_prefix(conv: ConvId) -> [u8; 9] {
    let mut k = [RECEIPT_WATERMARK; 9];
    k[..8].copy_from_slice(&conv.to_be_bytes());
    k
}

/// `receipts`: conversation, user → the user's merged watermarks.
pub fn receipt_key(conv: ConvId, user: &str) -> Vec<u8> {
    let mut k = receipt_prefix(conv).to_vec();
    push_str(&mut k, user);
    k
}

/// The user of a `receipt_key`.
pub fn split_receipt_key(k: &[u8]) -> Option<String> {
    let len = usize::from(*k.get(9)?);
    k.get(10..10 + len).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `receipts`: the steps of one user's `kind` watermark in a conversation start with this.
pub fn step_prefix(conv: ConvId, user: &str, kind: ReceiptKind) -> Vec<u8> {
    let mut k = conv.to_be_bytes().to_vec();
    k.push(RECEIPT_STEP);
    push_str(&mut k, user);
    k.push(kind.tag());
    k
}

/// `receipts`: conversation, user, kind, seq → when that watermark reached `seq` (ms, big-endian).
pub fn step_key(conv: ConvId, user: &str, kind: ReceiptKind, seq: Seq) -> Vec<u8> {
    let mut k = step_prefix(conv, user, kind);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `device_receipts`: conversation, user, device → that device's watermarks.
pub fn device_receipt_key(conv: ConvId, user: &str, device: &str) -> Vec<u8> {
    let mut k = member_key(conv, user);
    push_str(&mut k, device);
    k
}

/// `deleted`: conversation, then sequence (the layout of `msgs`).
pub fn deleted_key(conv: ConvId, seq: Seq) -> [u8; 16] {
    msg_key(conv, seq)
}

/// `hidden`: user, conversation, seq.
pub fn hidden_key(user: &str, conv: ConvId, seq: Seq) -> Vec<u8> {
    let mut k = user_conv_key(user, conv);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `sent`: user, conversation, seq (the layout of `hidden`).
pub fn sent_key(user: &str, conv: ConvId, seq: Seq) -> Vec<u8> {
    hidden_key(user, conv, seq)
}

/// `blocks`: every user `blocker` blocked starts with this.
pub fn block_prefix(blocker: &str) -> Vec<u8> {
    user_conv_prefix(blocker)
}

/// `blocks`: blocker, then blocked.
pub fn block_key(blocker: &str, blocked: &str) -> Vec<u8> {
    let mut k = block_prefix(blocker);
    push_str(&mut k, blocked);
    k
}

/// The blocked user of a `block_key`.
pub fn split_block_key(k: &[u8]) -> Option<String> {
    let first = usize::from(*k.first()?);
    let len = usize::from(*k.get(1 + first)?);
    let start = 2 + first;
    k.get(start..start + len).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `reactions`: conversation, then sequence (the layout of `msgs`).
pub fn reactions_key(conv: ConvId, seq: Seq) -> [u8; 16] {
    msg_key(conv, seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_key_ignores_order_but_not_context() {
        assert_eq!(direct_key("a", "b", None), direct_key("b", "a", None));
        assert_ne!(direct_key("a", "b", None), direct_key("a", "b", Some(("order", "1"))));
        assert_ne!(direct_key("a", "b", Some(("order", "1"))), direct_key("a", "b", Some(("order", "2"))));
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        assert_ne!(direct_key("ab", "c", None), direct_key("a", "bc", None));
    }

    #[test]
    fn msg_keys_sort_by_conversation_then_seq() {
        assert!(msg_key(1, 2) < msg_key(1, 10));
        assert!(msg_key(1, u64::MAX) < msg_key(2, 0));
        assert_eq!(split_msg_key(&msg_key(7, 9)), Some((7, 9)));
    }

    #[test]
    fn receipt_keys_keep_watermarks_apart_from_steps() {
        let prefix = receipt_prefix(4);
        assert!(receipt_key(4, "bob").starts_with(&prefix));
        assert!(!step_key(4, "bob", ReceiptKind::Read, 1).starts_with(&prefix));
        assert!(receipt_key(4, "zed") < step_key(4, "a", ReceiptKind::Delivered, 0));
        assert_eq!(split_receipt_key(&receipt_key(4, "bob")).as_deref(), Some("bob"));
        let read = step_prefix(4, "bob", ReceiptKind::Read);
        assert!(step_key(4, "bob", ReceiptKind::Read, 2) < step_key(4, "bob", ReceiptKind::Read, 10));
        assert!(step_key(4, "bob", ReceiptKind::Read, u64::MAX).starts_with(&read));
        assert!(!step_key(4, "bob", ReceiptKind::Delivered, 2).starts_with(&read));
        assert_ne!(device_receipt_key(4, "ab", "c"), device_receipt_key(4, "a", "bc"));
    }

    #[test]
    fn block_keys_list_by_blocker() {
        let k = block_key("alice", "bob");
        assert!(k.starts_with(&block_prefix("alice")));
        assert!(!block_key("alicex", "bob").starts_with(&block_prefix("alice")));
        assert_eq!(split_block_key(&k).as_deref(), Some("bob"));
        assert_ne!(block_key("ab", "c"), block_key("a", "bc"));
    }
}
