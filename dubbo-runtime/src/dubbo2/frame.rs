//! The Dubbo2 frame: a 16-byte header (magic `0xdabb`, flags, status, request id, body
//! length) and the body (spec §3.1). Reading checks the length against the payload limit
//! before reserving anything; writing goes through one writer task per connection that sends
//! every frame queued meanwhile in one write.

use std::fmt;
use std::io;

use bytes::{Buf as _, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The magic number that starts every frame.
pub const MAGIC: [u8; 2] = [0xda, 0xbb];
/// Header length.
pub const HEADER_LEN: usize = 16;
/// Flag: the frame is a request (else a response).
pub const FLAG_REQUEST: u8 = 0x80;
/// Flag (requests): a reply is expected.
pub const FLAG_TWO_WAY: u8 = 0x40;
/// Flag: an event (heartbeat, read-only).
pub const FLAG_EVENT: u8 = 0x20;
/// Mask of the serialization id in the flags byte.
pub const SERIALIZATION_MASK: u8 = 0x1f;

/// A frame header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Flags byte: request/two-way/event bits and the serialization id.
    pub flags: u8,
    /// Status byte (responses).
    pub status: u8,
    /// Request id (a response carries its request's id).
    pub id: i64,
    /// Body length.
    pub len: u32,
}

impl Header {
    /// Whether the frame is a request.
    pub fn is_request(&self) -> bool {
        self.flags & FLAG_REQUEST != 0
    }

    /// Whether a request expects a reply.
    pub fn is_two_way(&self) -> bool {
        self.flags & FLAG_TWO_WAY != 0
    }

    /// Whether the frame is an event (heartbeat or read-only notice).
    pub fn is_event(&self) -> bool {
        self.flags & FLAG_EVENT != 0
    }

    /// The serialization id.
    pub fn serialization(&self) -> u8 {
        self.flags & SERIALIZATION_MASK
    }

    /// Writes the header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..2].copy_from_slice(&MAGIC);
        out[2] = self.flags;
        out[3] = self.status;
        out[4..12].copy_from_slice(&self.id.to_be_bytes());
        out[12..].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    /// Parses a header. Fails on a wrong magic number or a negative length.
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Result<Header, FrameError> {
        if bytes[..2] != MAGIC {
            return Err(FrameError::BadMagic([bytes[0], bytes[1]]));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[4..12]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[12..]);
        let len = i32::from_be_bytes(len);
        let len = u32::try_from(len).map_err(|_| FrameError::NegativeLength(len))?;
        Ok(Header {
            flags: bytes[2],
            status: bytes[3],
            id: i64::from_be_bytes(id),
            len,
        })
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Header({} id={} flags={:#04x} status={} len={})",
            if self.is_request() {
                "request"
            } else {
                "response"
            },
            self.id,
            self.flags,
            self.status,
            self.len
        )
    }
}

/// Why a connection's byte stream cannot be read as frames any more. Each of these closes
/// the connection: the framing can no longer be trusted.
#[derive(Debug)]
pub enum FrameError {
    /// The bytes where a header should start are not `da bb`.
    BadMagic([u8; 2]),
    /// The length field is negative.
    NegativeLength(i32),
    /// The peer closed the connection in the middle of a frame.
    Truncated {
        /// Bytes of the unfinished frame received.
        received: usize,
    },
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(
                f,
                "bad magic {:02x} {:02x} (not a Dubbo2 frame)",
                m[0], m[1]
            ),
            FrameError::NegativeLength(n) => write!(f, "negative body length {n}"),
            FrameError::Truncated { received } => {
                write!(
                    f,
                    "connection closed inside a frame ({received} bytes of it)"
                )
            }
            FrameError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// What [`FrameReader`] produced.
#[derive(Debug)]
pub enum ReadEvent {
    /// A complete frame.
    Frame(Header, Bytes),
    /// A header announcing a body over the payload limit. Nothing was allocated for it; the
    /// caller fails the call with this id and closes the connection.
    Oversize(Header),
}

/// Splits a byte stream into frames, reading through one growing buffer. Frame bodies are
/// handed out as [`Bytes`] views of that buffer (no copy).
#[derive(Debug)]
pub struct FrameReader {
    buf: BytesMut,
    max_payload: usize,
}

/// Read size when the buffer is empty.
const READ_CHUNK: usize = 64 * 1024;

impl FrameReader {
    /// A reader enforcing `max_payload`.
    pub fn new(max_payload: usize) -> FrameReader {
        FrameReader {
            buf: BytesMut::with_capacity(READ_CHUNK),
            max_payload,
        }
    }

