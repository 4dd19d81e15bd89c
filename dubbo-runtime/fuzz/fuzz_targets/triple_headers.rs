//! Feeds arbitrary bytes to the Triple header parsers (`dubbo_runtime::triple::fuzzing`):
//! `grpc-timeout`, `grpc-message` percent-decoding and encoding, status trailers
//! (`grpc-status`, `grpc-message`, `grpc-status-details-bin`, user `-bin` metadata) and the
//! `grpc-encoding` / `grpc-accept-encoding` negotiation. Properties checked:
//! * nothing panics;
//! * a parsed timeout came from 1-18 ASCII digits and a known unit;
//! * `grpc-message` encoding round-trips: decoding what was encoded gives back the text;
//! * a status read from trailers keeps the `grpc-message` text and a known code.
#![no_main]

use dubbo_runtime::triple::fuzzing;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// Header names worth combining in a trailer block.
const NAMES: &[&str] = &[
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "grpc-encoding",
    "grpc-accept-encoding",
    "grpc-timeout",
    "x-user-bin",
    "x-user",
    "content-type",
];

#[derive(Arbitrary, Debug)]
struct Input {
    timeout: Vec<u8>,
    message: Vec<u8>,
    text: String,
    headers: Vec<(u8, Vec<u8>)>,
}

fuzz_target!(|input: Input| {
    if let Some(_timeout) = fuzzing::parse_timeout(&input.timeout) {
        let (unit, digits) = input.timeout.split_last().expect("non-empty");
        assert!(b"HMSmun".contains(unit), "unit {unit}");
        assert!(!digits.is_empty() && digits.len() <= 18);
        assert!(digits.iter().all(u8::is_ascii_digit));
    }

    let decoded = fuzzing::decode_message(&input.message);
    for text in [decoded.as_str(), input.text.as_str()] {
        let encoded = fuzzing::encode_message(text);
        // The encoder stops at 4096 bytes of output; shorter texts round-trip exactly.
        if text.len() * 3 < 4096 {
            assert_eq!(fuzzing::decode_message(encoded.as_bytes()), text);
        }
    }

    let mut headers = HeaderMap::new();
    for (name, value) in &input.headers {
        let name = HeaderName::from_static(NAMES[usize::from(*name) % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            let _ = fuzzing::encodings(&value);
            headers.append(name, value);
        }
    }
    if let Some(status) = fuzzing::status_from_headers(&headers) {
        let code = status.code().as_i32();
        assert!((0..=16).contains(&code), "code {code}");
        let message = headers
            .get("grpc-message")
            .map(|v| fuzzing::decode_message(v.as_bytes()))
            .unwrap_or_default();
        assert_eq!(status.message(), message);
    }
});
