//! Key layouts. Integers are big-endian so RocksDB's byte order is numeric order; user ids are
//! length-prefixed so one user's keys never run into another's.

use crate::model::{ConvId, Seq};

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
/// Presence kept across restarts: user → explicit status and last seen.
pub const PRESENCE: &str = "presence";

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
}
