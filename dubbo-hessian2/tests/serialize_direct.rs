//! `Encoder::serialize` writes most types without building a `Value` tree.
//! Whatever path it takes, the result must be exactly that of
//! `write_value(&to_value(x)?)`: the same bytes, the same error, and the same
//! table state afterwards (class definitions, type names, enum references,
//! reference numbering).

mod common;

use std::collections::{BTreeMap, HashMap};

use common::hex;
use dubbo_hessian2::java::{self, JavaThrowable, StackTraceElement};
use dubbo_hessian2::{Encoder, Value, to_value};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};

/// `serialize_bytes` for a `Vec<u8>` field.
mod bytes {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
}

/// Writes `prefix` and then `value` three times into two encoders — one
/// with `serialize`, one with `to_value` + `write_value` — and compares the
/// outcome after every step, then probes the tables with more values.
fn check_in<T: Serialize + ?Sized>(enum_refs: bool, prefix: &[Value], value: &T) {
    let mut direct = Encoder::new();
    let mut reference = Encoder::new();
    direct.set_enum_refs(enum_refs);
    reference.set_enum_refs(enum_refs);
    for p in prefix {
        direct.write_value(p).unwrap();
        reference.write_value(p).unwrap();
    }
    for round in 0..3 {
        let a = direct.serialize(value).map_err(|e| format!("{e:?}"));
        let b = to_value(value)
            .and_then(|v| reference.write_value(&v))
            .map_err(|e| format!("{e:?}"));
        assert_eq!(a, b, "result, round {round}");
        if a.is_err() {
            // After an error the state is unspecified; both paths agree
            // anyway, but there is nothing more to compare usefully.
            return;
        }
        assert_eq!(
            hex(direct.as_bytes()),
            hex(reference.as_bytes()),
            "bytes, round {round}"
        );
        assert_eq!(direct.next_ref_index(), reference.next_ref_index());
    }
    // The tables must agree too: write values that hit them.
    let probe = Value::list(vec![
        Value::enum_constant("test.Color", "RED"),
        Value::typed_list("[int", vec![]),
        Value::object("test.Inner", vec![("a".into(), Value::Int(1))]),
    ]);
    let again = to_value(value).unwrap();
    for enc in [&mut direct, &mut reference] {
        enc.write_value(&probe).unwrap();
        enc.write_value(&again).unwrap();
    }
    assert_eq!(hex(direct.as_bytes()), hex(reference.as_bytes()), "probe");
}

fn check<T: Serialize + ?Sized>(value: &T) {
    let prefixes = [
        vec![],
        vec![
            Value::from("2.0.2"),
            Value::enum_constant("test.Color", "RED"),
            Value::typed_map("java.util.TreeMap", vec![]),
            Value::object("test.Other", vec![("x".into(), Value::Null)]),
        ],
    ];
    for enum_refs in [true, false] {
        for prefix in &prefixes {
            check_in(enum_refs, prefix, value);
        }
    }
}

#[derive(Serialize, Clone, Default, Debug)]
#[serde(rename = "test.Inner")]
struct Inner {
    a: i32,
    b: Option<String>,
    #[serde(with = "bytes")]
    c: Vec<u8>,
}

#[derive(Serialize, Clone, Copy, Debug)]
#[serde(rename = "test.Color")]
enum Color {
    #[serde(rename = "RED")]
    Red,
    #[serde(rename = "GREEN")]
    Green,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename = "test.Shape")]
enum Shape {
    Circle(f64),
    Rect(i32, i32),
    Named { name: String, sides: u8 },
    Dot,
    Wrapped(Inner),
    Colors(Vec<Color>),
}

/// A `java.util.Date` in this crate's serde form, without the helper type.
#[derive(Clone, Copy, Debug)]
struct RawDate(i64);
impl Serialize for RawDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("$hessian2::Date", &self.0)
    }
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename = "test.Outer", rename_all = "camelCase")]
struct Outer {
    inner: Inner,
    list: Vec<Inner>,
    next: Option<Box<Outer>>,
    map: BTreeMap<String, Inner>,
    color: Color,
    colors: Vec<Color>,
    shape: Shape,
    tuple: (i32, String, ()),
    f: f32,
    d: f64,
    big: u64,
    small: u32,
    ch: char,
    date: java::Date,
    raw_date: RawDate,
    decimal: java::BigDecimal,
    error: Option<JavaThrowable>,
    value: Value,
    unit: Unit,
    pair: Pair,
    wrapper: Wrapper,
}

#[derive(Serialize, Clone, Copy, Debug)]
struct Unit;

