//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dubbo_hessian2::{Decoder, Encoder, Value};
use proptest::collection::vec;
use proptest::prelude::*;

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

/// A list or map type name, or none.
pub fn type_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("[int".to_owned())),
        Just(Some("java.util.LinkedList".to_owned())),
        "[a-z.$\\[]{1,12}".prop_map(Some),
    ]
}

/// Any scalar value (no NaN, which would not compare equal).
pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::Int),
        (-300i32..300).prop_map(Value::Int),
        any::<i64>().prop_map(Value::Long),
        (-300_000i64..300_000).prop_map(Value::Long),
        any::<f64>()
            .prop_filter("NaN", |d| !d.is_nan())
            .prop_map(Value::Double),
        (-100_000i32..100_000).prop_map(|m| Value::Double(f64::from(m) * 0.001)),
        (-40_000i32..40_000).prop_map(|i| Value::Double(f64::from(i))),
        any::<String>().prop_map(Value::String),
        vec(any::<u8>(), 0..40).prop_map(Value::Binary),
        any::<i64>().prop_map(Value::Date),
        (-1000i64..1000).prop_map(|m| Value::Date(m * 60_000)),
    ]
}

/// Any value: scalars, lists and maps (typed or not), objects and enum constants.
pub fn arb_value() -> impl Strategy<Value = Value> {
    let class = prop_oneof![
        Just("a.A".to_owned()),
        Just("b.B".to_owned()),
        "[a-z.]{1,10}"
    ];
    let field = prop_oneof![
        Just("name".to_owned()),
        Just("x".to_owned()),
        Just("y".to_owned()),
        ".{0,5}"
    ];
    leaf().prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            (type_name(), vec(inner.clone(), 0..10))
                .prop_map(|(type_name, items)| Value::List { type_name, items }),
            (type_name(), vec((inner.clone(), inner.clone()), 0..5))
                .prop_map(|(type_name, entries)| Value::Map { type_name, entries }),
            (class.clone(), vec((field.clone(), inner.clone()), 0..4))
                .prop_map(|(class, fields)| Value::Object { class, fields }),
            (class.clone(), "[A-Z]{1,3}").prop_map(|(c, n)| Value::enum_constant(c, n)),
        ]
    })
}
