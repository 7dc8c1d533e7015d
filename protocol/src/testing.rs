//! Test helpers shared by the family modules: every frame that round-trips is also cut at every length
//! and must then be reported as incomplete by the framer and rejected (never panicking) by the decoder.

use crate::{ClientBody, ClientFrame, DecodeError, FRAME_PREFIX_LEN, FrameDecoder, Limits, ServerBody, ServerFrame};

/// Encodes `body` in a client frame, decodes it back, checks equality and every truncation.
pub(crate) fn roundtrip_client(body: ClientBody) {
    let frame = ClientFrame { request_id: 0x0102_0304_0506_0708, body };
    let bytes = frame.encode();
    let back = ClientFrame::decode(&bytes, &Limits::default());
    assert_eq!(back.as_ref(), Ok(&frame), "{} did not round-trip", frame.body.name());
    check_truncations(&bytes, |b| ClientFrame::decode(b, &Limits::default()).map(|f| f == frame));
}

/// Encodes `body` in a server frame, decodes it back, checks equality and every truncation.
pub(crate) fn roundtrip_server(body: ServerBody) {
    let frame = ServerFrame { request_id: 77, body };
    let bytes = frame.encode();
    let back = ServerFrame::decode(&bytes, &Limits::default());
    assert_eq!(back.as_ref(), Ok(&frame), "{} did not round-trip", frame.body.name());
    check_truncations(&bytes, |b| ServerFrame::decode(b, &Limits::default()).map(|f| f == frame));
}

/// For every proper prefix of `bytes`: the framer wants more input; the decoder rejects the prefix as it
/// is; and with its size prefix rewritten to match, the decoder rejects it or, where only trailing
/// alignment padding was cut, decodes the very same frame (`decode` returns whether it is the same).
pub(crate) fn check_truncations(bytes: &[u8], decode: impl Fn(&[u8]) -> Result<bool, DecodeError>) {
    for cut in 0..bytes.len() {
        let mut framer = FrameDecoder::new(Limits::default().max_frame_size);
        framer.extend(&bytes[..cut]);
        assert_eq!(framer.next_frame(), Ok(None), "a {cut}-byte prefix must be incomplete");

        assert!(decode(&bytes[..cut]).is_err(), "a {cut}-byte prefix must not decode");
        if cut >= FRAME_PREFIX_LEN {
            let mut relabelled = bytes[..cut].to_vec();
            let len = (cut - FRAME_PREFIX_LEN) as u32;
            relabelled[..FRAME_PREFIX_LEN].copy_from_slice(&len.to_le_bytes());
            let outcome = decode(&relabelled);
            assert!(
                matches!(outcome, Err(_) | Ok(true)),
                "a {cut}-byte truncation with a matching prefix decoded to a different frame"
            );
        }
    }
}