    /// Adds received bytes (for tests and fuzzing; [`FrameReader::read`] fills the buffer
    /// itself).
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame in the buffer, if any.
    pub fn next_frame(&mut self) -> Result<Option<ReadEvent>, FrameError> {
        let Some(head) = self.buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let header = Header::decode(head)?;
        let len = header.len as usize;
        if len > self.max_payload {
            return Ok(Some(ReadEvent::Oversize(header)));
        }
        let total = HEADER_LEN + len;
        if self.buf.len() < total {
            // The header is known good and the length within the limit: make room for the
            // rest of this frame now, so it arrives in as few reads as possible.
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let body = self.buf.split_to(len).freeze();
        Ok(Some(ReadEvent::Frame(header, body)))
    }

    /// Reads until a frame is complete. `Ok(None)` at a clean end of stream. Cancel-safe:
    /// bytes already read stay buffered.
    pub async fn read<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<ReadEvent>, FrameError> {
        loop {
            if let Some(event) = self.next_frame()? {
                return Ok(Some(event));
            }
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(READ_CHUNK);
            }
            match io.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() => return Ok(None),
                Ok(0) => {
                    return Err(FrameError::Truncated {
                        received: self.buf.len(),
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }
}

/// One frame on its way out: the header and the body.
#[derive(Debug)]
pub struct OutFrame {
    /// Encoded header.
    pub header: [u8; HEADER_LEN],
    /// Body bytes.
    pub body: Vec<u8>,
}

impl OutFrame {
    /// A frame with `header` (its length is set from `body`). Fails when the body exceeds
    /// `max_payload`.
    pub fn new(mut header: Header, body: Vec<u8>, max_payload: usize) -> Result<OutFrame, usize> {
        if body.len() > max_payload || u32::try_from(body.len()).is_err() {
            return Err(body.len());
        }
        header.len = body.len() as u32;
        Ok(OutFrame {
            header: header.encode(),
            body,
        })
    }

    /// The whole frame as one byte vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.body);
        out
    }
}

/// Frames at most taken from the queue per write.
const BATCH_FRAMES: usize = 128;
/// Bodies at least this large are written from their own buffer instead of being copied.
const DIRECT_WRITE: usize = 64 * 1024;
/// Coalescing buffer size.
const COALESCE: usize = 256 * 1024;

/// Writes frames from `frames` to `io` until every sender is gone (then flushes and shuts the
/// write side down) or a write fails. Every frame queued while a write is in progress goes out
/// with the next single write.
pub fn spawn_writer<W>(mut io: W, mut frames: mpsc::Receiver<OutFrame>) -> JoinHandle<()>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH_FRAMES);
        let mut out: Vec<u8> = Vec::with_capacity(COALESCE);
        loop {
            if frames.recv_many(&mut batch, BATCH_FRAMES).await == 0 {
                break;
            }
            if batch.len() < BATCH_FRAMES {
                // Let the tasks that are about to queue frames (replies to requests read in the
                // same batch) run first, so one write carries them all.
                tokio::task::yield_now().await;
                while batch.len() < BATCH_FRAMES {
                    match frames.try_recv() {
                        Ok(frame) => batch.push(frame),
                        Err(_) => break,
                    }
                }
            }
            for frame in batch.drain(..) {
                out.extend_from_slice(&frame.header);
                if frame.body.len() >= DIRECT_WRITE {
                    if let Err(e) = flush(&mut io, &mut out).await {
                        tracing::debug!(error = %e, "Dubbo2 write failed");
                        return;
                    }
                    if let Err(e) = io.write_all(&frame.body).await {
                        tracing::debug!(error = %e, "Dubbo2 write failed");
                        return;
                    }
                } else {
                    out.extend_from_slice(&frame.body);
                    if out.len() >= COALESCE {
                        if let Err(e) = flush(&mut io, &mut out).await {
                            tracing::debug!(error = %e, "Dubbo2 write failed");
                            return;
                        }
                    }
                }
            }
            if let Err(e) = flush(&mut io, &mut out).await {
                tracing::debug!(error = %e, "Dubbo2 write failed");
                return;
            }
        }
        let _ = io.flush().await;
        let _ = io.shutdown().await;
    })
}

async fn flush<W: AsyncWrite + Unpin>(io: &mut W, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        io.write_all(out).await?;
        out.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn heartbeat_headers_are_byte_exact() {
        // Spec §3.13: heartbeat request and response, id 2.
        let req = Header {
            flags: FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | 2,
            status: 0,
            id: 2,
            len: 0,
        };
        let frame = OutFrame::new(req, vec![0x4e], 8).unwrap().to_vec();
        assert_eq!(
            frame,
            hex("da bb e2 00 00 00 00 00 00 00 00 02 00 00 00 01 4e")
        );
        let resp = Header {
            flags: FLAG_EVENT | 2,
            status: 20,
            id: 2,
            len: 0,
        };
        assert_eq!(
            OutFrame::new(resp, vec![0x4e], 8).unwrap().to_vec(),
            hex("da bb 22 14 00 00 00 00 00 00 00 02 00 00 00 01 4e")
        );
        assert_eq!(OutFrame::new(resp, vec![0; 9], 8).unwrap_err(), 9);
    }

    #[test]
    fn reader_splits_frames_across_arbitrary_chunks() {
        let mut stream = Vec::new();
        for id in 0..5i64 {
            let h = Header {
                flags: FLAG_REQUEST | 2,
                status: 0,
                id: id - 2,
                len: 0,
            };
            stream.extend(
                OutFrame::new(h, vec![id as u8; id as usize], 64)
                    .unwrap()
                    .to_vec(),
            );
        }
        for chunk in [1, 3, 7, 16, 17, 1000] {
            let mut reader = FrameReader::new(64);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                reader.push(piece);
                while let Some(ReadEvent::Frame(h, body)) = reader.next_frame().unwrap() {
                    assert!(h.is_request() && !h.is_two_way() && !h.is_event());
                    assert_eq!(h.serialization(), 2);
                    got.push((h.id, body.to_vec()));
                }
            }
            assert_eq!(reader.buffered(), 0);
            let want: Vec<_> = (0..5i64)
                .map(|id| (id - 2, vec![id as u8; id as usize]))
                .collect();
            assert_eq!(got, want, "chunk {chunk}");
        }
    }