#[derive(Serialize, Clone, Debug)]
struct Pair(i32, String);

#[derive(Serialize, Clone, Debug)]
struct Wrapper(Inner);

/// Protobuf well-known-type adapters as dubbo-runtime maps them.
#[derive(Serialize, Clone, Default, Debug)]
#[serde(rename = "com.google.protobuf.Timestamp", default)]
struct TimestampRepr {
    seconds: i64,
    nanos: i32,
}

#[derive(Serialize, Clone, Default, Debug)]
#[serde(rename = "com.google.protobuf.Any", rename_all = "camelCase", default)]
struct AnyRepr {
    type_url: String,
    #[serde(with = "bytes")]
    value: Vec<u8>,
}

#[derive(Serialize, Clone, Default, Debug)]
#[serde(rename = "com.google.protobuf.FieldMask", default)]
struct FieldMaskRepr {
    paths: Vec<String>,
}

/// `google.protobuf.Value`-like dynamic JSON (maps, lists, unit, numbers).
#[derive(Clone, Debug)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Bool(bool),
    Obj(BTreeMap<String, Json>),
    List(Vec<Json>),
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Num(n) => s.serialize_f64(*n),
            Json::Str(v) => s.serialize_str(v),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Obj(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Json::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

/// A dubbo-build style generated message (oneof, bytes, WKT, map).
#[derive(Serialize, Clone, Default, Debug)]
#[serde(
    rename = "org.apache.dubbo.sample.HelloReply",
    rename_all = "camelCase",
    default
)]
struct HelloReply {
    message: String,
    #[serde(with = "bytes")]
    payload: Vec<u8>,
    timestamp: Option<TimestampRepr>,
    tags: HashMap<String, String>,
    kind: Option<Kind>,
    any: Option<AnyRepr>,
    mask: Option<FieldMaskRepr>,
    json: Option<Json>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
enum Kind {
    Text(String),
    Number(i64),
    Nested(Box<HelloReply>),
}

#[derive(Serialize)]
#[serde(rename = "test.Sparse")]
struct Sparse {
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<i32>,
    z: i32,
}

#[derive(Serialize)]
#[serde(rename = "test.Named")]
struct Named {
    name: String,
}

#[derive(Serialize)]
#[serde(rename = "test.Named")]
struct NamedOpt {
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename = "test.Same")]
struct Same1 {
    x: i32,
}

#[derive(Serialize)]
#[serde(rename = "test.Same")]
struct Same2 {
    y: String,
}

#[derive(Serialize)]
#[serde(rename = "test.Empty")]
struct Empty {}

#[derive(Serialize)]
#[serde(rename = "test.Flat")]
struct Flat {
    a: i32,
    #[serde(flatten)]
    rest: BTreeMap<String, i32>,
}

#[derive(Serialize)]
#[serde(rename = "test.Tagged", tag = "type")]
enum Tagged {
    A { x: i32 },
    B(Inner),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Untagged {
    S(String),
    In(Inner),
}

/// A struct that swallows the error of its first field.
struct Swallow;
impl Serialize for Swallow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("test.Swallow", 2)?;
        let _ = st.serialize_field("a", &u128::MAX);
        st.serialize_field("b", &1)?;
        st.end()
    }
}

/// Fails with a custom error halfway through.
struct Fails;
impl Serialize for Fails {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(2))?;
        q.serialize_element(&1)?;
        Err(serde::ser::Error::custom("custom failure"))
    }
}

/// A sequence without a length hint.
struct Unsized(Vec<i32>);
impl Serialize for Unsized {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().filter(|_| true))
    }
}

/// A sequence that announces a wrong length.
struct Liar(usize, Vec<i32>);
impl Serialize for Liar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0))?;
        for x in &self.1 {
            q.serialize_element(x)?;
        }
        q.end()
    }
}

/// Misused maps: a dangling key, two keys in a row, a value without key.
struct OddMap(u8);
impl Serialize for OddMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            0 => m.serialize_key("k")?,
            1 => {
                m.serialize_key("k1")?;
                m.serialize_key("k2")?;
                m.serialize_value(&1)?;
            }
            2 => m.serialize_value(&1)?,
            _ => {
                m.serialize_entry(&'$', &1)?;
                m.serialize_entry("$class", &"x")?;
            }
        }
        m.end()
    }
}

/// The self-reference marker (as `java::JavaThrowable` uses it).
struct ThisRef;
impl Serialize for ThisRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("$hessian2::This", &())
    }
}

#[derive(Serialize)]
#[serde(rename = "test.SelfRefs")]
struct SelfRefs {
    me: ThisRef,
    list: Vec<Option<ThisRef>>,
    child: Option<Box<SelfRefs>>,
    shape: Shape,
}

