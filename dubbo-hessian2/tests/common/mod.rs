//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dubbo_hessian2::{Decoder, Encoder, Value};

/// Parses the spec's vector notation: hex bytes separated by whitespace,
/// plus `"text"` for the UTF-8 bytes of a text.
pub fn hx(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = spec.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            let end = after.find('"').expect("closing quote");
            out.extend_from_slice(&after.as_bytes()[..end]);
            rest = after[end + 1..].trim_start();
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let tok = &rest[..end];
            assert_eq!(tok.len(), 2, "bad hex token {tok:?}");
            out.push(u8::from_str_radix(tok, 16).expect("hex"));
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// Hex dump for assertion messages.
pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encodes one value with a fresh encoder.
pub fn enc(v: &Value) -> Vec<u8> {
    let mut e = Encoder::new();
    e.write_value(v).expect("encode");
    e.into_bytes()
}

/// Decodes exactly one value spanning all bytes.
pub fn dec(b: &[u8]) -> Value {
    let mut d = Decoder::new(b);
    let v = d
        .read_value()
        .unwrap_or_else(|e| panic!("decode {}: {e}", hex(b)));
    assert!(d.is_at_end(), "trailing bytes after value in {}", hex(b));
    v
}

/// Decodes all values of a stream.
pub fn dec_all(b: &[u8]) -> Vec<Value> {
    let mut d = Decoder::new(b);
    let mut out = Vec::new();
    while !d.is_at_end() {
        out.push(
            d.read_value()
                .unwrap_or_else(|e| panic!("decode {}: {e}", hex(b))),
        );
    }
    out
}

/// `Value::String` shorthand.
pub fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}