    #[test]
    fn bad_headers_are_errors_and_oversize_is_reported_before_allocation() {
        let mut reader = FrameReader::new(16);
        reader.push(&hex("da bc 02 14 00 00 00 00 00 00 00 01 00 00 00 00"));
        assert!(matches!(
            reader.next_frame(),
            Err(FrameError::BadMagic([0xda, 0xbc]))
        ));
        let mut reader = FrameReader::new(16);
        reader.push(&hex("da bb 02 14 00 00 00 00 00 00 00 01 ff ff ff ff"));
        assert!(matches!(
            reader.next_frame(),
            Err(FrameError::NegativeLength(-1))
        ));
        let mut reader = FrameReader::new(16);
        reader.push(&hex("da bb c2 00 00 00 00 00 00 00 00 07 7f ff ff ff"));
        let cap = reader.buf.capacity();
        match reader.next_frame().unwrap() {
            Some(ReadEvent::Oversize(h)) => assert_eq!((h.id, h.len), (7, 0x7fff_ffff)),
            other => panic!("{other:?}"),
        }
        assert_eq!(reader.buf.capacity(), cap, "nothing reserved");
    }

    #[tokio::test]
    async fn truncated_stream_is_an_error_and_clean_eof_is_none() {
        let mut reader = FrameReader::new(16);
        let mut input: &[u8] = &[0xda, 0xbb, 0x02];
        assert!(matches!(
            reader.read(&mut input).await,
            Err(FrameError::Truncated { received: 3 })
        ));
        let mut reader = FrameReader::new(16);
        let mut empty: &[u8] = &[];
        assert!(reader.read(&mut empty).await.unwrap().is_none());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let mut reader = FrameReader::new(1 << 12);
            let n = (next() % 64) as usize;
            let mut bytes: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            if next() % 2 == 0 && bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&MAGIC);
            }
            reader.push(&bytes);
            while let Ok(Some(ReadEvent::Frame(..))) = reader.next_frame() {}
        }
    }
}
