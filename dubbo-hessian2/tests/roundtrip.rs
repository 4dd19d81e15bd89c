//! Property tests: encode → decode is the identity for arbitrary values,
//! strings and serde structs.

mod common;

use common::{arb_value, leaf};

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use dubbo_hessian2::java::{self, JavaThrowable, StackTraceElement};
use dubbo_hessian2::{Decoder, Encoder, Value, from_slice, from_value, to_value, to_vec};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn values_roundtrip_through_one_stream(values in vec(arb_value(), 1..6)) {
        let mut enc = Encoder::new();
        for v in &values {
            enc.write_value(v).unwrap();
        }
        let bytes = enc.into_bytes();
        let mut dec = Decoder::new(&bytes);
        for v in &values {
            prop_assert_eq!(&dec.read_value().unwrap(), v);
        }
        prop_assert!(dec.is_at_end());
    }

    #[test]
    fn values_roundtrip_through_serde(v in arb_value()) {
        // Value -> serde -> Value, both directions of this crate's glue
        prop_assert_eq!(&to_value(&v).unwrap(), &v);
        prop_assert_eq!(&from_value::<Value>(v.clone()).unwrap(), &v);
        // and Encoder::serialize / Decoder::deserialize
        let bytes = to_vec(&v).unwrap();
        prop_assert_eq!(&from_slice::<Value>(&bytes).unwrap(), &v);
    }

    #[test]
    fn strings_roundtrip(s in any::<String>()) {
        let bytes = to_vec(&s).unwrap();
        // never emits 4-byte UTF-8 (hessian-lite rejects it)
        if s.encode_utf16().count() <= 31 {
            prop_assert!(!bytes[1..].iter().any(|b| *b >= 0xf0));
        }
        prop_assert_eq!(from_slice::<String>(&bytes).unwrap(), s);
    }


    #[test]
    fn structs_roundtrip(o in arb_outer()) {
        let bytes = to_vec(&o).unwrap();
        prop_assert_eq!(&from_slice::<Outer>(&bytes).unwrap(), &o);
        prop_assert_eq!(&from_value::<Outer>(to_value(&o).unwrap()).unwrap(), &o);
        // twice in one stream: class defs and enum refs are shared
        let mut enc = Encoder::new();
        enc.serialize(&o).unwrap();
        enc.serialize(&o).unwrap();
        let bytes = enc.into_bytes();
        let mut dec = Decoder::new(&bytes);
        prop_assert_eq!(&dec.deserialize::<Outer>().unwrap(), &o);
        prop_assert_eq!(&dec.deserialize::<Outer>().unwrap(), &o);
    }

    #[test]
    fn ints_and_longs_roundtrip(i in any::<i32>(), l in any::<i64>(), d in any::<f64>()) {
        let mut enc = Encoder::new();
        enc.write_int(i);
        enc.write_long(l);
        enc.write_double(d);
        let bytes = enc.into_bytes();
        let mut dec = Decoder::new(&bytes);
        prop_assert_eq!(dec.read_value().unwrap(), Value::Int(i));
        prop_assert_eq!(dec.read_value().unwrap(), Value::Long(l));
        match dec.read_value().unwrap() {
            Value::Double(x) => prop_assert!(x == d || (x.is_nan() && d.is_nan())),
            other => prop_assert!(false, "{other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn long_strings_roundtrip(
        parts in vec(prop_oneof![Just('a'), Just('\u{e9}'), Just('\u{4e2d}'), Just('\u{1F600}')], 30_000..70_000)
    ) {
        let s: String = parts.into_iter().collect();
        let bytes = to_vec(&s).unwrap();
        check_chunks(&bytes, &s);
        prop_assert_eq!(from_slice::<String>(&bytes).unwrap(), s);
    }
}

/// Walks the chunk headers of an encoded string: non-final chunks are `R`
/// with at most 32768 units and never end in a high surrogate.
fn check_chunks(bytes: &[u8], s: &str) {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut pos = 0;
    let mut unit_pos = 0;
    loop {
        let tag = bytes[pos];
        let (len, last, hdr) = match tag {
            b'R' => (
                usize::from(u16::from_be_bytes([bytes[pos + 1], bytes[pos + 2]])),
                false,
                3,
            ),
            b'S' => (
                usize::from(u16::from_be_bytes([bytes[pos + 1], bytes[pos + 2]])),
                true,
                3,
            ),
            0x00..=0x1f => (usize::from(tag), true, 1),
            0x30..=0x33 => (
                (usize::from(tag - 0x30) << 8) | usize::from(bytes[pos + 1]),
                true,
                2,
            ),
            _ => panic!("bad chunk tag {tag:#x}"),
        };
        assert!(len <= 0x8000);
        if !last {
            assert!(len == 0x8000 || len == 0x7fff);
            let tail = units[unit_pos + len - 1];
            assert!(
                !(0xd800..=0xdbff).contains(&tail),
                "chunk splits a surrogate pair"
            );
        }
        // skip the chunk's bytes
        pos += hdr;
        for u in &units[unit_pos..unit_pos + len] {
            pos += if *u < 0x80 {
                1
            } else if *u < 0x800 {
                2
            } else {
                3
            };
        }
        unit_pos += len;
        if last {
            break;
        }
    }
    assert_eq!(pos, bytes.len());
    assert_eq!(unit_pos, units.len());
}

#[test]
fn chunk_boundaries_with_surrogates() {
    for pad in [
        32_764usize,
        32_765,
        32_766,
        32_767,
        32_768,
        32_769,
        65_534,
        65_535,
        65_536,
    ] {
        for tail in ["", "\u{1F600}", "\u{1F600}\u{1F600}b", "\u{4e2d}"] {
            let s = format!("{}{tail}", "a".repeat(pad));
            let bytes = to_vec(&s).unwrap();
            check_chunks(&bytes, &s);
            assert_eq!(from_slice::<String>(&bytes).unwrap(), s);
        }
    }
    // exactly 32768 units: one S chunk
    assert_eq!(
        to_vec(&"a".repeat(32_768)).unwrap()[..3],
        [b'S', 0x80, 0x00]
    );
    // 32767 units + an astral char: R chunk of 32767, final chunk of 2 units
    let s = format!("{}\u{1F600}", "a".repeat(32_767));
    let bytes = to_vec(&s).unwrap();
    assert_eq!(bytes[..3], [b'R', 0x7f, 0xff]);
    assert_eq!(bytes[3 + 32_767], 0x02);
}

#[test]
fn binary_chunking() {
    for len in [
        0usize, 15, 16, 1023, 1024, 4095, 4096, 4097, 8192, 8193, 100_000,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut enc = Encoder::new();
        enc.write_binary(&data);
        let bytes = enc.into_bytes();
        if len > 1023 {
            // A chunks of exactly BINARY_CHUNK_LEN, then one B chunk
            let full = (len - 1) / dubbo_hessian2::BINARY_CHUNK_LEN;
            assert_eq!(bytes.len(), len + 3 * (full + 1));
            assert_eq!(bytes[0], if full > 0 { b'A' } else { b'B' });
        }
        assert_eq!(common::dec(&bytes), Value::Binary(data));
    }
}

// ----------------------------------------------------------------------------
// serde structs

#[derive(Debug, PartialEq, Clone)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(rename = "test.Kind")]
enum Kind {
    Alpha,
    Beta,
    Gamma,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Circle(f64),
    Rect { w: i32, h: i32 },
    Pair(i32, String),
    Dot,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "test.Inner")]
