//! Triple/gRPC header names and value codecs: `grpc-timeout`, `grpc-message`, status
//! trailers, and which headers are not user metadata.

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::metadata::{Metadata, decode_binary, encode_binary};
use crate::status::{Code, Status};

pub(crate) const GRPC_STATUS: &str = "grpc-status";
pub(crate) const GRPC_MESSAGE: &str = "grpc-message";
pub(crate) const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";
pub(crate) const GRPC_TIMEOUT: &str = "grpc-timeout";
pub(crate) const GRPC_ENCODING: &str = "grpc-encoding";
pub(crate) const GRPC_ACCEPT_ENCODING: &str = "grpc-accept-encoding";
pub(crate) const TRI_SERVICE_VERSION: &str = "tri-service-version";
pub(crate) const TRI_SERVICE_GROUP: &str = "tri-service-group";
pub(crate) const TRI_CONSUMER_APPNAME: &str = "tri-consumer-appname";

pub(crate) const CONTENT_TYPE_GRPC: HeaderValue = HeaderValue::from_static("application/grpc");

/// Headers that are protocol machinery, never copied from user metadata onto the wire.
pub(crate) fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "te" | "content-type"
            | "user-agent"
            | "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
            | GRPC_STATUS
            | GRPC_MESSAGE
            | GRPC_STATUS_DETAILS
            | GRPC_TIMEOUT
            | GRPC_ENCODING
            | GRPC_ACCEPT_ENCODING
            | "grpc-message-type"
            | TRI_SERVICE_VERSION
            | TRI_SERVICE_GROUP
            | TRI_CONSUMER_APPNAME
            | "tri-header-convert"
    )
}

