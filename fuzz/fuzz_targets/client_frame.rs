//! ClientFrame::decode on arbitrary bytes (what quipd reads from every client).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quip_protocol::{ClientFrame, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(frame) = ClientFrame::decode(data, &limits) {
        // Whatever decodes must encode and decode to the same value.
        let again = ClientFrame::decode(&frame.encode(), &limits);
        assert_eq!(again.as_ref(), Ok(&frame));
    }
});
