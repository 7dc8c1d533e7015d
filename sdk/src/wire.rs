//! Frames over byte streams: reading whole `ServerFrame`s from any `AsyncRead`, writing `ClientFrame`s.

use quip_protocol::{ClientFrame, DecodeError, FrameDecoder, Limits, ServerFrame};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Error;

/// Bytes read from an event stream per call.
const READ_CHUNK: usize = 16 * 1024;
/// Bytes read from a control stream per call. The reader holds its chunk for the session's life, and
/// replies are small (a large one takes several reads): a gateway holds one control stream per socket.
pub(crate) const CONTROL_READ_CHUNK: usize = 2 * 1024;

/// Limits for frames from the broker. `Welcome.max_frame_size` bounds what the broker *accepts*; what it
/// sends (a history page of long messages) may be larger, so the reader accepts up to the protocol's
/// largest frame size.
pub(crate) fn read_limits() -> Limits {
    Limits { max_frame_size: 16 * 1024 * 1024, ..Limits::default() }
}

/// Why reading frames stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("stream: {}", crate::error::with_causes(.0))]
    Io(#[from] std::io::Error),
    /// The stream cannot be resynchronised (oversized or inconsistent size prefix).
    #[error("framing: {0}")]
    Framing(DecodeError),
    #[error("stream ended in the middle of a frame")]
    Truncated,
}

/// Reads size-prefixed `ServerFrame`s.
///
/// [`next`](Self::next) is cancel-safe (it may sit in a `select!`): bytes are taken from the stream only by
/// a read that completes, and a completed read is buffered before the next await.
#[derive(Debug)]
pub(crate) struct FrameReader<R> {
    inner: R,
    decoder: FrameDecoder,
    limits: Limits,
    buf: Box<[u8]>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(inner: R, limits: Limits) -> Self {
        Self::with_chunk(inner, limits, READ_CHUNK)
    }

    /// A reader that reads up to `chunk` bytes per call.
    pub(crate) fn with_chunk(inner: R, limits: Limits, chunk: usize) -> Self {
        Self { inner, decoder: FrameDecoder::new(limits.max_frame_size), limits, buf: vec![0; chunk.max(1)].into() }
    }

    /// The next frame this SDK understands, or `None` when the peer finished the stream between frames.
    /// A frame that fails to decode on its own (e.g. a variant from a newer broker) is skipped.
    pub(crate) async fn next(&mut self) -> Result<Option<ServerFrame>, ReadError> {
        loop {
            while let Some(bytes) = self.decoder.next_frame().map_err(ReadError::Framing)? {
                match ServerFrame::decode(&bytes, &self.limits) {
                    Ok(frame) => return Ok(Some(frame)),
                    Err(DecodeError::UnknownVariant { union, tag }) => {
                        tracing::debug!(union, tag, "skipping a frame of a newer protocol revision");
                    }
                    Err(e) => tracing::warn!(error = %e, "skipping a frame that does not decode"),
                }
            }
            let n = self.inner.read(&mut self.buf).await?;
            if n == 0 {
                return if self.decoder.buffered() == 0 { Ok(None) } else { Err(ReadError::Truncated) };
            }
            self.decoder.extend(&self.buf[..n]);
        }
    }
}

/// Encodes `frame` and writes it, refusing frames over `max_frame_size` (the broker would close the
/// connection on them).
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(
    out: &mut W,
    frame: &ClientFrame,
    max_frame_size: u32,
) -> Result<(), WriteError> {
    let bytes = frame.encode();
    let body = bytes.len().saturating_sub(quip_protocol::FRAME_PREFIX_LEN);
    if body > max_frame_size as usize {
        return Err(WriteError::TooLarge(Error::FrameTooLarge { size: body, max: max_frame_size }));
    }
    out.write_all(&bytes).await.map_err(WriteError::Io)?;
    out.flush().await.map_err(WriteError::Io)
}

/// Why a frame was not written.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The frame is too large; nothing was written and the stream is fine.
    TooLarge(Error),
    /// The stream failed.
    Io(std::io::Error),
}

#[cfg(test)]
mod tests {
    use quip_protocol::family::session::Pong;

    use super::*;

    #[tokio::test]
    async fn frames_split_across_reads_are_reassembled() {
        let (mut tx, rx) = tokio::io::duplex(7);
        let frames: Vec<ServerFrame> =
            (1..=3).map(|i| ServerFrame::new(i, Pong { nonce: i * 10, server_time_ms: 5 })).collect();
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.encode().to_vec()).collect();
        let writer = tokio::spawn(async move {
            tx.write_all(&bytes).await.unwrap();
        });
        let mut reader = FrameReader::new(rx, Limits::default());
        for want in &frames {
            assert_eq!(reader.next().await.unwrap().as_ref(), Some(want));
        }
        writer.await.unwrap();
        assert!(reader.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_stream_cut_mid_frame_is_an_error_and_oversized_prefixes_are_fatal() {
        let frame = ServerFrame::new(1, Pong { nonce: 1, server_time_ms: 2 }).encode();
        let (mut tx, rx) = tokio::io::duplex(1024);
        tx.write_all(&frame[..frame.len() - 1]).await.unwrap();
        drop(tx);
        assert!(matches!(FrameReader::new(rx, Limits::default()).next().await, Err(ReadError::Truncated)));

        let (mut tx, rx) = tokio::io::duplex(1024);
        tx.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
        assert!(matches!(FrameReader::new(rx, Limits::default()).next().await, Err(ReadError::Framing(_))));
    }

    #[tokio::test]
    async fn undecodable_frames_are_skipped() {
        let (mut tx, rx) = tokio::io::duplex(1024);
        let mut garbage = 8u32.to_le_bytes().to_vec();
        garbage.extend_from_slice(&[0xff; 8]);
        tx.write_all(&garbage).await.unwrap();
        let good = ServerFrame::new(2, Pong { nonce: 3, server_time_ms: 4 });
        tx.write_all(&good.encode()).await.unwrap();
        let mut reader = FrameReader::new(rx, Limits::default());
        assert_eq!(reader.next().await.unwrap(), Some(good));
    }

    #[tokio::test]
    async fn oversized_requests_are_not_written() {
        let (mut tx, _rx) = tokio::io::duplex(1 << 20);
        let big = ClientFrame::new(
            1,
            quip_protocol::family::messages::SendMessage {
                conversation_id: 1,
                client_msg_id: "x".into(),
                text: "a".repeat(20_000),
                ..Default::default()
            },
        );
        let err = write_frame(&mut tx, &big, 16 * 1024).await.unwrap_err();
        assert!(matches!(err, WriteError::TooLarge(Error::FrameTooLarge { max: 16384, .. })));
        assert!(write_frame(&mut tx, &big, 1 << 20).await.is_ok());
    }
}
