//! gRPC message framing: 1 flag byte (bit 0 = compressed, others reserved), a 4-byte
//! big-endian length, then the message. Messages may span DATA frames and a DATA frame may
//! carry several messages.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::compression::Encoding;
use crate::message::Payload;
use crate::status::Status;

/// Length of the frame prefix.
pub const HEADER_LEN: usize = 5;

/// Encodes `payload` as one frame, compressing it when `encoding` is set (unless the payload
/// asks not to be compressed).
pub fn encode(
    payload: &Payload,
    encoding: Option<Encoding>,
    max_size: usize,
) -> Result<Bytes, Status> {
    // Exactly the frame's size: a buffer with room to spare would cost `freeze` a second
    // allocation (the shared header of a `Bytes` whose length is not its capacity).
    let body_len = payload.protobuf_len();
    let mut buf = BytesMut::with_capacity(HEADER_LEN + body_len);
    encode_sized(&mut buf, payload, body_len, encoding, max_size)?;
    Ok(buf.freeze())
}

/// Appends `payload` as one frame to `buf` (so several messages can go out in one DATA
/// frame). On error `buf` is left as it was.
pub fn encode_into(
    buf: &mut BytesMut,
    payload: &Payload,
    encoding: Option<Encoding>,
    max_size: usize,
) -> Result<(), Status> {
    encode_sized(buf, payload, payload.protobuf_len(), encoding, max_size)
}

/// [`encode_into`] given the payload's protobuf length.
fn encode_sized(
    buf: &mut BytesMut,
    payload: &Payload,
    body_len: usize,
    encoding: Option<Encoding>,
    max_size: usize,
) -> Result<(), Status> {
    let start = buf.len();
    buf.reserve(HEADER_LEN + body_len);
    buf.put_bytes(0, HEADER_LEN);
    if let Err(status) = payload.encode_protobuf(buf) {
        buf.truncate(start);
        return Err(status);
    }
    let len = buf.len() - start - HEADER_LEN;
    if len > max_size {
        buf.truncate(start);
        return Err(Status::resource_exhausted(format!(
            "message of {len} bytes is larger than the send limit of {max_size} bytes"
        )));
    }
    let header = start..start + HEADER_LEN;
    match encoding.filter(|_| payload.compression() != Some(false)) {
        None => write_header(&mut buf[header], false, len).inspect_err(|_| buf.truncate(start)),
        Some(encoding) => {
            let raw = buf.split_off(start + HEADER_LEN);
            if let Err(status) = encoding.compress(&raw, buf) {
                buf.truncate(start);
                return Err(status);
            }
            let compressed = buf.len() - start - HEADER_LEN;
            write_header(&mut buf[header], true, compressed).inspect_err(|_| buf.truncate(start))
        }
    }
}

