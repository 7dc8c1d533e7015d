//! Length-prefixed framing: a frame is a FlatBuffers buffer preceded by its size as a 4-byte
//! little-endian `u32` (what `finish_size_prefixed` writes). [`FrameDecoder`] turns a byte stream into
//! whole frames; it never allocates more than one maximum frame for a frame it will accept.

use bytes::{Buf, Bytes, BytesMut};

use crate::DecodeError;

/// Bytes of the size prefix.
pub const FRAME_PREFIX_LEN: usize = 4;

/// The size a frame's prefix announces (prefix excluded), if the prefix is complete.
pub fn frame_len(buf: &[u8]) -> Option<u32> {
    let prefix: [u8; FRAME_PREFIX_LEN] = buf.get(..FRAME_PREFIX_LEN)?.try_into().ok()?;
    Some(u32::from_le_bytes(prefix))
}

/// Splits a byte stream into size-prefixed frames.
///
/// Feed it with [`extend`](Self::extend) as bytes arrive and call [`next_frame`](Self::next_frame)
/// until it returns `Ok(None)` (more input needed). An oversized prefix is reported as soon as its
/// four bytes are in, before the body is buffered; after an error the stream cannot be resynchronised
/// and the connection should be closed.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_frame_size: u32,
}

impl FrameDecoder {
    pub fn new(max_frame_size: u32) -> Self {
        Self { buf: BytesMut::new(), max_frame_size }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame, size prefix included (ready for `ClientFrame::decode` or
    /// `ServerFrame::decode`), or `Ok(None)` when more input is needed.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let Some(len) = frame_len(&self.buf) else {
            return Ok(None);
        };
        if len > self.max_frame_size {
            return Err(DecodeError::FrameTooLarge { len: u64::from(len), max: self.max_frame_size });
        }
        let total = FRAME_PREFIX_LEN + len as usize;
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(total).freeze()))
    }

    /// Drops everything buffered (after an error, before reuse).
    pub fn clear(&mut self) {
        self.buf.advance(self.buf.len());
    }
}

/// Checks that `frame` is exactly one size-prefixed frame within the limit.
pub(crate) fn check_frame(frame: &[u8], max_frame_size: u32) -> Result<(), DecodeError> {
    let Some(len) = frame_len(frame) else {
        return Err(DecodeError::LengthMismatch { declared: 0, actual: frame.len() as u64 });
    };
    if len > max_frame_size {
        return Err(DecodeError::FrameTooLarge { len: u64::from(len), max: max_frame_size });
    }
    let actual = (frame.len() - FRAME_PREFIX_LEN) as u64;
    if u64::from(len) != actual {
        return Err(DecodeError::LengthMismatch { declared: u64::from(len), actual });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_le_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn byte_by_byte_input_yields_whole_frames() {
        let mut stream = framed(b"abcd");
        stream.extend(framed(b"efghij"));
        let mut d = FrameDecoder::new(1024);
        let mut out = Vec::new();
        for b in &stream {
            d.extend(std::slice::from_ref(b));
            while let Some(f) = d.next_frame().unwrap() {
                out.push(f);
            }
        }
        assert_eq!(out, vec![Bytes::from(framed(b"abcd")), Bytes::from(framed(b"efghij"))]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn oversized_prefix_is_rejected_before_the_body_arrives() {
        let mut d = FrameDecoder::new(16);
        d.extend(&17u32.to_le_bytes());
        assert_eq!(d.next_frame(), Err(DecodeError::FrameTooLarge { len: 17, max: 16 }));
        d.extend(&u32::MAX.to_le_bytes());
        assert!(d.next_frame().is_err());
        d.clear();
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn check_frame_requires_exact_length() {
        assert!(check_frame(&framed(b"abcd"), 16).is_ok());
        assert_eq!(check_frame(b"ab", 16), Err(DecodeError::LengthMismatch { declared: 0, actual: 2 }));
        let mut long = framed(b"abcd");
        long.push(0);
        assert_eq!(check_frame(&long, 16), Err(DecodeError::LengthMismatch { declared: 4, actual: 5 }));
        assert!(matches!(check_frame(&framed(&[0; 32]), 16), Err(DecodeError::FrameTooLarge { .. })));
    }
}
