//! Message compression (`grpc-encoding`). gzip is supported; `identity` means none.

use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;

use crate::status::Status;

/// A message compression algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// gzip (RFC 1952).
    Gzip,
}

/// The value we send in `grpc-accept-encoding`.
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("gzip");

impl Encoding {
    /// The `grpc-encoding` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
        }
    }

    pub(crate) fn header_value(self) -> HeaderValue {
        match self {
            Encoding::Gzip => HeaderValue::from_static("gzip"),
        }
    }

    /// Parses a `grpc-encoding` value: `Ok(None)` for absent/`identity`, `Err` for an
    /// algorithm we do not implement.
    pub(crate) fn from_header(value: Option<&HeaderValue>) -> Result<Option<Encoding>, String> {
        let Some(value) = value else { return Ok(None) };
        match value.as_bytes() {
            b"" | b"identity" => Ok(None),
            b"gzip" => Ok(Some(Encoding::Gzip)),
            other => Err(String::from_utf8_lossy(other).into_owned()),
        }
    }

    /// Whether a `grpc-accept-encoding` list contains this algorithm.
    pub(crate) fn accepted_by(self, accept: Option<&HeaderValue>) -> bool {
        let Some(accept) = accept else { return false };
        accept
            .as_bytes()
            .split(|&b| b == b',')
            .any(|item| item.trim_ascii() == self.as_str().as_bytes())
    }

    /// Appends the compressed form of `input` to `out`.
    pub(crate) fn compress(self, input: &[u8], out: &mut BytesMut) -> Result<(), Status> {
        match self {
            Encoding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(out.writer(), flate2::Compression::new(6));
                encoder
                    .write_all(input)
                    .and_then(|()| encoder.finish().map(drop))
                    .map_err(|e| Status::internal(format!("gzip compression failed: {e}")))
            }
        }
    }

    /// Decompresses `input`, failing with `RESOURCE_EXHAUSTED` once the output would exceed
    /// `limit` bytes (so a compression bomb cannot allocate more than the limit).
    pub(crate) fn decompress(self, input: &[u8], limit: usize) -> Result<Bytes, Status> {
        match self {
            Encoding::Gzip => {
                let decoder = flate2::read::GzDecoder::new(input);
                let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
                let mut out = Vec::with_capacity(input.len().saturating_mul(2).min(limit));
                decoder
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(|e| Status::internal(format!("gzip decompression failed: {e}")))?;
                if out.len() > limit {
                    return Err(Status::resource_exhausted(format!(
                        "decompressed message larger than the limit of {limit} bytes"
                    )));
                }
                Ok(Bytes::from(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_enforces_limit() {
        let input = vec![b'a'; 100_000];
        let mut out = BytesMut::new();
        Encoding::Gzip.compress(&input, &mut out).unwrap();
        assert!(out.len() < 1000);
        assert_eq!(Encoding::Gzip.decompress(&out, 100_000).unwrap(), input);
        let err = Encoding::Gzip.decompress(&out, 99_999).unwrap_err();
        assert_eq!(err.code(), crate::Code::ResourceExhausted);
        assert_eq!(
            Encoding::Gzip
                .decompress(b"not gzip", 10)
                .unwrap_err()
                .code(),
            crate::Code::Internal
        );
    }

    #[test]
    fn header_negotiation() {
        assert_eq!(Encoding::from_header(None), Ok(None));
        assert_eq!(
            Encoding::from_header(Some(&HeaderValue::from_static("identity"))),
            Ok(None)
        );
        assert_eq!(
            Encoding::from_header(Some(&HeaderValue::from_static("gzip"))),
            Ok(Some(Encoding::Gzip))
        );
        assert!(Encoding::from_header(Some(&HeaderValue::from_static("br"))).is_err());
        let accept = HeaderValue::from_static("identity, deflate,gzip");
        assert!(Encoding::Gzip.accepted_by(Some(&accept)));
        assert!(!Encoding::Gzip.accepted_by(Some(&HeaderValue::from_static("deflate"))));
        assert!(!Encoding::Gzip.accepted_by(None));
    }
}