/// Nested sequences.
struct Deep(usize);
impl Serialize for Deep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 == 0 {
            return s.serialize_i32(1);
        }
        let mut q = s.serialize_seq(Some(1))?;
        q.serialize_element(&Deep(self.0 - 1))?;
        q.end()
    }
}

fn inner(a: i32) -> Inner {
    Inner {
        a,
        b: (a % 2 == 0).then(|| format!("b{a}")),
        c: vec![a as u8; (a as usize) % 5],
    }
}

fn throwable() -> JavaThrowable {
    let mut t = JavaThrowable::new("java.lang.IllegalStateException", Some("boom".into()))
        .with_cause(JavaThrowable::runtime_exception("inner"));
    t.stack_trace.push(StackTraceElement {
        declaring_class: "a.B".into(),
        method_name: "m".into(),
        file_name: Some("B.java".into()),
        line_number: 7,
        ..Default::default()
    });
    t
}

fn outer(depth: usize) -> Outer {
    Outer {
        inner: inner(1),
        list: vec![inner(2), inner(3)],
        next: (depth > 0).then(|| Box::new(outer(depth - 1))),
        map: [("k".to_owned(), inner(4))].into(),
        color: Color::Red,
        colors: vec![Color::Green, Color::Red, Color::Green],
        shape: Shape::Named {
            name: "tri".into(),
            sides: 3,
        },
        tuple: (5, "five".into(), ()),
        f: 1.5,
        d: 0.001,
        big: 1 << 40,
        small: 7,
        ch: '😀',
        date: java::Date(894_621_060_000),
        raw_date: RawDate(1),
        decimal: java::BigDecimal("1.50".into()),
        error: (depth % 2 == 0).then(throwable),
        value: Value::list(vec![
            Value::enum_constant("test.Color", "RED"),
            Value::Ref(0),
        ]),
        unit: Unit,
        pair: Pair(1, "p".into()),
        wrapper: Wrapper(inner(6)),
    }
}

#[test]
fn structs_enums_and_nesting() {
    check(&inner(1));
    check(&Inner::default());
    check(&outer(0));
    check(&outer(3));
    check(&vec![outer(1), outer(2)]);
    check(&Wrapper(inner(2)));
    check(&Pair(3, "x".into()));
    check(&Unit);
    check(&Empty {});
    check(&[Color::Red, Color::Green, Color::Red]);
    for shape in [
        Shape::Circle(2.5),
        Shape::Rect(1, 2),
        Shape::Dot,
        Shape::Wrapped(inner(3)),
        Shape::Colors(vec![Color::Red, Color::Red]),
    ] {
        check(&shape);
    }
    check(&SelfRefs {
        me: ThisRef,
        list: vec![Some(ThisRef), None],
        child: Some(Box::new(SelfRefs {
            me: ThisRef,
            list: vec![],
            child: None,
            shape: Shape::Dot,
        })),
        shape: Shape::Circle(1.0),
    });
}

#[test]
fn generated_messages_and_wkt_adapters() {
    let mut reply = HelloReply {
        message: "hi".into(),
        payload: vec![1, 2, 3],
        timestamp: Some(TimestampRepr {
            seconds: 5,
            nanos: 6,
        }),
        tags: [("a".to_owned(), "b".to_owned())].into(),
        kind: Some(Kind::Text("t".into())),
        any: Some(AnyRepr {
            type_url: "type.googleapis.com/x".into(),
            value: vec![9; 20],
        }),
        mask: Some(FieldMaskRepr {
            paths: vec!["a.b".into(), "c".into()],
        }),
        json: Some(Json::Obj(
            [
                ("n".to_owned(), Json::Num(1.0)),
                (
                    "l".to_owned(),
                    Json::List(vec![Json::Null, Json::Bool(true)]),
                ),
                ("s".to_owned(), Json::Str("x".into())),
            ]
            .into(),
        )),
    };
    check(&reply);
    check(&HelloReply::default());
    reply.kind = Some(Kind::Nested(Box::default()));
    check(&reply);
    reply.kind = Some(Kind::Number(-1));
    check(&reply);
    check(&TimestampRepr::default());
    // A JSON object whose first key is reserved.
    check(&Json::Obj([("$map".to_owned(), Json::Null)].into()));
}

