//! gRPC message framing: 1 flag byte (bit 0 = compressed, others reserved), a 4-byte
//! big-endian length, then the message. Messages may span DATA frames and a DATA frame may
//! carry several messages.

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
    let mut buf = BytesMut::with_capacity(HEADER_LEN + payload.protobuf_len());
    buf.put_bytes(0, HEADER_LEN);
    payload.encode_protobuf(&mut buf)?;
    let encoding = encoding.filter(|_| payload.compression() != Some(false));
    finish(buf, encoding, max_size)
}

/// Completes a frame whose message was written after `HEADER_LEN` placeholder bytes.
pub fn finish(
    mut buf: BytesMut,
    encoding: Option<Encoding>,
    max_size: usize,
) -> Result<Bytes, Status> {
    let len = buf.len() - HEADER_LEN;
    if len > max_size {
        return Err(Status::resource_exhausted(format!(
            "message of {len} bytes is larger than the send limit of {max_size} bytes"
        )));
    }
    match encoding {
        None => {
            write_header(&mut buf[..HEADER_LEN], false, len)?;
            Ok(buf.freeze())
        }
        Some(encoding) => {
            let mut out = BytesMut::with_capacity(HEADER_LEN + len / 2 + 32);
            out.put_bytes(0, HEADER_LEN);
            encoding.compress(&buf[HEADER_LEN..], &mut out)?;
            let compressed_len = out.len() - HEADER_LEN;
            write_header(&mut out[..HEADER_LEN], true, compressed_len)?;
            Ok(out.freeze())
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
/// [`Decoder::next_message`]. Whole messages inside one chunk are returned without copying.
#[derive(Debug)]
pub struct Decoder {
    /// Unconsumed bytes of the last chunk, when nothing else is buffered.
    pending: Bytes,
    /// Bytes of a message that spans chunks.
    buf: BytesMut,
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
            pending: Bytes::new(),
            buf: BytesMut::new(),
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
        if self.buf.is_empty() && self.pending.is_empty() {
            self.pending = chunk;
        } else {
            if !self.pending.is_empty() {
                let pending = std::mem::take(&mut self.pending);
                self.buf.extend_from_slice(&pending);
            }
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Whether a partial message is buffered (an error if the stream ends now).
    pub fn has_partial(&self) -> bool {
        self.header.is_some() || !self.buf.is_empty() || !self.pending.is_empty()
    }

    fn available(&self) -> usize {
        self.buf.len() + self.pending.len()
    }

    fn take(&mut self, n: usize) -> Bytes {
        if self.buf.is_empty() {
            self.pending.split_to(n)
        } else {
            self.buf.split_to(n).freeze()
        }
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
                if self.available() < HEADER_LEN {
                    return Ok(None);
                }
                let mut header = self.take(HEADER_LEN);
                let flags = header.get_u8();
                let len = header.get_u32() as usize;
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
        if self.available() < len {
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