struct Inner {
    a: i8,
    b: i16,
    c: u16,
    d: u32,
    e: u64,
    f: f32,
    g: char,
    s: String,
    o: Option<String>,
    bytes: Bytes,
    kind: Kind,
    date: java::Date,
    unit: (),
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "test.Outer")]
struct Outer {
    id: i64,
    inners: Vec<Inner>,
    map: HashMap<String, Vec<Option<i32>>>,
    tags: BTreeMap<i32, String>,
    tuple: (i32, String, bool),
    shape: Shape,
    nested: Option<Vec<Option<Kind>>>,
    error: Option<JavaThrowable>,
    value: Value,
}

fn arb_inner() -> impl Strategy<Value = Inner> {
    (
        (
            any::<i8>(),
            any::<i16>(),
            any::<u16>(),
            any::<u32>(),
            0..=i64::MAX as u64,
        ),
        (
            any::<f32>().prop_filter("NaN", |f| !f.is_nan()),
            any::<char>(),
            any::<String>(),
        ),
        (
            proptest::option::of(".{0,8}"),
            vec(any::<u8>(), 0..20),
            0..3u8,
            any::<i64>(),
        ),
    )
        .prop_map(|((a, b, c, d, e), (f, g, s), (o, bytes, k, date))| Inner {
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            s,
            o,
            bytes: Bytes(bytes),
            kind: [Kind::Alpha, Kind::Beta, Kind::Gamma][usize::from(k)],
            date: java::Date(date),
            unit: (),
        })
}