#[test]
fn java_helpers() {
    check(&throwable());
    check(&JavaThrowable::runtime_exception("x"));
    check(&java::Date(60_000));
    check(&java::BigDecimal("3".into()));
    check(&java::Enum::new("test.Color", "RED"));
    check(&vec![
        java::Enum::new("test.Color", "RED"),
        java::Enum::new("test.Color", "RED"),
    ]);
    check(&java::TypedList::new("java.util.LinkedList", vec![1, 2, 3]));
    check(&java::Array(vec!["a".to_owned(), "b".to_owned()]));
    check(&java::Array(vec![1i32, 2]));
    check(&java::TypedMap::new(
        "java.util.TreeMap",
        vec![(1, "x"), (2, "y")],
    ));
}

#[test]
fn scalars_strings_bytes() {
    check(&(1u8, 2i16, 3u16, 4u32, 5i64, 1.5f32, true, ()));
    check(&(
        i8::MIN,
        i16::MIN,
        i32::MIN,
        i64::MIN,
        u8::MAX,
        u16::MAX,
        u32::MAX,
    ));
    check(&(f64::NAN, -0.0f64, f64::INFINITY, 1e300, 0.5f32));
    check(&Some(Some(())));
    check(&None::<i32>);
    check(&'😀');
    check(&'\0');
    check(&"");
    check(&"x".repeat(70_000));
    check(&"é".repeat(40_000));
    check(&"😀".repeat(20_000));
    check(&-5i128);
    check(&(u128::from(u64::MAX) >> 1));
    check(&serde_bytes_like(vec![3; 10_000]));
    check(&serde_bytes_like(vec![]));
    check(&vec![1u8, 2, 3]); // a list of ints, not binary
}

/// Errors are the same as the `Value` path's.
#[test]
fn errors() {
    check(&u64::MAX);
    check(&i128::MIN);
    check(&u128::MAX);
    check(&Fails);
    check(&[Fails, Fails]);
    check(&ThisRef);
    check(&vec![ThisRef]);
    check(&Deep(1023));
    check(&Deep(1024));
    check(&Deep(1025));
    check(&vec![(inner(1), Deep(1100))]);
    struct BadDate;
    impl Serialize for BadDate {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_newtype_struct("$hessian2::Date", "soon")
        }
    }
    check(&BadDate);
    check(&BTreeMap::from([("$class", 1)]));
    check(&BTreeMap::from([("$ref", u64::MAX)]));
    check(&BTreeMap::from([("$date", "x")]));
}

#[test]
fn maps_and_reserved_keys() {
    check(&BTreeMap::<String, i32>::new());
    check(&BTreeMap::from([("a", 1), ("b", 2)]));
    check(&BTreeMap::from([((1, 2), "tuple key")]));
    check(&BTreeMap::from([(3, inner(1))]));
    check(&HashMap::from([("k".to_owned(), vec![Some(1), None])]));
    // a reserved first key makes the map an object / list / map / date / ref
    check(&BTreeMap::from([("$class", "a.B"), ("f", "v")]));
    check(&BTreeMap::from([("$list", "[int"), ("$items", "x")]));
    check(&BTreeMap::from([("$map", "java.util.TreeMap"), ("k", "v")]));
    check(&BTreeMap::from([("$date", 60_000)]));
    check(&vec![BTreeMap::from([("$ref", 0)])]);
    // only the first key is special
    check(&BTreeMap::from([("!", "x"), ("$class", "a.B")]));
    check(&BTreeMap::from([("$items", "x")]));
    for i in 0..4 {
        check(&OddMap(i));
    }
}

#[test]
fn unusual_serialize_impls() {
    check(&Sparse {
        x: Some(1),
        y: None,
        z: 3,
    });
    check(&Sparse {
        x: None,
        y: Some(2),
        z: 3,
    });
    check(&Sparse {
        x: None,
        y: None,
        z: 3,
    });
    check(&Sparse {
        x: Some(1),
        y: Some(2),
        z: 3,
    });
    // a struct whose only field is `name` looks like an enum constant
    check(&Named { name: "RED".into() });
    check(&vec![
        Named { name: "RED".into() },
        Named { name: "RED".into() },
    ]);
    check(&NamedOpt { name: None });
    check(&NamedOpt {
        name: Some("RED".into()),
    });
    // two types with one serde name
    check(&(Same1 { x: 1 }, Same2 { y: "s".into() }, Same1 { x: 2 }));
    check(&Flat {
        a: 1,
        rest: [("b".to_owned(), 2)].into(),
    });
    check(&Tagged::A { x: 1 });
    check(&Tagged::B(inner(1)));
    check(&Untagged::In(inner(1)));
    check(&Untagged::S("s".into()));
    check(&Swallow);
    check(&Unsized(vec![1, 2, 3]));
    check(&Liar(3, vec![1, 2]));
    check(&Liar(1, vec![1, 2]));
}

