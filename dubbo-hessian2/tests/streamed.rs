//! `from_slice` reads typed values straight from the input where it can; whatever it
//! returns must be what the `Value` path (`Decoder::deserialize`) returns for the same bytes.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use common::{arb_value, leaf};
use dubbo_hessian2::{Decoder, Encoder, ErrorKind, Limits, Result, Value, from_slice, to_vec};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The `Value` path: decode the tree, then map it.
fn via_value<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut dec = Decoder::new(bytes);
    let v = dec.deserialize()?;
    if !dec.is_at_end() {
        return Err(dubbo_hessian2::Error::at(
            ErrorKind::Syntax,
            dec.position(),
            format!("{} trailing byte(s) after the value", dec.remaining().len()),
        ));
    }
    Ok(v)
}

fn same_as_value_path<T: DeserializeOwned + PartialEq + fmt::Debug>(bytes: &[u8]) {
    match (from_slice::<T>(bytes), via_value::<T>(bytes)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", std::any::type_name::<T>()),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "{}: from_slice gave {a:?}, the Value path {b:?} for {bytes:02x?}",
            std::any::type_name::<T>()
        ),
    }
}

/// Everything a self-describing visitor can be told, in the order it was told.
#[derive(Debug, PartialEq)]
enum Seen {
    Unit,
    Bool(bool),
    I32(i32),
    I64(i64),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Seq(Vec<Seen>),
    Map(Vec<(Seen, Seen)>),
}

struct SeenVisitor;

