//! Signed media URLs: `/media/<id>?exp=<unix seconds>&sig=<hex HMAC-SHA256 of "<id>:<exp>">`.
//!
//! A media id names its uploader too: 32 random hex digits, then an owner tag (the first 16 bytes of
//! HMAC-SHA256 of `"owner:<random>:<user id>"`, in hex). So the bridge can tell, with no read, whether a
//! message's sender uploaded the media it attaches: only the uploader may attach it ([`owned_by`]), and a
//! URL is signed for a message only when its sender owns the media ([`signed_url`]). An id learnt from an
//! old link is then of no use to anyone else.
//!
//! One signing key per process, set when the bridge starts (`media.signing_secret`, the same on every
//! instance so that any of them serves any URL; empty: a random key, URLs then only work on the instance
//! that signed them).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// The path prefix of stored media.
pub const PREFIX: &str = "/media/";
/// Hex digits of a media id's random part.
pub const RANDOM_HEX: usize = 32;
/// Bytes of the owner tag a media id ends with.
const OWNER_TAG: usize = 16;

#[derive(Debug)]
struct Signer {
    key: hmac::Key,
    ttl: Duration,
}

static SIGNER: OnceLock<Signer> = OnceLock::new();

/// Sets the process's signing key and URL lifetime (the first call wins; later bridges in the same
/// process, as in tests, share it).
pub fn init(secret: &str, ttl: Duration) {
    SIGNER.get_or_init(|| {
        let key = if secret.is_empty() {
            let mut random = [0u8; 32];
            if SystemRandom::new().fill(&mut random).is_err() {
                tracing::error!("no system randomness for the media signing key");
            }
            hmac::Key::new(hmac::HMAC_SHA256, &random)
        } else {
            hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
        };
        Signer { key, ttl }
    });
}

fn signer() -> &'static Signer {
    SIGNER.get_or_init(|| {
        tracing::warn!("media signing used before init: a random key and a one-hour lifetime");
        let mut random = [0u8; 32];
        let _ = SystemRandom::new().fill(&mut random);
        Signer { key: hmac::Key::new(hmac::HMAC_SHA256, &random), ttl: Duration::from_secs(3600) }
    })
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn message(id: &str, exp: u64) -> Vec<u8> {
    format!("{id}:{exp}").into_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Whether `id` is one the media store could have made (64 lower-case hex digits: the random part and
/// the owner tag, [`owned_id`]).
pub fn valid_id(id: &str) -> bool {
    id.len() == 2 * RANDOM_HEX && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn owner_tag(random: &str, owner: &str) -> String {
    let sig = hmac::sign(&signer().key, format!("owner:{random}:{owner}").as_bytes());
    hex(&sig.as_ref()[..OWNER_TAG])
}

/// The id of new media: `random` (hex) and the tag that names `owner` as its uploader.
pub fn owned_id(random: &str, owner: &str) -> String {
    format!("{random}{}", owner_tag(random, owner))
}

/// Whether media `id` was uploaded by `user` (constant time in the tag).
pub fn owned_by(id: &str, user: &str) -> bool {
    if !valid_id(id) {
        return false;
    }
    let (random, tag) = id.split_at(RANDOM_HEX);
    let want = owner_tag(random, user);
    tag.bytes().zip(want.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The stored media id in `url` (`/media/<id>`, with or without a signature), if it names one.
pub fn media_id(url: &str) -> Option<&str> {
    let rest = url.strip_prefix(PREFIX)?;
    Some(rest.split('?').next().unwrap_or(rest)).filter(|id| valid_id(id))
}

/// The URL for media `id`, valid until `now + ttl`; and that expiry (unix seconds).
pub fn url_for(id: &str) -> (String, u64) {
    let s = signer();
    let exp = now_secs() + s.ttl.as_secs();
    let sig = hmac::sign(&s.key, &message(id, exp));
    (format!("{PREFIX}{id}?exp={exp}&sig={}", hex(sig.as_ref())), exp)
}

/// `url` as a message sent by `sender` shows it: a stored media path (`/media/<id>`, with or without an
/// old signature) signed afresh when `sender` uploaded that media, and left unsigned (so it serves
/// nothing) when someone else did; any other URL unchanged.
pub fn signed_url(url: &str, sender: &str) -> String {
    match media_id(url) {
        Some(id) if owned_by(id, sender) => url_for(id).0,
        Some(id) => format!("{PREFIX}{id}"),
        None => url.to_owned(),
    }
}

/// A stored media URL without its signature (`/media/<id>`), which is what a message keeps; any other
/// URL unchanged.
pub fn stable(url: &str) -> String {
    match url.strip_prefix(PREFIX) {
        Some(rest) => format!("{PREFIX}{}", rest.split('?').next().unwrap_or(rest)),
        None => url.to_owned(),
    }
}

/// Why a media URL is refused.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// Missing or wrong signature.
    BadSignature,
    /// The URL's time is up.
    Expired,
}

/// Checks `sig` over `id` and `exp` (constant time) and that `exp` is not past `now`.
pub fn verify(id: &str, exp: u64, sig: &str, now: u64) -> Result<(), Refused> {
    let tag = unhex(sig).ok_or(Refused::BadSignature)?;
    hmac::verify(&signer().key, &message(id, exp), &tag).map_err(|_| Refused::BadSignature)?;
    if exp < now { Err(Refused::Expired) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_until_they_expire_and_not_when_tampered() {
        init("", Duration::from_secs(60));
        let (url, exp) = url_for("abc123");
        let sig = url.rsplit("sig=").next().unwrap_or_default().to_owned();
        assert_eq!(verify("abc123", exp, &sig, now_secs()), Ok(()));
        assert_eq!(verify("abc123", exp, &sig, exp + 1), Err(Refused::Expired));
        assert_eq!(verify("abc124", exp, &sig, now_secs()), Err(Refused::BadSignature));
        assert_eq!(verify("abc123", exp + 1, &sig, now_secs()), Err(Refused::BadSignature));
        assert_eq!(verify("abc123", exp, "zz", now_secs()), Err(Refused::BadSignature));
        assert_eq!(signed_url("https://cdn.example/x.png", "alice"), "https://cdn.example/x.png");
    }

    #[test]
    fn media_is_signed_only_in_its_uploaders_messages() {
        init("", Duration::from_secs(60));
        let id = owned_id("0123456789abcdef0123456789abcdef", "alice");
        assert!(valid_id(&id));
        assert!(owned_by(&id, "alice"));
        assert!(!owned_by(&id, "bob"));
        assert!(!owned_by(&id.replace('0', "1"), "alice"), "a changed id names nobody");
        let old = format!("{PREFIX}{id}?exp=1&sig=00");
        assert!(signed_url(&old, "alice").contains("sig="));
        assert_eq!(signed_url(&old, "bob"), format!("{PREFIX}{id}"), "shown unsigned in someone else's message");
        assert_eq!(media_id("/media/x.jpg"), None, "not a stored media path");
    }
}
