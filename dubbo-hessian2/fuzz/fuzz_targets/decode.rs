//! Feeds arbitrary bytes to the decoder. Properties checked:
//! * decoding never panics, loops or exhausts memory (libFuzzer enforces
//!   time and RSS limits);
//! * whatever decodes re-encodes, and the re-encoded bytes decode to the
//!   same values (for values without cyclic references);
//! * the serde paths over the decoded values never panic;
//! * reading strings with `read_str` (borrowed when possible) sees the same
//!   values as `read_value`, and leaves later references intact;
//! * `from_slice` (typed values read straight from the input) gives what the
//!   `Value` path gives, and `skip_value` accepts what `read_value` accepts,
//!   ending at the same byte.
#![no_main]

use std::collections::HashMap;

use dubbo_hessian2::{
    Decoder, Encoder, Value, from_slice, from_value, java::JavaThrowable, to_value,
};
use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct Pojo {
    name: Option<String>,
    id: i64,
    tags: Vec<String>,
    extra: HashMap<String, Value>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(default)]
struct Typed {
    name: Option<String>,
    id: i64,
    tags: Vec<String>,
    extra: HashMap<String, Option<i64>>,
    bytes: Vec<u8>,
}

impl Default for Typed {
    fn default() -> Self {
        Typed {
            name: None,
            id: 0,
            tags: Vec::new(),
            extra: HashMap::new(),
            bytes: Vec::new(),
        }
    }
}

/// `from_slice` and the `Value` path agree on `data` read as `T`.
fn same_as_value_path<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let mut dec = Decoder::new(data);
    let slow = dec.deserialize::<T>().ok().filter(|_| dec.is_at_end());
    assert_eq!(from_slice::<T>(data).ok(), slow);
}

fn has_ref_or_nan(v: &Value) -> bool {
    match v {
        Value::Ref(_) => true,
        Value::Double(d) => d.is_nan(),
        Value::List { items, .. } => items.iter().any(has_ref_or_nan),
        Value::Map { entries, .. } => entries
            .iter()
            .any(|(k, v)| has_ref_or_nan(k) || has_ref_or_nan(v)),
        Value::Object { fields, .. } => fields.iter().any(|(_, v)| has_ref_or_nan(v)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    same_as_value_path::<Typed>(data);
    same_as_value_path::<Vec<Option<String>>>(data);
    same_as_value_path::<HashMap<String, Vec<i32>>>(data);
    let mut read = Decoder::new(data);
    let mut skip = Decoder::new(data);
    let read_ok = read.read_value().is_ok();
    assert_eq!(skip.skip_value().is_ok(), read_ok);
    if read_ok {
        assert_eq!(skip.position(), read.position());
    }

    let mut dec = Decoder::new(data);
    let mut values = Vec::new();
    while !dec.is_at_end() {
        match dec.read_value() {
            Ok(v) => values.push(v),
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }

    // The same input with every other value read by `read_str`: strings come
    // out equal, anything else is a type error, and the values in between
    // (which may refer back across the strings) decode as before.
    let mut mixed = Decoder::new(data);
    for (i, v) in values.iter().enumerate() {
        if i % 2 == 0 {
            match (mixed.read_str(), v) {
                (Ok(Some(s)), Value::String(t)) => assert_eq!(s.as_ref(), t.as_str()),
                (Ok(None), Value::Null) => {}
                (Err(_), other) => assert!(!matches!(other, Value::String(_) | Value::Null)),
                (got, want) => panic!("read_str gave {got:?} where read_value gave {want:?}"),
            }
        } else {
            let w = mixed.read_value().expect("the same input decodes the same way");
            if !has_ref_or_nan(v) {
                assert_eq!(&w, v);
            }
        }
    }

    // serde paths
    for v in &values {
        let _ = from_value::<Value>(v.clone());
        let _ = from_value::<Pojo>(v.clone());
        let _ = from_value::<JavaThrowable>(v.clone());
        let _ = from_value::<Vec<i32>>(v.clone());
        let _ = to_value(v);
    }

    // re-encode and decode again
    let mut enc = Encoder::new();
    for v in &values {
        enc.write_value(v).expect("decoded values must re-encode");
    }
    let bytes = enc.into_bytes();
    let mut again = Decoder::new(&bytes);
    for v in &values {
        let w = again.read_value().expect("re-encoded values must decode");
        if !has_ref_or_nan(v) {
            assert_eq!(&w, v);
        }
    }
});
