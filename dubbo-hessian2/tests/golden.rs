//! Byte-exact vectors from the wire spec (§4.4 and §3.13), produced by a
//! real hessian-lite `Hessian2Output`: each must encode byte-exactly from the
//! right Rust value and decode back to it.

mod common;

use std::collections::HashMap;

use common::{dec, dec_all, enc, hex, hx, s};
use dubbo_hessian2::java::{self, Array, BigDecimal, JavaThrowable, TypedList, TypedMap};
use dubbo_hessian2::{Decoder, Encoder, Value, from_slice, to_vec};
use serde::{Deserialize, Serialize};

fn check_value(v: &Value, spec: &str) {
    let want = hx(spec);
    let got = enc(v);
    assert_eq!(hex(&got), hex(&want), "encoding of {v:?}");
    assert_eq!(&dec(&want), v, "decoding of {spec}");
}

fn check_serde<T>(v: &T, spec: &str)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let want = hx(spec);
    assert_eq!(
        hex(&to_vec(v).unwrap()),
        hex(&want),
        "serde encoding of {v:?}"
    );
    assert_eq!(
        &from_slice::<T>(&want).unwrap(),
        v,
        "serde decoding of {spec}"
    );
}

#[test]
fn ints() {
    let table: &[(i32, &str)] = &[
        (0, "90"),
        (1, "91"),
        (-16, "80"),
        (47, "bf"),
        (48, "c8 30"),
        (-17, "c7 ef"),
        (-2048, "c0 00"),
        (-256, "c7 00"),
        (2047, "cf ff"),
        (-2049, "d3 f7 ff"),
        (2048, "d4 08 00"),
        (-262144, "d0 00 00"),
        (262143, "d7 ff ff"),
        (262144, "49 00 04 00 00"),
        (-262145, "49 ff fb ff ff"),
        (300, "c9 2c"),
        (2147483647, "49 7f ff ff ff"),
        (-2147483648, "49 80 00 00 00"),
    ];
    for (v, spec) in table {
        let mut e = Encoder::new();
        e.write_int(*v);
        assert_eq!(hex(e.as_bytes()), hex(&hx(spec)), "int {v}");
        check_value(&Value::Int(*v), spec);
        check_serde(v, spec);
        check_serde(&i64::from(*v), &hex(&to_vec(&i64::from(*v)).unwrap())); // sanity
        assert_eq!(from_slice::<i64>(&hx(spec)).unwrap(), i64::from(*v));
    }
}

#[test]
fn longs() {
    let table: &[(i64, &str)] = &[
        (0, "e0"),
        (-8, "d8"),
        (15, "ef"),
        (16, "f8 10"),
        (-9, "f7 f7"),
        (-2048, "f0 00"),
        (2047, "ff ff"),
        (2048, "3c 08 00"),
        (262143, "3f ff ff"),
        (262144, "59 00 04 00 00"),
        (300, "f9 2c"),
        (2147483647, "59 7f ff ff ff"),
        (2147483648, "4c 00 00 00 00 80 00 00 00"),
        (-2147483648, "59 80 00 00 00"),
        (-2147483649, "4c ff ff ff ff 7f ff ff ff"),
        (-262144, "38 00 00"),
    ];
    for (v, spec) in table {
        let mut e = Encoder::new();
        e.write_long(*v);
        assert_eq!(hex(e.as_bytes()), hex(&hx(spec)), "long {v}");
        check_value(&Value::Long(*v), spec);
        check_serde(v, spec);
    }
}

#[test]
#[allow(clippy::approx_constant)] // 3.14159 is the spec's vector, not PI
fn doubles() {
    let table: &[(f64, &str)] = &[
        (0.0, "5b"),
        (1.0, "5c"),
        (-1.0, "5d ff"),
        (127.0, "5d 7f"),
        (-128.0, "5d 80"),
        (128.0, "5e 00 80"),
        (32767.0, "5e 7f ff"),
        (-32768.0, "5e 80 00"),
        (32768.0, "5f 01 f4 00 00"),
        (12.25, "5f 00 00 2f da"),
        (0.001, "5f 00 00 00 01"),
        (1.5, "5f 00 00 05 dc"),
        (-0.5, "5f ff ff fe 0c"),
        (0.1, "5f 00 00 00 64"),
        (3.14159, "44 40 09 21 f9 f0 1b 86 6e"),
        (1e10, "44 42 02 a0 5f 20 00 00 00"),
    ];
    for (v, spec) in table {
        let mut e = Encoder::new();
        e.write_double(*v);
        assert_eq!(hex(e.as_bytes()), hex(&hx(spec)), "double {v}");
        check_value(&Value::Double(*v), spec);
        check_serde(v, spec);
    }
    // Java float is written as double.
    assert_eq!(to_vec(&1.5f32).unwrap(), hx("5f 00 00 05 dc"));
}

