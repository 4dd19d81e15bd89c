//! Value references (`Q`) within and across the values of one stream.
//!
//! The decoder does not keep the top-level values it has returned; a
//! reference into one of them makes it decode the input again up to there.
//! These tests pin down that the result is the same as if every value had
//! been kept.

mod common;

use common::{hx, s};
use dubbo_hessian2::{Decoder, Encoder, ErrorKind, Limits, Value};
use proptest::collection::vec;
use proptest::prelude::*;

fn all(bytes: &[u8]) -> Vec<Value> {
    common::dec_all(bytes)
}

fn list(items: Vec<Value>) -> Value {
    Value::list(items)
}

#[test]
fn ref_to_earlier_top_level_containers() {
    // {"k": "v"}, "s", Q0, [Q0, Q0]
    let bytes = hx(r#"48 01 "k" 01 "v" 5a 01 "s" 51 90 7a 51 90 51 90"#);
    let m = Value::map(vec![(s("k"), s("v"))]);
    assert_eq!(
        all(&bytes),
        vec![m.clone(), s("s"), m.clone(), list(vec![m.clone(), m])]
    );
}

#[test]
fn ref_to_nested_containers_of_earlier_values() {
    // [{"a": 1}, [2]] numbers its containers 0, 1, 2; then Q1, Q2, Q0
    let bytes = hx(r#"7a 48 01 "a" 91 5a 79 92 51 91 51 92 51 90"#);
    let m = Value::map(vec![(s("a"), Value::Int(1))]);
    let l = list(vec![Value::Int(2)]);
    let whole = list(vec![m.clone(), l.clone()]);
    assert_eq!(all(&bytes), vec![whole.clone(), m, l, whole]);
}

#[test]
fn chained_refs() {
    // #0 = [1]; #1 = [Q0] (a copy takes no number); Q1; #2 = {"k": Q1}; Q2
    let bytes = hx(r#"79 91 79 51 90 51 91 48 01 "k" 51 91 5a 51 92"#);
    let one = list(vec![Value::Int(1)]);
    let two = list(vec![one.clone()]);
    let map = Value::map(vec![(s("k"), two.clone())]);
    assert_eq!(all(&bytes), vec![one, two.clone(), two, map.clone(), map]);
}

#[test]
fn refs_after_class_definitions_of_earlier_values() {
    // class a.P {x} defined in value 0; value 1 uses it without a definition;
    // then references to both objects and a list of new ones
    let bytes = hx(r#"43 03 "a.P" 91 01 "x" 60 91 60 92 51 90 51 91 7a 60 93 51 90"#);
    let p = |x| Value::object("a.P", vec![("x".into(), Value::Int(x))]);
    assert_eq!(
        all(&bytes),
        vec![p(1), p(2), p(1), p(2), list(vec![p(3), p(1)])]
    );
}

#[test]
fn refs_within_the_value_being_read() {
    // [{}, Q1, Q0 (a cycle)]
    let bytes = hx("7b 48 5a 51 91 51 90");
    let m = Value::map(vec![]);
    assert_eq!(all(&bytes), vec![list(vec![m.clone(), m, Value::Ref(0)])]);
}

#[test]
fn refs_to_cyclic_earlier_values() {
    // #0 = a list containing itself; then [Q0] and Q0
    let bytes = hx("79 51 90 79 51 90 51 90");
    assert_eq!(
        all(&bytes),
        vec![
            list(vec![Value::Ref(0)]),
            list(vec![list(vec![Value::Ref(1)])]),
            list(vec![Value::Ref(0)]),
        ]
    );
}

#[test]
fn refs_to_values_read_after_the_first_replay() {
    // Q0 makes the decoder re-read value 0; values read after that are kept
    // directly: #1 = {"b": 2}, then Q1 and Q0 again
    let bytes = hx(r#"79 91 51 90 48 01 "b" 92 5a 51 91 51 90"#);
    let l = list(vec![Value::Int(1)]);
    let m = Value::map(vec![(s("b"), Value::Int(2))]);
    assert_eq!(all(&bytes), vec![l.clone(), l.clone(), m.clone(), m, l]);
}

#[test]
fn invalid_refs_still_fail() {
    for (bytes, kind) in [
        (hx("51 90"), ErrorKind::BadReference),
        (hx("79 91 51 91"), ErrorKind::BadReference),
        (hx("79 91 79 51 95"), ErrorKind::BadReference),
        (hx("79 91 51 8f"), ErrorKind::BadReference),
        (hx("79 91 51"), ErrorKind::Eof),
    ] {
        let mut dec = Decoder::new(&bytes);
        let err = loop {
            match dec.read_value() {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), kind, "{bytes:02x?}: {err}");
        // poisoned
        assert!(dec.read_value().is_err());
    }
}

#[test]
fn replay_uses_the_limits_earlier_values_were_read_with() {
    // value 0 is four lists deep; value 1 refers to the innermost list
    let bytes = hx("79 79 79 79 91 51 93");
    let mut dec = Decoder::new(&bytes);
    let v0 = dec.read_value().unwrap();
    assert_eq!(
        v0,
        list(vec![list(vec![list(vec![list(vec![Value::Int(1)])])])])
    );
    // lowering max_depth afterwards does not affect re-reading value 0
    let mut dec = dec.with_limits(Limits::default().max_depth(2));
    assert_eq!(dec.read_value().unwrap(), list(vec![Value::Int(1)]));
    // ... but applies to the copy
    let bytes = hx("79 79 79 79 91 7a 51 92");
    let mut dec = Decoder::new(&bytes);
    dec.read_value().unwrap();
    let mut dec = dec.with_limits(Limits::default().max_depth(2));
    assert_eq!(dec.read_value().unwrap_err().kind(), ErrorKind::Limit);
}

#[test]
fn reference_copies_keep_counting_against_the_budget() {
    let node = std::mem::size_of::<Value>();
    // [] then Q0, Q0: the budget allows exactly one copy
    let bytes = hx("78 51 90 51 90");
    let mut dec = Decoder::new(&bytes).with_limits(Limits::default().max_ref_expansion(node));
    assert_eq!(dec.read_value().unwrap(), list(vec![]));
    assert_eq!(dec.read_value().unwrap(), list(vec![]));
    let err = dec.read_value().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(dec.read_value().is_err());
}

#[test]
fn serde_reads_through_refs() {
    let bytes = hx(r#"48 01 "k" 01 "v" 5a 51 90"#);
    let mut dec = Decoder::new(&bytes);
    let a: std::collections::HashMap<String, String> = dec.deserialize().unwrap();
    let b: std::collections::HashMap<String, String> = dec.deserialize().unwrap();
    assert_eq!(a, b);
    assert!(dec.is_at_end());
}

/// Appends the containers of `v` in pre-order (the stream numbering when
/// enum references are off).
fn containers(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::List { items, .. } => {
            out.push(v.clone());
            items.iter().for_each(|i| containers(i, out));
        }
        Value::Map { entries, .. } => {
            out.push(v.clone());
            for (k, x) in entries {
                containers(k, out);
                containers(x, out);
            }
        }
        Value::Object { fields, .. } => {
            out.push(v.clone());
            fields.iter().for_each(|(_, x)| containers(x, out));
        }
        _ => {}
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i32>().prop_map(Value::Int),
        "[a-z]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::list),
            vec(inner.clone(), 0..3).prop_map(|i| Value::typed_list("[int", i)),
            vec(("[a-c]", inner.clone()), 0..3).prop_map(|e| {
                Value::map(e.into_iter().map(|(k, v)| (Value::String(k), v)).collect())
            }),
            vec(inner, 0..3).prop_map(|f| {
                let fields = f
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("f{i}"), v))
                    .collect();
                Value::object("a.P", fields)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A stream of values and references to any earlier container decodes to
    /// the values and copies of the referenced containers.
    #[test]
    fn streams_with_refs_to_earlier_containers(
        steps in vec((arb_value(), any::<bool>(), any::<prop::sample::Index>()), 1..8),
    ) {
        let mut enc = Encoder::new();
        enc.set_enum_refs(false);
        let mut numbered: Vec<Value> = Vec::new();
        let mut expected = Vec::new();
        for (value, as_ref, index) in &steps {
            if *as_ref && !numbered.is_empty() {
                let i = index.index(numbered.len());
                enc.write_ref(i).unwrap();
                expected.push(numbered[i].clone());
            } else {
                enc.write_value(value).unwrap();
                containers(value, &mut numbered);
                expected.push(value.clone());
            }
        }
        prop_assert_eq!(enc.next_ref_index(), numbered.len());
        let bytes = enc.into_bytes();
        prop_assert_eq!(all(&bytes), expected);
    }
}

#[test]
fn borrowed_strings_count_as_top_level_values() {
    // {"k": "v"}, "s" (read with read_str), "é" (not ASCII), Q0 — the
    // reference still finds the map, before and after a replay.
    let bytes = hx(r#"48 01 "k" 01 "v" 5a 01 "s" 01 c3 a9 51 90 51 90"#);
    let m = Value::map(vec![(s("k"), s("v"))]);
    let mut dec = Decoder::new(&bytes);
    assert_eq!(dec.read_value().unwrap(), m);
    assert!(matches!(
        dec.read_str().unwrap(),
        Some(std::borrow::Cow::Borrowed("s"))
    ));
    assert!(matches!(
        dec.read_str().unwrap(),
        Some(std::borrow::Cow::Owned(ref t)) if t == "é"
    ));
    assert_eq!(dec.read_value().unwrap(), m);
    assert_eq!(dec.read_value().unwrap(), m);
    assert!(dec.is_at_end());
}

#[test]
fn read_str_rejects_non_strings_and_stops_after_syntax_errors() {
    let mut dec = Decoder::new(&[0x91, 0x01, b'a', 0x05, b'x']);
    // A well-formed value of another type is consumed and reported.
    assert_eq!(dec.read_str().unwrap_err().kind(), ErrorKind::Type);
    assert!(matches!(
        dec.read_str().unwrap(),
        Some(std::borrow::Cow::Borrowed("a"))
    ));
    // A truncated string poisons the decoder; later reads fail too.
    assert!(dec.read_str().is_err());
    assert!(dec.read_str().is_err());
}