/// Appends the user entries of `metadata` to `headers`, skipping reserved names.
pub(crate) fn append_user_metadata(headers: &mut HeaderMap, metadata: &Metadata) {
    for (name, value) in metadata.as_headers() {
        if !is_reserved(name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
}

/// Parses `grpc-timeout`: 1 to 8 digits followed by a unit (`H M S m u n`). Longer digit runs
/// are accepted leniently (Java does not enforce the limit).
pub(crate) fn parse_timeout(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n.checked_mul(3600)?),
        b'M' => Duration::from_secs(n.checked_mul(60)?),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Formats a `grpc-timeout` value with at most 8 digits, choosing the finest unit that fits.
pub(crate) fn format_timeout(timeout: Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let nanos = timeout.as_nanos();
    let (value, unit) = if nanos <= MAX {
        (nanos, 'n')
    } else if nanos / 1_000 <= MAX {
        (nanos.div_ceil(1_000), 'u')
    } else if nanos / 1_000_000 <= MAX {
        (nanos.div_ceil(1_000_000), 'm')
    } else if nanos / 1_000_000_000 <= MAX {
        (nanos.div_ceil(1_000_000_000), 'S')
    } else if nanos / 60_000_000_000 <= MAX {
        (nanos.div_ceil(60_000_000_000), 'M')
    } else {
        ((nanos / 3_600_000_000_000).min(MAX), 'H')
    };
    // Digits and a unit letter are always a valid header value.
    HeaderValue::from_str(&format!("{value}{unit}")).unwrap_or(HeaderValue::from_static("1n"))
}

/// Percent-encodes a status message per the gRPC spec (bytes outside 0x20..=0x7E and `%`),
/// and also `+`, so Java clients (which decode `+` as space) read it right.
pub(crate) fn encode_message(message: &str) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    const MAX_LEN: usize = 4096;
    let mut out = Vec::with_capacity(message.len().min(MAX_LEN));
    for &b in message.as_bytes() {
        if out.len() >= MAX_LEN {
            break;
        }
        if (0x20..=0x7e).contains(&b) && b != b'%' && b != b'+' {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
    }
    HeaderValue::from_bytes(&out).unwrap_or(HeaderValue::from_static(""))
}

/// Decodes a `grpc-message` value; never fails (bad escapes are kept).
pub(crate) fn decode_message(value: &[u8]) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%'
            && let (Some(h), Some(l)) = (
                value.get(i + 1).copied().and_then(hex),
                value.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `grpc-status`, `grpc-message` and details for `status` into `headers`, plus the
/// status's own metadata.
pub(crate) fn put_status(headers: &mut HeaderMap, status: &Status) {
    headers.insert(
        const { HeaderName::from_static(GRPC_STATUS) },
        HeaderValue::from_static(status.code().as_str_number()),
    );
    if !status.message().is_empty() {
        headers.insert(
            const { HeaderName::from_static(GRPC_MESSAGE) },
            encode_message(status.message()),
        );
    }
    if !status.details().is_empty()
        && let Ok(v) = HeaderValue::from_str(&encode_binary(status.details()))
    {
        headers.insert(const { HeaderName::from_static(GRPC_STATUS_DETAILS) }, v);
    }
    append_user_metadata(headers, status.metadata());
}

/// Reads the status from trailers (or a trailers-only header block). `None` when there is no
/// `grpc-status`. The returned status carries every header as metadata.
pub(crate) fn status_from_headers(headers: &HeaderMap) -> Option<Status> {
    let code = Code::from_bytes(headers.get(GRPC_STATUS)?.as_bytes());
    let message = headers
        .get(GRPC_MESSAGE)
        .map(|v| decode_message(v.as_bytes()))
        .unwrap_or_default();
    let mut status = Status::new(code, message);
    if let Some(details) = headers.get(GRPC_STATUS_DETAILS)
        && let Ok(bytes) = decode_binary(details.as_bytes())
    {
        status = status.with_details(bytes);
    }
    Some(status.with_metadata(Metadata::from_headers(headers.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_every_unit() {
        assert_eq!(parse_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout(b"2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_timeout(b"3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_timeout(b"3000m"), Some(Duration::from_millis(3000)));
        assert_eq!(parse_timeout(b"3000000u"), Some(Duration::from_secs(3)));
        assert_eq!(parse_timeout(b"5n"), Some(Duration::from_nanos(5)));
        assert_eq!(
            parse_timeout(b"123456789m"),
            Some(Duration::from_millis(123_456_789))
        );
        assert_eq!(parse_timeout(b"m"), None);
        assert_eq!(parse_timeout(b"10x"), None);
        assert_eq!(parse_timeout(b"-1m"), None);
        assert_eq!(parse_timeout(b""), None);
        assert_eq!(parse_timeout(b"99999999999999999999H"), None);
    }

    #[test]
    fn timeouts_format_with_at_most_eight_digits() {
        assert_eq!(format_timeout(Duration::from_nanos(5)), "5n");
        assert_eq!(format_timeout(Duration::from_millis(3000)), "3000000u");
        assert_eq!(format_timeout(Duration::from_secs(1000)), "1000000m");
        assert_eq!(format_timeout(Duration::from_secs(200_000)), "200000S");
        for secs in [1u64, 59, 3601, 1 << 30, u64::MAX / 4] {
            let v = format_timeout(Duration::from_secs(secs));
            let parsed = parse_timeout(v.as_bytes()).unwrap();
            assert!(v.len() <= 9, "{v:?}");
            assert!(parsed >= Duration::from_secs(secs.min(99_999_999 * 3600)));
        }
    }

    #[test]
    fn messages_are_percent_encoded_and_decoded() {
        let v = encode_message("a+b 100% 中\n");
        assert_eq!(v, "a%2Bb 100%25 %E4%B8%AD%0A");
        assert_eq!(decode_message(v.as_bytes()), "a+b 100% 中\n");
        assert_eq!(decode_message(b"bad %zz %4"), "bad %zz %4");
        assert_eq!(decode_message(b"%FF"), "\u{fffd}");
    }

    #[test]
    fn status_round_trips_through_headers() {
        let mut md = Metadata::new();
        md.insert("x-trailer", "done").unwrap();
        let status = Status::not_found("gone: 中")
            .with_details(vec![1u8, 2, 3])
            .with_metadata(md);
        let mut headers = HeaderMap::new();
        put_status(&mut headers, &status);
        let back = status_from_headers(&headers).unwrap();
        assert_eq!(back.code(), Code::NotFound);
        assert_eq!(back.message(), "gone: 中");
        assert_eq!(back.details(), &[1, 2, 3]);
        assert_eq!(back.metadata().get("x-trailer"), Some("done"));
        assert!(status_from_headers(&HeaderMap::new()).is_none());
    }

    #[test]
    fn reserved_headers_are_not_user_metadata() {
        let mut md = Metadata::new();
        md.insert("te", "trailers").unwrap();
        md.insert("grpc-timeout", "1S").unwrap();
        md.insert("x-user", "1").unwrap();
        let mut headers = HeaderMap::new();
        append_user_metadata(&mut headers, &md);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-user"));
    }
}
