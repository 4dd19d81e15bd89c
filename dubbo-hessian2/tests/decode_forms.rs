//! Decoding of every alternative form a peer may legally send (non-shortest
//! numbers, other chunkings, variable-length containers, type and value
//! references, other field orders).

mod common;

use std::collections::HashMap;

use common::{dec, dec_all, hx, s};
use dubbo_hessian2::{Decoder, ErrorKind, Value, from_slice};
use serde::Deserialize;

#[test]
fn non_shortest_ints_and_longs() {
    for spec in ["91", "c8 01", "d4 00 01", "49 00 00 00 01"] {
        assert_eq!(dec(&hx(spec)), Value::Int(1), "{spec}");
        assert_eq!(from_slice::<i64>(&hx(spec)).unwrap(), 1, "{spec}");
        assert_eq!(from_slice::<u8>(&hx(spec)).unwrap(), 1, "{spec}");
    }
    for spec in [
        "e1",
        "f8 01",
        "3c 00 01",
        "59 00 00 00 01",
        "4c 00 00 00 00 00 00 00 01",
    ] {
        assert_eq!(dec(&hx(spec)), Value::Long(1), "{spec}");
        assert_eq!(from_slice::<i32>(&hx(spec)).unwrap(), 1, "{spec}");
    }
    // negative compact forms
    assert_eq!(dec(&hx("c0 00")), Value::Int(-2048));
    assert_eq!(dec(&hx("d0 00 00")), Value::Int(-262144));
    assert_eq!(dec(&hx("38 00 00")), Value::Long(-262144));
    assert_eq!(dec(&hx("f0 00")), Value::Long(-2048));
    // a long too big for i32 is refused for an i32 target
    let e = from_slice::<i32>(&hx("4c 00 00 00 01 00 00 00 00")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Type);
}

#[test]
fn all_double_forms() {
    for spec in [
        "5c",
        "5d 01",
        "5e 00 01",
        "5f 00 00 03 e8",
        "44 3f f0 00 00 00 00 00 00",
    ] {
        assert_eq!(dec(&hx(spec)), Value::Double(1.0), "{spec}");
        assert_eq!(from_slice::<f32>(&hx(spec)).unwrap(), 1.0, "{spec}");
    }
    assert_eq!(dec(&hx("44 40 28 80 00 00 00 00 00")), Value::Double(12.25));
    // 5f is thousandths, not an IEEE float: 0x3fc00000 mills
    assert_eq!(dec(&hx("5f 3f c0 00 00")), Value::Double(1069547.52));
    assert_eq!(dec(&hx("5e 80 00")), Value::Double(-32768.0));
    assert_eq!(dec(&hx("5d 80")), Value::Double(-128.0));
    // ints into doubles and integral doubles into ints
    assert_eq!(from_slice::<f64>(&hx("c9 2c")).unwrap(), 300.0);
    assert_eq!(from_slice::<i32>(&hx("5e 01 00")).unwrap(), 256);
    assert!(from_slice::<i32>(&hx("5f 00 00 05 dc")).is_err());
}

#[test]
fn dates() {
    // a whole minute may also come in the ms form
    let ms = 894_621_060_000i64;
    let mut bytes = vec![0x4a];
    bytes.extend_from_slice(&ms.to_be_bytes());
    assert_eq!(dec(&bytes), Value::Date(ms));
    assert_eq!(dec(&hx("4b ff ff ff ff")), Value::Date(-60_000));
    assert_eq!(from_slice::<i64>(&hx("4b 00 00 00 01")).unwrap(), 60_000);
}

