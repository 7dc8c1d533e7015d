//! ServerFrame::decode on arbitrary bytes (what the SDK reads from a server).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quip_protocol::{Limits, ServerFrame};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(frame) = ServerFrame::decode(data, &limits) {
        let again = ServerFrame::decode(&frame.encode(), &limits);
        assert_eq!(again.as_ref(), Ok(&frame));
    }
});