fn write_header(dst: &mut [u8], compressed: bool, len: usize) -> Result<(), Status> {
    let len =
        u32::try_from(len).map_err(|_| Status::resource_exhausted("message larger than 4 GiB"))?;
    dst[0] = u8::from(compressed);
    dst[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Incremental frame decoder. Feed it DATA chunks with [`Decoder::push`], take messages with
/// [`Decoder::next_message`]. A message inside one chunk is returned without copying; one that
/// spans chunks is copied once into a buffer of exactly its size (no growing and re-copying,
/// and nothing is allocated ahead of the bytes that arrived).
#[derive(Debug)]
pub struct Decoder {
    /// The oldest received bytes not consumed yet (empty when nothing is buffered). Most
    /// messages arrive in one DATA frame, so most calls never touch `rest`.
    front: Bytes,
    /// Bytes received after `front`, in order (never holds an empty chunk).
    rest: VecDeque<Bytes>,
    /// Total length of `front` and `rest`.
    buffered: usize,
    /// The header of the message being collected.
    header: Option<(bool, usize)>,
    max_size: usize,
    encoding: Option<Encoding>,
}

impl Decoder {
    /// A decoder accepting messages up to `max_size` bytes (after decompression), for a
    /// stream whose `grpc-encoding` is `encoding`.
    pub fn new(max_size: usize, encoding: Option<Encoding>) -> Decoder {
        Decoder {
            front: Bytes::new(),
            rest: VecDeque::new(),
            buffered: 0,
            header: None,
            max_size,
            encoding,
        }
    }

    /// Adds received bytes.
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.buffered += chunk.len();
        if self.front.is_empty() {
            self.front = chunk;
        } else {
            self.rest.push_back(chunk);
        }
    }

    /// Whether a partial message is buffered (an error if the stream ends now).
    pub fn has_partial(&self) -> bool {
        self.header.is_some() || self.buffered > 0
    }

    /// Moves to the next chunk once the front one is used up.
    fn refill(&mut self) {
        if self.front.is_empty() {
            self.front = self.rest.pop_front().unwrap_or_default();
        }
    }

    /// Hands the next `n` buffered bytes (`n <= buffered`) to `out`, a chunk's worth at a time.
    fn drain(&mut self, mut n: usize, mut out: impl FnMut(&[u8])) {
        while n > 0 && !self.front.is_empty() {
            let want = n.min(self.front.len());
            out(&self.front[..want]);
            self.front.advance(want);
            self.buffered -= want;
            n -= want;
            self.refill();
        }
    }

    /// Takes the next `n` buffered bytes (`n <= buffered`): a slice of the front chunk when
    /// they are all in it, else one copy.
    fn take(&mut self, n: usize) -> Bytes {
        if self.front.len() >= n {
            self.buffered -= n;
            let out = if self.front.len() == n {
                std::mem::take(&mut self.front)
            } else {
                self.front.split_to(n)
            };
            self.refill();
            return out;
        }
        let mut out = BytesMut::with_capacity(n);
        self.drain(n, |bytes| out.extend_from_slice(bytes));
        out.freeze()
    }

    /// Reads the 5-byte frame header (`buffered >= HEADER_LEN`): the flags and the length.
    fn take_header(&mut self) -> (u8, usize) {
        let mut header = [0; HEADER_LEN];
        let mut at = 0;
        self.drain(HEADER_LEN, |bytes| {
            header[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        });
        let [flags, len @ ..] = header;
        (flags, u32::from_be_bytes(len) as usize)
    }

    /// The next complete message, or `None` if more data is needed.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, Status> {
        Ok(self
            .next_payload()?
            .map(|p| p.as_protobuf().cloned().unwrap_or_default()))
    }

    /// The next complete message as a payload that records whether its frame was
    /// compressed, or `None` if more data is needed.
    pub fn next_payload(&mut self) -> Result<Option<Payload>, Status> {
        let Some((message, compressed)) = self.next_frame()? else {
            return Ok(None);
        };
        Ok(Some(
            Payload::protobuf(message).with_compression(Some(compressed)),
        ))
    }

    fn next_frame(&mut self) -> Result<Option<(Bytes, bool)>, Status> {
        let (compressed, len) = match self.header {
            Some(h) => h,
            None => {
                if self.buffered < HEADER_LEN {
                    return Ok(None);
                }
                let (flags, len) = self.take_header();
                if flags & 0xfe != 0 {
                    return Err(Status::internal(format!(
                        "invalid message frame: reserved flag bits set ({flags:#04x})"
                    )));
                }
                let compressed = flags & 1 == 1;
                if compressed && self.encoding.is_none() {
                    return Err(Status::internal(
                        "compressed flag set with identity or empty grpc-encoding",
                    ));
                }
                if len > self.max_size {
                    return Err(Status::resource_exhausted(format!(
                        "message of {len} bytes is larger than the limit of {} bytes",
                        self.max_size
                    )));
                }
                self.header = Some((compressed, len));
                (compressed, len)
            }
        };
        if self.buffered < len {
            return Ok(None);
        }
        self.header = None;
        let message = self.take(len);
        match (compressed, self.encoding) {
            (true, Some(encoding)) => encoding
                .decompress(&message, self.max_size)
                .map(|m| Some((m, true))),
            _ => Ok(Some((message, false))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    fn frame(flags: u8, body: &[u8]) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(flags);
        b.put_u32(body.len() as u32);
        b.put_slice(body);
        b.freeze()
    }

    #[test]
    fn decodes_messages_split_and_batched_across_chunks() {
        let mut all = BytesMut::new();
        all.extend_from_slice(&frame(0, b"hello"));
        all.extend_from_slice(&frame(0, b""));
        all.extend_from_slice(&frame(0, b"world!"));
        let all = all.freeze();
        for split in 0..all.len() {
            let mut d = Decoder::new(100, None);
            d.push(all.slice(..split));
            let mut got = Vec::new();
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
            d.push(all.slice(split..));
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
            assert_eq!(got, vec![&b"hello"[..], b"", b"world!"], "split at {split}");
            assert!(!d.has_partial());
        }
    }

    #[test]
    fn rejects_reserved_bits_oversize_and_bare_compression() {
        let mut d = Decoder::new(100, None);
        d.push(frame(0x02, b"x"));
        assert_eq!(d.next_message().unwrap_err().code(), Code::Internal);

        let mut d = Decoder::new(4, None);
        let mut hostile = BytesMut::new();
        hostile.put_u8(0);
        hostile.put_u32(u32::MAX);
        d.push(hostile.freeze());
        assert_eq!(
            d.next_message().unwrap_err().code(),
            Code::ResourceExhausted
        );

        let mut d = Decoder::new(100, None);
        d.push(frame(0x01, b"x"));
        assert_eq!(d.next_message().unwrap_err().code(), Code::Internal);
    }

    #[test]
    fn partial_messages_are_reported() {
        let mut d = Decoder::new(100, None);
        d.push(Bytes::from_static(&[0, 0, 0, 0, 3, b'a']));
        assert!(d.next_message().unwrap().is_none());
        assert!(d.has_partial());
    }

    #[test]
    fn encode_and_decode_with_gzip() {
        let payload = Payload::protobuf(Bytes::from(vec![7u8; 5000]));
        let framed = encode(&payload, Some(Encoding::Gzip), usize::MAX).unwrap();
        assert_eq!(framed[0], 1);
        assert!(framed.len() < 200);
        let mut d = Decoder::new(5000, Some(Encoding::Gzip));
        d.push(framed.clone());
        assert_eq!(d.next_message().unwrap().unwrap().len(), 5000);
        let uncompressed = encode(
            &Payload::protobuf(Bytes::from(vec![7u8; 10])).with_compression(Some(false)),
            Some(Encoding::Gzip),
            usize::MAX,
        )
        .unwrap();
        assert_eq!(uncompressed[0], 0, "a payload can opt out of compression");
        d.push(uncompressed);
        let payload = d.next_payload().unwrap().unwrap();
        assert_eq!(payload.compression(), Some(false));
        let mut small = Decoder::new(4999, Some(Encoding::Gzip));
        small.push(framed);
        assert_eq!(
            small.next_message().unwrap_err().code(),
            Code::ResourceExhausted
        );
    }

    #[test]
    fn encode_into_batches_frames_and_leaves_the_buffer_alone_on_error() {
        let mut buf = BytesMut::new();
        encode_into(
            &mut buf,
            &Payload::protobuf(Bytes::from_static(b"ab")),
            None,
            10,
        )
        .unwrap();
        encode_into(
            &mut buf,
            &Payload::protobuf(Bytes::from_static(b"cde")),
            Some(Encoding::Gzip),
            10,
        )
        .unwrap();
        let before = buf.clone();
        let too_big = Payload::protobuf(Bytes::from(vec![0; 11]));
        assert!(encode_into(&mut buf, &too_big, None, 10).is_err());
        assert_eq!(buf, before);
        let mut d = Decoder::new(100, Some(Encoding::Gzip));
        d.push(buf.freeze());
        assert_eq!(d.next_message().unwrap().unwrap(), &b"ab"[..]);
        let second = d.next_payload().unwrap().unwrap();
        assert_eq!(second.compression(), Some(true));
        assert_eq!(second.as_protobuf().unwrap(), &b"cde"[..]);
        assert!(!d.has_partial());
    }

    #[test]
    fn chunks_buffered_before_decoding_are_read_in_order() {
        let frames = [frame(0, b"hello"), frame(0, b""), frame(0, b"world!")];
        let all: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();
        let one_byte_each: Vec<Bytes> = all.iter().map(|b| Bytes::copy_from_slice(&[*b])).collect();
        // Whole frames, one per chunk; then every byte its own chunk (headers span five).
        for chunks in [frames.to_vec(), one_byte_each] {
            let mut d = Decoder::new(100, None);
            for chunk in &chunks {
                d.push(chunk.clone());
            }
            let mut got = Vec::new();
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
            assert_eq!(
                got,
                vec![&b"hello"[..], b"", b"world!"],
                "{} chunks",
                chunks.len()
            );
            assert!(!d.has_partial());
        }
    }

    #[test]
    fn a_message_spanning_many_chunks_is_reassembled_exactly() {
        let body: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        let framed = frame(0, &body);
        let mut d = Decoder::new(100_000, None);
        for piece in framed.chunks(16_384) {
            assert!(d.next_message().unwrap().is_none());
            d.push(Bytes::copy_from_slice(piece));
        }
        let message = d.next_message().unwrap().unwrap();
        assert_eq!(message, body);
        assert!(!d.has_partial());
    }

    #[test]
    fn encode_enforces_send_limit() {
        let payload = Payload::protobuf(Bytes::from(vec![0u8; 11]));
        assert_eq!(
            encode(&payload, None, 10).unwrap_err().code(),
            Code::ResourceExhausted
        );
        let ok = encode(&payload, None, 11).unwrap();
        assert_eq!(&ok[..5], &[0, 0, 0, 0, 11]);
    }
}