#[test]
fn chunked_strings() {
    assert_eq!(dec(&hx(r#"52 00 01 "a" 52 00 02 "bc" 01 "d""#)), s("abcd"));
    assert_eq!(dec(&hx(r#"52 00 00 53 00 01 "x""#)), s("x"));
    assert_eq!(dec(&hx(r#"52 00 01 "a" 30 01 "b""#)), s("ab"));
    assert_eq!(dec(&hx(r#"53 00 03 "abc""#)), s("abc"));
    assert_eq!(dec(&hx(r#"30 03 "abc""#)), s("abc"));
    // a surrogate pair split across chunks (Java never does it; others may)
    assert_eq!(dec(&hx("52 00 01 ed a0 bd 01 ed b8 80")), s("\u{1F600}"));
    // lenient: a 4-byte UTF-8 sequence counts as two units
    assert_eq!(dec(&hx("02 f0 9f 98 80")), s("\u{1F600}"));
    assert_eq!(dec(&hx("03 f0 9f 98 80 61")), s("\u{1F600}a"));
    // unpaired surrogates cannot live in a Rust String: U+FFFD
    assert_eq!(dec(&hx("01 ed a0 bd")), s("\u{FFFD}"));
    assert_eq!(dec(&hx("02 ed b8 80 61")), s("\u{FFFD}a"));
    // mixed widths
    assert_eq!(dec(&hx("03 61 c3 83 e4 b8 ad")), s("a\u{c3}\u{4e2d}"));
}

#[test]
fn chunked_binary() {
    assert_eq!(
        dec(&hx("41 00 01 aa 41 00 02 bb cc 23 01 02 03")),
        Value::Binary(vec![0xaa, 0xbb, 0xcc, 1, 2, 3])
    );
    assert_eq!(dec(&hx("41 00 01 aa 42 00 00")), Value::Binary(vec![0xaa]));
    assert_eq!(
        dec(&hx("41 00 00 34 02 aa bb")),
        Value::Binary(vec![0xaa, 0xbb])
    );
    assert_eq!(dec(&hx("42 00 02 aa bb")), Value::Binary(vec![0xaa, 0xbb]));
    // Vec<u8> accepts binary
    assert_eq!(
        from_slice::<Vec<u8>>(&hx("23 01 02 03")).unwrap(),
        vec![1, 2, 3]
    );
}

#[test]
fn list_forms() {
    let untyped = Value::list(vec![0.into(), 1.into()]);
    let typed = Value::typed_list("[int", vec![0.into(), 1.into()]);
    assert_eq!(dec(&hx("57 90 91 5a")), untyped);
    assert_eq!(dec(&hx("58 92 90 91")), untyped);
    assert_eq!(dec(&hx("58 49 00 00 00 02 90 91")), untyped);
    assert_eq!(dec(&hx(r#"55 04 "[int" 90 91 5a"#)), typed);
    assert_eq!(dec(&hx(r#"56 04 "[int" 92 90 91"#)), typed);
    assert_eq!(dec(&hx("57 5a")), Value::list(vec![]));
    assert_eq!(
        from_slice::<Vec<i64>>(&hx("57 90 91 5a")).unwrap(),
        vec![0, 1]
    );
}

#[test]
fn type_references() {
    // second list refers to type #0 by int; map type refers to #1
    let values = dec_all(&hx(
        r#"71 04 "[int" 90  71 90 91  71 05 "[long" e1  4d 91 90 91 5a  55 91 5a"#,
    ));
    assert_eq!(values[0], Value::typed_list("[int", vec![0.into()]));
    assert_eq!(values[1], Value::typed_list("[int", vec![1.into()]));
    assert_eq!(values[2], Value::typed_list("[long", vec![Value::Long(1)]));
    assert_eq!(
        values[3],
        Value::typed_map("[long", vec![(0.into(), 1.into())])
    );
    assert_eq!(values[4], Value::typed_list("[long", vec![]));
}

#[test]
fn typed_maps() {
    let v = dec(&hx(r#"4d 17 "java.util.LinkedHashMap" 91 03 "fee" 5a"#));
    assert_eq!(
        v,
        Value::typed_map("java.util.LinkedHashMap", vec![(1.into(), s("fee"))])
    );
    let m: HashMap<i32, String> =
        from_slice(&hx(r#"4d 17 "java.util.LinkedHashMap" 91 03 "fee" 5a"#)).unwrap();
    assert_eq!(m[&1], "fee");
    // attachments as a typed map must be accepted too
    let m: HashMap<String, String> =
        from_slice(&hx(r#"4d 0d "java.util.Map" 04 "path" 01 "p" 5a"#)).unwrap();
    assert_eq!(m["path"], "p");
}

#[derive(Deserialize, Debug, PartialEq)]
struct Car {
    model: String,
    color: String,
    #[serde(default)]
    year: i32,
}

#[test]
fn objects_in_any_field_order_and_long_form() {
    let decl_order = hx(
        r#"43 0b "example.Car" 93 05 "color" 05 "model" 05 "extra" 60 03 "red" 08 "corvette" 4e"#,
    );
    let car: Car = from_slice(&decl_order).unwrap();
    assert_eq!(
        car,
        Car {
            model: "corvette".into(),
            color: "red".into(),
            year: 0
        }
    );
    // O + int index, including a non-compact int
    let o_form = hx(
        r#"43 0b "example.Car" 92 05 "model" 05 "color" 4f 90 01 "m" 01 "c"  4f 49 00 00 00 00 01 "n" 01 "d""#,
    );
    let mut d = Decoder::new(&o_form);
    assert_eq!(d.deserialize::<Car>().unwrap().model, "m");
    assert_eq!(d.deserialize::<Car>().unwrap().color, "d");
    // a struct also accepts a map with string keys (Java HashMap / generic form)
    let map_form = hx(r#"48 05 "model" 01 "m" 05 "color" 01 "c" 05 "class" 0b "example.Car" 5a"#);
    assert_eq!(
        from_slice::<Car>(&map_form).unwrap(),
        Car {
            model: "m".into(),
            color: "c".into(),
            year: 0
        }
    );
    // class def with zero fields
    assert_eq!(dec(&hx(r#"43 01 "E" 90 60"#)), Value::object("E", vec![]));
    // 17 classes: the 17th instance needs the O form
    let mut bytes = Vec::new();
    for i in 0..17u8 {
        bytes.extend_from_slice(&[0x43, 0x01, b'a' + i, 0x90]);
    }
    bytes.extend_from_slice(&hx("4f a0"));
    assert_eq!(dec(&bytes), Value::object("q", vec![]));
}

#[test]
fn shared_and_cyclic_refs() {
    let m = Value::map(vec![(s("k"), s("v"))]);
    assert_eq!(
        dec(&hx(r#"7a 48 01 "k" 01 "v" 5a 51 91"#)),
        Value::list(vec![m.clone(), m.clone()])
    );
    // self-containing list
    assert_eq!(dec(&hx("79 51 90")), Value::list(vec![Value::Ref(0)]));
    // nested cycle: outer list [inner list [ref outer]]
    assert_eq!(
        dec(&hx("79 79 51 90")),
        Value::list(vec![Value::list(vec![Value::Ref(0)])])
    );
    // a map that contains itself as a value
    assert_eq!(
        dec(&hx(r#"48 02 "me" 51 90 5a"#)),
        Value::map(vec![(s("me"), Value::Ref(0))])
    );
    // reference to an earlier top-level value (same stream) is a copy
    let v = dec_all(&hx(r#"48 01 "k" 01 "v" 5a 51 90"#));
    assert_eq!(v, vec![m.clone(), m.clone()]);
    // copy of a cyclic value keeps its own cycle, renumbered to the copy
    let v = dec(&hx("7a 79 51 91 51 91"));
    assert_eq!(
        v,
        Value::list(vec![
            Value::list(vec![Value::Ref(1)]),
            Value::list(vec![Value::Ref(2)])
        ])
    );
    // a reference to a map used as a key, while the entry is incomplete
    let v = dec(&hx(r#"48 48 5a 51 91 5a"#));
    assert_eq!(
        v,
        Value::map(vec![(Value::map(vec![]), Value::map(vec![]))])
    );
    // cyclic references read as None in typed targets
    #[derive(Deserialize, Debug)]
    struct Node {
        next: Option<Box<Node>>,
    }
    let n: Node = from_slice(&hx(r#"43 04 "Node" 91 04 "next" 60 51 90"#)).unwrap();
    assert!(n.next.is_none());
}

#[test]
fn refs_after_clones_use_tree_numbering() {
    // stream numbering: outer=0, map=1, (Q1 copy, no number), inner list=2 containing Q2 (cycle)
    let v = dec(&hx("7b 48 5a 51 91 79 51 92"));
    // tree numbering: outer=0, map=1, copy=2, inner=3
    assert_eq!(
        v,
        Value::list(vec![
            Value::map(vec![]),
            Value::map(vec![]),
            Value::list(vec![Value::Ref(3)])
        ])
    );
    // and the encoder maps it back to stream numbers
    assert_eq!(common::enc(&v), hx("7b 48 5a 48 5a 79 51 93"));
    assert_eq!(dec(&common::enc(&v)), v);
}

#[test]
fn reserved_and_unexpected_bytes_are_rejected() {
    for b in [0x40u8, 0x45, 0x47, 0x50] {
        let e = Decoder::new(&[b]).read_value().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Syntax);
        assert!(e.to_string().contains("reserved"), "{e}");
        assert_eq!(e.offset(), Some(0));
    }
    let e = Decoder::new(&[0x5a]).read_value().unwrap_err();
    assert!(e.to_string().contains("'Z'"), "{e}");
    // Z in a fixed list
    assert!(Decoder::new(&hx("79 5a")).read_value().is_err());
    // C must be followed by a value
    assert!(
        Decoder::new(&hx(r#"57 43 01 "a" 90 5a"#))
            .read_value()
            .is_err()
    );
    // bad UTF-8 continuation
    let e = Decoder::new(&hx("01 c3 41")).read_value().unwrap_err();
    assert!(e.to_string().contains("utf-8"), "{e}");
    // error offsets point into the input
    let e = Decoder::new(&hx("79 79 40")).read_value().unwrap_err();
    assert_eq!(e.offset(), Some(2));
}

#[test]
fn poisoned_after_error() {
    let bytes = hx("40 90");
    let mut d = Decoder::new(&bytes);
    assert!(d.read_value().is_err());
    assert!(d.read_value().is_err());
}

#[test]
fn serde_leniency() {
    #[derive(Deserialize, Debug, PartialEq)]
    enum Shape {
        Circle(f64),
        Rect { w: i32, h: i32 },
        Dot,
    }
    assert_eq!(from_slice::<Shape>(&hx(r#"03 "Dot""#)).unwrap(), Shape::Dot);
    assert_eq!(
        from_slice::<Shape>(&hx(r#"43 05 "Shape" 91 04 "name" 60 03 "Dot""#)).unwrap(),
        Shape::Dot
    );
    assert_eq!(
        from_slice::<Shape>(&hx(r#"48 06 "Circle" 5f 00 00 05 dc 5a"#)).unwrap(),
        Shape::Circle(1.5)
    );
    assert_eq!(
        from_slice::<Shape>(&hx(r#"48 04 "Rect" 48 01 "w" 91 01 "h" 92 5a 5a"#)).unwrap(),
        Shape::Rect { w: 1, h: 2 }
    );
    // char from a one-character string
    assert_eq!(from_slice::<char>(&hx("01 e4 b8 ad")).unwrap(), '\u{4e2d}');
    assert!(from_slice::<char>(&hx("02 61 62")).is_err());
    // trailing bytes are an error for from_slice
    assert!(from_slice::<i32>(&hx("90 90")).is_err());
}

#[test]
fn a_new_decoder_starts_with_empty_tables() {
    // The first stream defines class 0 and a reference slot; a later decoder on the same
    // thread (which reuses the first one's buffers) must know neither.
    let defining = hx(r#"43 01 "C" 91 01 "a" 60 91 51 90"#);
    let mut first = Decoder::new(&defining);
    let object = first.read_value().unwrap();
    assert_eq!(object.class_name(), Some("C"));
    assert_eq!(first.read_value().unwrap(), object);
    drop(first);
    let mut second = Decoder::new(&[0x60, 0x91]);
    assert_eq!(
        second.read_value().unwrap_err().kind(),
        ErrorKind::BadReference
    );
    let mut third = Decoder::new(&[0x51, 0x90]);
    assert_eq!(
        third.read_value().unwrap_err().kind(),
        ErrorKind::BadReference
    );
}