fn arb_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        any::<f64>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(Shape::Circle),
        (any::<i32>(), any::<i32>()).prop_map(|(w, h)| Shape::Rect { w, h }),
        (any::<i32>(), ".{0,4}").prop_map(|(a, b)| Shape::Pair(a, b)),
        Just(Shape::Dot),
    ]
}

fn arb_throwable() -> impl Strategy<Value = Option<JavaThrowable>> {
    proptest::option::of(
        (
            "[a-z.]{1,20}",
            proptest::option::of(".{0,10}"),
            proptest::option::of(".{0,10}"),
            0..3usize,
        )
            .prop_map(|(class, msg, cause_msg, frames)| {
                let mut t = JavaThrowable::new(class, msg);
                t.stack_trace = (0..frames)
                    .map(|i| StackTraceElement {
                        declaring_class: "a.B".into(),
                        method_name: format!("m{i}"),
                        file_name: Some("B.java".into()),
                        line_number: i as i32,
                        ..Default::default()
                    })
                    .collect();
                if let Some(m) = cause_msg {
                    t = t.with_cause(JavaThrowable::runtime_exception(m));
                }
                t
            }),
    )
}

fn arb_outer() -> impl Strategy<Value = Outer> {
    (
        any::<i64>(),
        vec(arb_inner(), 0..4),
        proptest::collection::hash_map(
            ".{0,6}",
            vec(proptest::option::of(any::<i32>()), 0..4),
            0..4,
        ),
        proptest::collection::btree_map(any::<i32>(), ".{0,6}", 0..4),
        (any::<i32>(), ".{0,6}", any::<bool>()),
        arb_shape(),
        proptest::option::of(vec(
            proptest::option::of(prop_oneof![Just(Kind::Alpha), Just(Kind::Gamma)]),
            0..5,
        )),
        arb_throwable(),
        leaf(),
    )
        .prop_map(
            |(id, inners, map, tags, tuple, shape, nested, error, value)| Outer {
                id,
                inners,
                map,
                tags,
                tuple,
                shape,
                nested,
                error,
                value,
            },
        )
}

#[test]
fn throwable_with_cause_chain() {
    let e = JavaThrowable::new("java.lang.IllegalStateException", Some("outer".into()))
        .with_cause(JavaThrowable::runtime_exception("inner"));
    let v = to_value(&e).unwrap();
    // both exceptions carry a self-reference as their own "no cause" marker
    assert_eq!(
        v.get("cause").and_then(|c| c.get("cause")),
        Some(&Value::Ref(3))
    );
    let bytes = to_vec(&e).unwrap();
    let back: JavaThrowable = from_slice(&bytes).unwrap();
    assert_eq!(back, e);
    assert_eq!(back.cause.as_ref().unwrap().message(), Some("inner"));
    assert_eq!(
        std::error::Error::source(&back).map(|s| s.to_string()),
        Some("java.lang.RuntimeException: inner".to_owned())
    );
}

#[test]
fn encoder_rejects_dangling_refs() {
    let mut enc = Encoder::new();
    assert!(enc.write_value(&Value::Ref(0)).is_err());
    assert!(enc.write_value(&Value::list(vec![Value::Ref(1)])).is_err());
    // u64 beyond i64 is an error, not a wrap-around
    assert!(to_vec(&u64::MAX).is_err());
}

#[test]
fn string_maps_match_value_maps_and_take_a_reference_number() {
    let pairs = [("path", "demo.Greeter"), ("ü", "€"), ("", "")];
    let value = Value::map(pairs.iter().map(|&(k, v)| (k.into(), v.into())).collect());
    let mut direct = Encoder::new();
    direct.write_string_map(pairs);
    direct.write_string_map([]);
    let mut via_value = Encoder::new();
    via_value.write_value(&value).unwrap();
    via_value.write_value(&Value::map(Vec::new())).unwrap();
    assert_eq!(direct.as_bytes(), via_value.as_bytes());
    assert_eq!(direct.next_ref_index(), 2);
    // A later value refers to the first map by its stream number.
    direct.write_ref(0).unwrap();
    let mut dec = Decoder::new(direct.as_bytes());
    assert_eq!(dec.read_value().unwrap(), value);
    assert_eq!(dec.read_value().unwrap(), Value::map(Vec::new()));
    assert_eq!(dec.read_value().unwrap(), value);
}