#[test]
fn strings_binary_dates() {
    check_value(&s(""), "00");
    check_value(&s("hello"), r#"05 "hello""#);
    check_value(&s("\u{00c3}"), "01 c3 83");
    check_value(&s("\u{4e2d}"), "01 e4 b8 ad");
    check_value(&s("\u{1F600}"), "02 ed a0 bd ed b8 80");
    check_value(&s(&"a".repeat(32)), &format!("30 20 {}", "61 ".repeat(32)));
    check_value(
        &s(&"a".repeat(1024)),
        &format!("53 04 00 {}", "61 ".repeat(1024)),
    );
    check_serde(&"hello".to_string(), r#"05 "hello""#);
    check_serde(&'a', "01 61");
    // char[]{'h','i'} is a string
    check_serde(&"hi".to_string(), "02 68 69");

    check_value(&Value::Binary(vec![]), "20");
    check_value(&Value::Binary(vec![1, 2, 3]), "23 01 02 03");
    check_value(
        &Value::Binary(vec![0; 16]),
        &format!("34 10 {}", "00 ".repeat(16)),
    );

    check_value(&Value::Date(894_621_091_000), "4a 00 00 00 d0 4b 92 84 b8");
    check_value(&Value::Date(894_621_060_000), "4b 00 e3 83 8f");
    check_serde(&java::Date(894_621_091_000), "4a 00 00 00 d0 4b 92 84 b8");
    check_serde(&java::Date(894_621_060_000), "4b 00 e3 83 8f");
}

#[test]
fn collections() {
    check_serde(&Array(vec![0i32, 1]), r#"72 04 "[int" 90 91"#);
    check_value(
        &Value::typed_list("[int", vec![0.into(), 1.into()]),
        r#"72 04 "[int" 90 91"#,
    );
    check_serde(&Array(vec![1i64]), r#"71 05 "[long" e1"#);
    check_serde(&Array(vec![true]), r#"71 08 "[boolean" 54"#);
    check_serde(
        &Array(vec!["a".to_string(), "b".to_string()]),
        r#"72 07 "[string" 01 61 01 62"#,
    );
    check_serde(
        &Array(vec![Value::Int(1), s("a")]),
        r#"72 07 "[object" 91 01 61"#,
    );
    check_serde(
        &TypedList::new("[java.lang.Integer", vec![1]),
        r#"71 12 "[java.lang.Integer" 91"#,
    );
    check_serde(&vec![0, 1], "7a 90 91");
    check_value(&Value::list(vec![0.into(), 1.into()]), "7a 90 91");
    check_serde(&Vec::<i32>::new(), "78");
    check_serde(
        &(1..=9).collect::<Vec<i32>>(),
        "58 99 91 92 93 94 95 96 97 98 99",
    );
    check_serde(
        &TypedList::new("java.util.LinkedList", vec![0, 1]),
        r#"72 14 "java.util.LinkedList" 90 91"#,
    );
    check_serde(
        &TypedList::new("java.util.HashSet", vec![1]),
        r#"71 11 "java.util.HashSet" 91"#,
    );
    check_serde(
        &HashMap::from([(1, "fee".to_string())]),
        r#"48 91 03 "fee" 5a"#,
    );
    check_value(
        &Value::map(vec![(1.into(), s("fee"))]),
        r#"48 91 03 "fee" 5a"#,
    );
    check_serde(
        &TypedMap::new(
            "java.util.LinkedHashMap",
            vec![
                (1, "fee".to_string()),
                (16, "fie".to_string()),
                (256, "foe".to_string()),
            ],
        ),
        r#"4d 17 "java.util.LinkedHashMap" 91 03 "fee" a0 03 "fie" c9 00 03 "foe" 5a"#,
    );
    // self-containing ArrayList
    check_value(&Value::list(vec![Value::Ref(0)]), "79 51 90");
}

#[test]
fn shared_map_in_list() {
    let m = Value::map(vec![(s("k"), s("v"))]);
    let bytes = hx(r#"7a 48 01 6b 01 76 5a 51 91"#);
    // Encoding: the second element refers to container #1 (the map).
    assert_eq!(enc(&Value::list(vec![m.clone(), Value::Ref(1)])), bytes);
    // Decoding: a reference to a complete value is a copy of it.
    assert_eq!(dec(&bytes), Value::list(vec![m.clone(), m]));
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "example.Car")]
struct Car {
    model: String,
    color: String,
}

#[test]
fn two_cars_share_class_def() {
    let spec = r#"43 0b 65 78 61 6d 70 6c 65 2e 43 61 72
        92 05 6d 6f 64 65 6c 05 63 6f 6c 6f 72
        60 08 "corvette" 03 "red"
        60 05 "civic" 05 "green""#;
    let a = Car {
        model: "corvette".into(),
        color: "red".into(),
    };
    let b = Car {
        model: "civic".into(),
        color: "green".into(),
    };
    let mut e = Encoder::new();
    e.serialize(&a).unwrap();
    e.serialize(&b).unwrap();
    assert_eq!(hex(e.as_bytes()), hex(&hx(spec)));
    let bytes = hx(spec);
    let mut d = Decoder::new(&bytes);
    assert_eq!(d.deserialize::<Car>().unwrap(), a);
    assert_eq!(d.deserialize::<Car>().unwrap(), b);
    assert!(d.is_at_end());
    let values = dec_all(&bytes);
    assert_eq!(
        values[1],
        Value::object(
            "example.Car",
            vec![("model".into(), s("civic")), ("color".into(), s("green"))]
        )
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "example.Pair")]
struct Pair {
    name: Option<String>,
    id: i32,
}

#[test]
fn pairs() {
    check_serde(
        &Pair {
            name: Some("x".into()),
            id: 7,
        },
        r#"43 0c "example.Pair" 92 04 "name" 02 "id" 60 01 78 97"#,
    );
    check_serde(
        &Pair { name: None, id: 1 },
        r#"43 0c "example.Pair" 92 04 "name" 02 "id" 60 4e 91"#,
    );
    check_serde(
        &TypedList::new(
            "[example.Pair",
            vec![Pair {
                name: Some("a".into()),
                id: 1,
            }],
        ),
        r#"71 0d "[example.Pair" 43 0c "example.Pair" 92 04 "name" 02 "id" 60 01 61 91"#,
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(rename = "example.Color")]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
enum Color {
    RED,
    GREEN,
    BLUE,
}

#[test]
fn enum_constants_become_refs() {
    let spec = r#"43 0d "example.Color" 91 04 "name" 60 03 "RED" 60 05 "GREEN" 60 04 "BLUE" 51 90"#;
    let colors = [Color::RED, Color::GREEN, Color::BLUE, Color::RED];
    let mut e = Encoder::new();
    for c in &colors {
        e.serialize(c).unwrap();
    }
    assert_eq!(hex(e.as_bytes()), hex(&hx(spec)));
    // Same through Value and through java::Enum.
    let mut e = Encoder::new();
    for n in ["RED", "GREEN", "BLUE", "RED"] {
        e.write_value(&Value::enum_constant("example.Color", n))
            .unwrap();
    }
    assert_eq!(hex(e.as_bytes()), hex(&hx(spec)));
    let mut e = Encoder::new();
    for n in ["RED", "GREEN", "BLUE", "RED"] {
        e.serialize(&java::Enum::new("example.Color", n)).unwrap();
    }
    assert_eq!(hex(e.as_bytes()), hex(&hx(spec)));

    let bytes = hx(spec);
    let mut d = Decoder::new(&bytes);
    for c in &colors {
        assert_eq!(d.deserialize::<Color>().unwrap(), *c);
    }
    let mut d = Decoder::new(&bytes);
    for n in ["RED", "GREEN", "BLUE", "RED"] {
        assert_eq!(
            d.deserialize::<java::Enum>().unwrap(),
            java::Enum::new("example.Color", n)
        );
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "java.sql.Timestamp")]
struct Timestamp {
    value: java::Date,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "java.util.UUID")]
struct Uuid {
    value: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "com.alibaba.com.caucho.hessian.io.java8.LocalDateHandle")]
struct LocalDateHandle {
    day: i32,
    month: i32,
    year: i32,
}

#[test]
fn value_objects() {
    check_serde(
        &BigDecimal("1.50".into()),
        r#"43 14 "java.math.BigDecimal" 91 05 "value" 60 04 "1.50""#,
    );
    check_serde(
        &Timestamp {
            value: java::Date(0),
        },
        r#"43 12 "java.sql.Timestamp" 91 05 "value" 60 4b 00 00 00 00"#,
    );
    check_serde(
        &Uuid {
            value: "00000000-0000-0000-0000-000000000001".into(),
        },
        r#"43 0e "java.util.UUID" 91 05 "value" 60 30 24 "00000000-0000-0000-0000-000000000001""#,
    );
    check_serde(
        &LocalDateHandle {
            day: 2,
            month: 1,
            year: 2024,
        },
        r#"43 30 37 "com.alibaba.com.caucho.hessian.io.java8.LocalDateHandle"
           93 03 "day" 05 "month" 04 "year" 60 92 91 cf e8"#,
    );
}

#[test]
fn generic_invoke_args() {
    let spec = r#"08 "sayHello" 71 07 "[string" 10 "java.lang.String" 71 07 "[object" 05 "world""#;
    let mut e = Encoder::new();
    e.write_string("sayHello");
    e.serialize(&Array(vec!["java.lang.String".to_string()]))
        .unwrap();
    e.serialize(&Array(vec![Value::from("world")])).unwrap();
    assert_eq!(hex(e.as_bytes()), hex(&hx(spec)));

    let bytes = hx(spec);
    let mut d = Decoder::new(&bytes);
    assert_eq!(d.deserialize::<String>().unwrap(), "sayHello");
    assert_eq!(
        d.deserialize::<Vec<String>>().unwrap(),
        vec!["java.lang.String"]
    );
    assert_eq!(
        d.read_value().unwrap(),
        Value::typed_list("[object", vec![s("world")])
    );
    assert!(d.is_at_end());

    // generic POJO map
    let pojo = r#"48 05 "class" 0c "example.Pair" 5a"#;
    check_serde(
        &HashMap::from([("class".to_string(), "example.Pair".to_string())]),
        pojo,
    );
}

// ----------------------------------------------------------------------------
// §3.13 Dubbo2 bodies

fn attachments(pairs: &[(&str, &str)]) -> Value {
    Value::map(pairs.iter().map(|(k, v)| (s(k), s(v))).collect())
}

#[test]
fn dubbo2_request_body() {
    let frame = hx(r#"da bb c2 00  00 00 00 00 00 00 00 01  00 00 00 7e
        05 32 2e 30 2e 32
        0c 64 65 6d 6f 2e 47 72 65 65 74 65 72
        05 30 2e 30 2e 30
        05 67 72 65 65 74
        12 4c 6a 61 76 61 2f 6c 61 6e 67 2f 53 74 72 69 6e 67 3b
        05 77 6f 72 6c 64
        48
          04 70 61 74 68  0c "demo.Greeter"
          09 69 6e 74 65 72 66 61 63 65  0c "demo.Greeter"
          07 76 65 72 73 69 6f 6e  05 "0.0.0"
          07 74 69 6d 65 6f 75 74  04 33 30 30 30
        5a"#);
    let body = &frame[16..];
    assert_eq!(body.len(), 0x7e);

    let att = attachments(&[
        ("path", "demo.Greeter"),
        ("interface", "demo.Greeter"),
        ("version", "0.0.0"),
        ("timeout", "3000"),
    ]);
    let mut e = Encoder::new();
    for f in [
        "2.0.2",
        "demo.Greeter",
        "0.0.0",
        "greet",
        "Ljava/lang/String;",
        "world",
    ] {
        e.write_string(f);
    }
    e.write_value(&att).unwrap();
    assert_eq!(hex(e.as_bytes()), hex(body));

    let mut d = Decoder::new(body);
    assert_eq!(d.read_string().unwrap().as_deref(), Some("2.0.2"));
    assert_eq!(d.read_string().unwrap().as_deref(), Some("demo.Greeter"));
    assert_eq!(d.read_string().unwrap().as_deref(), Some("0.0.0"));
    assert_eq!(d.read_string().unwrap().as_deref(), Some("greet"));
    assert_eq!(
        d.read_string().unwrap().as_deref(),
        Some("Ljava/lang/String;")
    );
    assert_eq!(d.deserialize::<String>().unwrap(), "world");
    let map: HashMap<String, String> = d.deserialize().unwrap();
    assert_eq!(map["timeout"], "3000");
    assert_eq!(map.len(), 4);
    assert!(d.is_at_end());
    assert_eq!(dec_all(body)[6], att);
}

#[test]
fn dubbo2_response_bodies() {
    let frame = hx(r#"da bb 02 14  00 00 00 00 00 00 00 01  00 00 00 1b
        94  0b 68 65 6c 6c 6f 20 77 6f 72 6c 64  48 05 64 75 62 62 6f 05 32 2e 30 2e 32 5a"#);
    let body = &frame[16..];
    assert_eq!(body.len(), 0x1b);
    let mut e = Encoder::new();
    e.write_int(4);
    e.serialize("hello world").unwrap();
    e.write_value(&attachments(&[("dubbo", "2.0.2")])).unwrap();
    assert_eq!(hex(e.as_bytes()), hex(body));
    let v = dec_all(body);
    assert_eq!(
        v,
        vec![
            Value::Int(4),
            s("hello world"),
            attachments(&[("dubbo", "2.0.2")])
        ]
    );

    // old peer: no attachments
    let mut e = Encoder::new();
    e.write_int(1);
    e.write_string("hello world");
    assert_eq!(hex(e.as_bytes()), hex(&hx(r#"91 0b "hello world""#)));

    // heartbeat body: serialized null
    let mut e = Encoder::new();
    e.write_null();
    assert_eq!(e.as_bytes(), [0x4e]);
    assert_eq!(dec(&[0x4e]), Value::Null);
    assert_eq!(from_slice::<Option<String>>(&[0x4e]).unwrap(), None);

    // status 40 error body: one string
    let frame = hx(
        r#"da bb 02 28 00 00 00 00 00 00 00 03 00 00 00 22 30 20 "Fail to decode request due to: x""#,
    );
    let body = &frame[16..];
    assert_eq!(body.len(), 0x22);
    assert_eq!(to_vec("Fail to decode request due to: x").unwrap(), body);
    assert_eq!(
        from_slice::<String>(body).unwrap(),
        "Fail to decode request due to: x"
    );

    // read-only event body "R"
    assert_eq!(to_vec("R").unwrap(), [0x01, 0x52]);
    // Triple wrapper payloads
    assert_eq!(to_vec("world").unwrap(), hx(r#"05 "world""#));
}

#[test]
fn dubbo2_exception_body() {
    let body = hx(r#"93 43 1a "java.lang.RuntimeException" 94
           14 "suppressedExceptions" 0a "stackTrace" 05 "cause" 0d "detailMessage"
        60 70 1f "java.util.Collections$EmptyList"
           70 1c "[java.lang.StackTraceElement"
           51 90
           04 "boom"
        48 05 "dubbo" 05 "2.0.2" 5a"#);
    let exc = JavaThrowable::runtime_exception("boom");
    let mut e = Encoder::new();
    e.write_int(3);
    e.serialize(&exc).unwrap();
    e.write_value(&attachments(&[("dubbo", "2.0.2")])).unwrap();
    assert_eq!(hex(e.as_bytes()), hex(&body));

    let mut d = Decoder::new(&body);
    assert_eq!(d.read_long().unwrap(), 3);
    let got: JavaThrowable = d.deserialize().unwrap();
    assert_eq!(got, exc);
    assert_eq!(got.class_name, "java.lang.RuntimeException");
    assert_eq!(got.message(), Some("boom"));
    assert!(got.cause.is_none());
    let att: HashMap<String, String> = d.deserialize().unwrap();
    assert_eq!(att["dubbo"], "2.0.2");
    assert!(d.is_at_end());

    // As a dynamic value the self-cause is a cyclic reference to container #0.
    let v = dec_all(&body);
    let obj = &v[1];
    assert_eq!(obj.class_name(), Some("java.lang.RuntimeException"));
    assert_eq!(obj.get("cause"), Some(&Value::Ref(0)));
    assert_eq!(
        obj.get("suppressedExceptions"),
        Some(&Value::typed_list(
            "java.util.Collections$EmptyList",
            vec![]
        ))
    );
    // and re-encoding that value reproduces the bytes
    let mut e = Encoder::new();
    for x in &v {
        e.write_value(x).unwrap();
    }
    assert_eq!(hex(e.as_bytes()), hex(&body));
}

#[test]
fn same_map_twice_in_one_stream() {
    // §4.2.12: writing the same map twice gives `48 … 5a 51 90`.
    let m = attachments(&[("a", "b")]);
    let mut e = Encoder::new();
    let idx = e.next_ref_index();
    e.write_value(&m).unwrap();
    e.write_ref(idx).unwrap();
    let bytes = e.into_bytes();
    assert_eq!(hex(&bytes), hex(&hx(r#"48 01 "a" 01 "b" 5a 51 90"#)));
    assert_eq!(dec_all(&bytes), vec![m.clone(), m]);
}

#[test]
fn second_car_in_later_write_reuses_def() {
    let mut e = Encoder::new();
    e.write_string("x");
    e.serialize(&Car {
        model: "a".into(),
        color: "b".into(),
    })
    .unwrap();
    let n = e.len();
    e.serialize(&Car {
        model: "c".into(),
        color: "d".into(),
    })
    .unwrap();
    assert_eq!(e.as_bytes()[n], 0x60);
}