impl<'de> Visitor<'de> for SeenVisitor {
    type Value = Seen;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_unit<E>(self) -> std::result::Result<Seen, E> {
        Ok(Seen::Unit)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Seen, E> {
        Ok(Seen::Bool(v))
    }
    fn visit_i32<E>(self, v: i32) -> std::result::Result<Seen, E> {
        Ok(Seen::I32(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Seen, E> {
        Ok(Seen::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Seen, E> {
        Ok(Seen::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Seen, E> {
        Ok(Seen::Str(v.to_owned()))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<Seen, E> {
        Ok(Seen::Bytes(v.to_vec()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Seen, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = a.next_element()? {
            items.push(x);
        }
        Ok(Seen::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Seen, A::Error> {
        let mut entries = Vec::new();
        while let Some(kv) = a.next_entry()? {
            entries.push(kv);
        }
        Ok(Seen::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Seen, D::Error> {
        d.deserialize_any(SeenVisitor)
    }
}

/// Takes the first map entry only: a visitor that leaves entries unread.
#[derive(Debug, PartialEq)]
struct FirstEntry(Option<(Seen, Seen)>);

impl<'de> Deserialize<'de> for FirstEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<FirstEntry, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FirstEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<FirstEntry, A::Error> {
                Ok(FirstEntry(a.next_entry()?))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(rename = "test.Kind")]
enum Kind {
    Alpha,
    Beta,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Circle(f64),
    Rect { w: i32, h: i32 },
    Dot,
}

/// Field names match the objects `arb_value` makes (`name`, `x`, `y`).
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Default)]
#[serde(rename = "a.A", default)]
struct Loose {
    name: Option<String>,
    x: Option<i64>,
    y: Option<f64>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "test.Message")]
struct Message {
    id: i64,
    small: i8,
    ratio: f32,
    letter: char,
    text: String,
    maybe: Option<String>,
    data: Vec<u8>,
    kind: Kind,
    shape: Shape,
    children: Vec<Loose>,
    counts: HashMap<String, Option<i32>>,
    sorted: BTreeMap<i32, Vec<Kind>>,
    pair: (i32, String),
    unit: (),
}

fn arb_loose() -> impl Strategy<Value = Loose> {
    (
        proptest::option::of(".{0,6}"),
        proptest::option::of(any::<i64>()),
        proptest::option::of((-1000i32..1000).prop_map(f64::from)),
    )
        .prop_map(|(name, x, y)| Loose { name, x, y })
}

fn arb_message() -> impl Strategy<Value = Message> {
    (
        (any::<i64>(), any::<i8>(), -1e6f32..1e6, any::<char>()),
        (any::<String>(), proptest::option::of(".{0,8}")),
        (vec(any::<u8>(), 0..40), any::<bool>(), 0..3u8),
        vec(arb_loose(), 0..4),
        proptest::collection::hash_map(".{0,6}", proptest::option::of(any::<i32>()), 0..4),
        proptest::collection::btree_map(any::<i32>(), vec(any::<bool>(), 0..3), 0..3),
        (any::<i32>(), ".{0,6}"),
    )
        .prop_map(
            |(
                (id, small, ratio, letter),
                (text, maybe),
                (data, k, s),
                children,
                counts,
                sorted,
                pair,
            )| {
                let kind = |b: bool| if b { Kind::Alpha } else { Kind::Beta };
                Message {
                    id,
                    small,
                    ratio,
                    letter,
                    text,
                    maybe,
                    data,
                    kind: kind(k),
                    shape: [Shape::Circle(1.5), Shape::Rect { w: 2, h: -3 }, Shape::Dot]
                        [usize::from(s)]
                    .clone(),
                    children,
                    counts,
                    sorted: sorted
                        .into_iter()
                        .map(|(key, v)| (key, v.into_iter().map(kind).collect()))
                        .collect(),
                    pair,
                    unit: (),
                }
            },
        )
}

/// Every target type, on the same bytes.
fn all_targets_agree(bytes: &[u8]) {
    same_as_value_path::<Seen>(bytes);
    same_as_value_path::<FirstEntry>(bytes);
    same_as_value_path::<Loose>(bytes);
    same_as_value_path::<Option<Vec<Loose>>>(bytes);
    same_as_value_path::<Message>(bytes);
    same_as_value_path::<HashMap<String, Option<i64>>>(bytes);
    same_as_value_path::<BTreeMap<i32, Seen>>(bytes);
    same_as_value_path::<Vec<Option<String>>>(bytes);
    same_as_value_path::<Vec<u8>>(bytes);
    same_as_value_path::<(i32, String)>(bytes);
    same_as_value_path::<String>(bytes);
    same_as_value_path::<char>(bytes);
    same_as_value_path::<i16>(bytes);
    same_as_value_path::<Kind>(bytes);
    same_as_value_path::<Shape>(bytes);
    same_as_value_path::<Value>(bytes);
    assert_eq!(
        from_slice::<IgnoredAny>(bytes).is_ok(),
        via_value::<IgnoredAny>(bytes).is_ok()
    );
}

fn encode(values: &[Value]) -> Vec<u8> {
    let mut enc = Encoder::new();
    for v in values {
        enc.write_value(v).unwrap();
    }
    enc.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_values_map_alike(v in arb_value()) {
        all_targets_agree(&encode(&[v]));
    }

    #[test]
    fn messages_map_alike(m in arb_message(), cut in any::<prop::sample::Index>()) {
        let bytes = to_vec(&m).unwrap();
        prop_assert_eq!(from_slice::<Message>(&bytes).unwrap(), m);
        all_targets_agree(&bytes);
        // Truncated input and a trailing value fail the same way on both paths.
        all_targets_agree(&bytes[..cut.index(bytes.len())]);
        let mut two = bytes.clone();
        two.extend_from_slice(&encode(&[Value::Int(1)]));
        all_targets_agree(&two);
    }

    #[test]
    fn arbitrary_bytes_map_alike(bytes in vec(any::<u8>(), 0..200)) {
        all_targets_agree(&bytes);
    }

    #[test]
    fn scalars_map_alike(v in leaf()) {
        all_targets_agree(&encode(&[v]));
    }
}

#[test]
fn references_and_cycles_still_decode() {
    // A two-element list whose second element is a reference (Q #1) to the first, an object.
    let mut bytes = vec![0x7a, b'C', 0x03, b'a', b'.', b'A', 0x91, 0x04];
    bytes.extend_from_slice(b"name");
    bytes.extend_from_slice(&[0x60, 0x01, b'n', b'Q', 0x91]);
    let list: Vec<Loose> = from_slice(&bytes).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].name.as_deref(), Some("n"));
    all_targets_agree(&bytes);
}

#[test]
fn skip_value_then_read_str_map() {
    // A request body's tail: an argument object, then the attachments.
    let arg = Value::object(
        "a.A",
        vec![("name".into(), "x".into()), ("x".into(), Value::Long(3))],
    );
    let attachments = Value::map(vec![
        ("path".into(), "demo.Greeter".into()),
        ("timeout".into(), "3000".into()),
        ("text".into(), "中文".into()),
    ]);
    let bytes = encode(&[arg.clone(), attachments]);
    let mut dec = Decoder::new(&bytes);
    let raw = dec.skip_value().unwrap();
    assert_eq!(from_slice::<Value>(raw).unwrap(), arg);
    let map = dec.read_str_map().unwrap().unwrap();
    let pairs: Vec<(&str, &str)> = map.iter().map(|(k, v)| (&**k, &**v)).collect();
    assert_eq!(
        pairs,
        [
            ("path", "demo.Greeter"),
            ("timeout", "3000"),
            ("text", "中文")
        ]
    );
    assert!(matches!(map[0].0, std::borrow::Cow::Borrowed(_)));
    assert!(dec.is_at_end());

    // Anything but strings: nothing consumed, read_value reads it.
    let other = Value::map(vec![("n".into(), Value::Int(1))]);
    let bytes = encode(std::slice::from_ref(&other));
    let mut dec = Decoder::new(&bytes);
    assert!(dec.read_str_map().unwrap().is_none());
    assert_eq!(dec.read_value().unwrap(), other);

    // After a skip, references cannot be resolved.
    // [1], then a reference to it.
    let bytes = [0x79, 0x91, b'Q', 0x90];
    let mut dec = Decoder::new(&bytes);
    dec.skip_value().unwrap();
    assert_eq!(
        dec.read_value().unwrap_err().kind(),
        ErrorKind::BadReference
    );
}

/// `skip_value` accepts exactly what `read_value` accepts, and ends where it ends.
fn skip_agrees(bytes: &[u8], limits: Limits) -> std::result::Result<(), TestCaseError> {
    let mut read = Decoder::new(bytes).with_limits(limits);
    let mut skip = Decoder::new(bytes).with_limits(limits);
    let read_ok = read.read_value().is_ok();
    let skipped = skip.skip_value();
    prop_assert_eq!(read_ok, skipped.is_ok(), "{:02x?}", bytes);
    if read_ok {
        prop_assert_eq!(read.position(), skip.position());
    }
    Ok(())
}

/// Lists whose later items refer (`Q`) to earlier containers, some nested deep.
fn with_references() -> impl Strategy<Value = Vec<u8>> {
    (1..6usize, vec(0..4u8, 1..6)).prop_map(|(depth, refs)| {
        // [ [[…[1]…]], Q #k, … ]: containers 0 (outer list) .. depth (innermost).
        let mut bytes = vec![0x78 + refs.len() as u8 + 1];
        bytes.extend(std::iter::repeat_n(0x79, depth));
        bytes.push(0x91);
        for r in refs {
            bytes.extend([b'Q', 0x90 + r]);
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn skip_agrees_with_read_value(bytes in prop_oneof![
        arb_value().prop_map(|v| encode(&[v])),
        with_references(),
        vec(any::<u8>(), 0..120),
    ]) {
        skip_agrees(&bytes, Limits::default())?;
        skip_agrees(&bytes, Limits::default().max_depth(3).max_container_len(3))?;
    }
}

#[test]
fn skipped_references_meet_the_limits() {
    // [[[]], Q #2]: the copy of the innermost list nests one level deeper than 2.
    skip_agrees(
        &[0x7a, 0x78, 0x79, b'Q', 0x91],
        Limits::default().max_depth(2),
    )
    .unwrap();
    // Forty levels of [Q #i, Q #i] double what the references copy each time.
    // Container 0 is the outer list, 1 is [1], item i (container i + 2) refers twice to i + 1.
    let mut bytes = vec![b'X', 0x90 + 41, 0x79, 0x91];
    for i in 1..=40i32 {
        let index = dubbo_hessian2::to_vec(&i).unwrap();
        bytes.extend([0x7a, b'Q']);
        bytes.extend(&index);
        bytes.push(b'Q');
        bytes.extend(&index);
    }
    skip_agrees(&bytes, Limits::default()).unwrap();
    assert_eq!(
        Decoder::new(&bytes).skip_value().unwrap_err().kind(),
        ErrorKind::Limit
    );
}
