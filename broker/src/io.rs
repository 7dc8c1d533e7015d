//! Reading whole frames from a QUIC stream and writing encoded frames to one.

use bytes::Bytes;
use quip_protocol::{DecodeError, FrameDecoder};

/// Why reading a frame failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("stream: {0}")]
    Stream(#[from] quinn::ReadError),
    #[error(transparent)]
    Frame(#[from] DecodeError),
    #[error("stream ended in the middle of a frame")]
    Truncated,
}

/// Reads size-prefixed frames from a receive stream.
#[derive(Debug)]
pub struct FrameReader {
    recv: quinn::RecvStream,
    decoder: FrameDecoder,
}

impl FrameReader {
    pub fn new(recv: quinn::RecvStream, max_frame_size: u32) -> Self {
        Self { recv, decoder: FrameDecoder::new(max_frame_size) }
    }

    /// The next whole frame, or `None` when the peer finished the stream cleanly between frames.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ReadError> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(Some(frame));
            }
            match self.recv.read_chunk(64 * 1024, true).await? {
                Some(chunk) => self.decoder.extend(&chunk.bytes),
                None if self.decoder.buffered() == 0 => return Ok(None),
                None => return Err(ReadError::Truncated),
            }
        }
    }
}
