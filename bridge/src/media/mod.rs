//! Media: uploads checked on their bytes (magic numbers, never the name or the type a client claims),
//! kept on local disk ([`store`]), served back through signed URLs that expire ([`sign`], [`http`]).
//!
//! A message keeps the stable path `/media/<id>`; every time the bridge renders an attachment with such a
//! path it signs it afresh ([`signed_url`]), so whoever reads the message gets a URL that works now and
//! stops working after `media.url_ttl_secs`.

pub mod http;
pub mod sign;
pub mod store;

pub use sign::signed_url;
pub use store::MediaStore;

/// The attachment kind (`attachments[].kind`) of a MIME type.
pub fn kind_of(mime: &str) -> &'static str {
    match mime.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ if mime == "application/pdf" => "pdf",
        _ => "file",
    }
}

/// Every MIME type the bridge can recognise from the bytes (what `media.allowed_types` may name).
pub const KNOWN_TYPES: &[&str] =
    &["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "video/mp4", "audio/mpeg", "audio/ogg"];

/// The MIME type of `bytes` from their magic number, if it is one the bridge knows.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.get(4..8) == Some(b"ftyp") {
        Some("video/mp4")
    } else if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        for t in KNOWN_TYPES {
            assert!(t.contains('/'));
        }
    }
}