/// More distinct struct shapes than the per-thread memory holds.
#[test]
fn many_struct_shapes() {
    struct Dynamic(&'static str, &'static [&'static str]);
    impl Serialize for Dynamic {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct(self.0, self.1.len())?;
            for (i, f) in self.1.iter().enumerate() {
                st.serialize_field(f, &i)?;
            }
            st.end()
        }
    }
    let fields: &'static [&'static str] = &["a", "b", "c"];
    let all: Vec<Dynamic> = (0..600)
        .map(|i| {
            let name: &'static str = Box::leak(format!("test.Dyn{i}").into_boxed_str());
            Dynamic(name, &fields[..i % 4])
        })
        .collect();
    for round in 0..2 {
        for d in &all {
            check_in(true, &[], d);
        }
        let _ = round;
    }
    check_in(false, &[], &all);
}

fn serde_bytes_like(v: Vec<u8>) -> impl Serialize {
    struct B(Vec<u8>);
    impl Serialize for B {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
    B(v)
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{0,12}",
        ".{0,12}",
        Just("$class".to_owned()),
        Just("$map".to_owned()),
    ]
}

fn arb_inner() -> impl Strategy<Value = Inner> {
    (
        any::<i32>(),
        proptest::option::of(arb_string()),
        vec(any::<u8>(), 0..20),
    )
        .prop_map(|(a, b, c)| Inner { a, b, c })
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<f64>().prop_map(Json::Num),
        arb_string().prop_map(Json::Str),
        any::<bool>().prop_map(Json::Bool),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::btree_map(arb_string(), inner.clone(), 0..4).prop_map(Json::Obj),
            vec(inner, 0..4).prop_map(Json::List),
        ]
    })
}

fn arb_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        any::<f64>().prop_map(Shape::Circle),
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| Shape::Rect(a, b)),
        (arb_string(), any::<u8>()).prop_map(|(name, sides)| Shape::Named { name, sides }),
        Just(Shape::Dot),
        arb_inner().prop_map(Shape::Wrapped),
        vec(prop_oneof![Just(Color::Red), Just(Color::Green)], 0..4).prop_map(Shape::Colors),
    ]
}

fn arb_reply() -> impl Strategy<Value = HelloReply> {
    (
        arb_string(),
        vec(any::<u8>(), 0..20),
        proptest::option::of((any::<i64>(), any::<i32>())),
        proptest::collection::hash_map(arb_string(), arb_string(), 0..3),
        proptest::option::of(prop_oneof![
            arb_string().prop_map(Kind::Text),
            any::<i64>().prop_map(Kind::Number),
        ]),
        proptest::option::of(arb_json()),
    )
        .prop_map(|(message, payload, ts, tags, kind, json)| HelloReply {
            message,
            payload,
            timestamp: ts.map(|(seconds, nanos)| TimestampRepr { seconds, nanos }),
            tags,
            kind,
            any: None,
            mask: None,
            json,
        })
}

fn arb_leaf_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::Int),
        any::<i64>().prop_map(Value::Long),
        any::<f64>().prop_map(Value::Double),
        arb_string().prop_map(Value::String),
        vec(any::<u8>(), 0..10).prop_map(Value::Binary),
        any::<i64>().prop_map(Value::Date),
        (0usize..6).prop_map(Value::Ref),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let name = prop_oneof![Just("name".to_owned()), Just("a".to_owned()), arb_string()];
    arb_leaf_value().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::list),
            vec(inner.clone(), 0..3).prop_map(|i| Value::typed_list("[int", i)),
            vec((inner.clone(), inner.clone()), 0..4).prop_map(Value::map),
            vec((arb_string().prop_map(Value::String), inner.clone()), 0..4)
                .prop_map(|e| Value::typed_map("java.util.TreeMap", e)),
            vec((name.clone(), inner.clone()), 0..3).prop_map(|f| Value::object("a.A", f)),
            (prop_oneof![Just("RED"), Just("GREEN")])
                .prop_map(|n| Value::enum_constant("test.Color", n)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_structs(inners in vec(arb_inner(), 0..4), shape in arb_shape(), reply in arb_reply()) {
        check(&inners);
        check(&shape);
        check(&reply);
        check(&(shape, reply, inners));
    }

    #[test]
    fn random_json(j in arb_json()) {
        check(&j);
    }

    /// `Value`'s own `Serialize` impl goes through the direct serializer too
    /// (lists, untyped maps and scalars directly, the rest via `Value`).
    #[test]
    fn random_values(v in arb_value(), w in arb_value()) {
        check(&v);
        check(&vec![v, w]);
    }
}
