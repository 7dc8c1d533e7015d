//! FrameDecoder fed arbitrary bytes in arbitrary chunks: frames out must be whole and within limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quip_protocol::{ClientFrame, FRAME_PREFIX_LEN, FrameDecoder, Limits, frame_len};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else { return };
    let limits = Limits { max_frame_size: 16 * 1024, ..Limits::default() };
    let mut decoder = FrameDecoder::new(limits.max_frame_size);
    for piece in rest.chunks(usize::from(chunk.max(1))) {
        decoder.extend(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    let len = frame_len(&frame).unwrap_or(0) as usize;
                    assert_eq!(frame.len(), FRAME_PREFIX_LEN + len);
                    assert!(len <= limits.max_frame_size as usize);
                    let _ = ClientFrame::decode(&frame, &limits);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
