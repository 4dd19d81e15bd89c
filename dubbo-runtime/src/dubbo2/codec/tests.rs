//! Golden tests: every spec §3.13 vector byte-exact, both directions, plus fastjson (§3.12)
//! and hostile input.

use super::*;
use crate::dubbo2::attachments;
use crate::dubbo2::codes;
use crate::dubbo2::frame::{FrameReader, HEADER_LEN, ReadEvent};
use crate::java::JavaThrowable;

/// Bytes from hex tokens and "quoted text" (its UTF-8 bytes).
fn bytes(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = spec.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap();
            out.extend_from_slice(&r.as_bytes()[..end]);
            rest = r[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(u8::from_str_radix(&rest[..end], 16).unwrap());
            rest = rest[end..].trim_start();
        }
    }
    out
}

const REQUEST: &str = r#"
    da bb c2 00  00 00 00 00 00 00 00 01  00 00 00 7e
    05 "2.0.2"
    0c "demo.Greeter"
    05 "0.0.0"
    05 "greet"
    12 "Ljava/lang/String;"
    05 "world"
    48
      04 "path"  0c "demo.Greeter"
      09 "interface"  0c "demo.Greeter"
      07 "version"  05 "0.0.0"
      07 "timeout"  04 "3000"
    5a"#;

const RESPONSE: &str = r#"
    da bb 02 14  00 00 00 00 00 00 00 01  00 00 00 1b
    94  0b "hello world"  48 05 "dubbo" 05 "2.0.2" 5a"#;

fn attachments() -> Value {
    Value::map(vec![
        ("path".into(), "demo.Greeter".into()),
        ("interface".into(), "demo.Greeter".into()),
        ("version".into(), "0.0.0".into()),
        ("timeout".into(), "3000".into()),
    ])
}

fn dubbo_attachment() -> Value {
    Value::map(vec![("dubbo".into(), "2.0.2".into())])
}

fn head() -> RequestHead<'static> {
    RequestHead {
        path: "demo.Greeter",
        version: "0.0.0",
        method: "greet",
        parameter_types: "Ljava/lang/String;",
    }
}

#[test]
fn request_encodes_byte_exact() {
    let frame = encode_request(
        Serialization::Hessian2,
        1,
        true,
        head(),
        1,
        &Payload::hessian(Value::from("world")),
        &attachments(),
        8 << 20,
    )
    .unwrap();
    assert_eq!(frame.to_vec(), bytes(REQUEST));
    // The same through an argument list.
    let frame = encode_request(
        Serialization::Hessian2,
        1,
        true,
        head(),
        1,
        &Payload::arguments(vec![Value::from("world")]),
        &attachments(),
        8 << 20,
    )
    .unwrap();
    assert_eq!(frame.to_vec(), bytes(REQUEST));
}

#[test]
fn request_encoding_checks_argument_count_and_payload_limit() {
    let err = encode_request(
        Serialization::Hessian2,
        1,
        true,
        head(),
        2,
        &Payload::hessian(Value::from("world")),
        &attachments(),
        8 << 20,
    )
    .unwrap_err();
    assert_eq!(err.code(), crate::Code::InvalidArgument);
    let err = encode_request(
        Serialization::Hessian2,
        1,
        true,
        head(),
        1,
        &Payload::hessian(Value::from("world")),
        &attachments(),
        64,
    )
    .unwrap_err();
    assert_eq!(err.code(), crate::Code::ResourceExhausted);
}

#[test]
fn request_decodes_from_spec_bytes() {
    let raw = bytes(REQUEST);
    let mut reader = FrameReader::new(1 << 20);
    reader.push(&raw);
    let Some(ReadEvent::Frame(header, body)) = reader.next_frame().unwrap() else {
        panic!("no frame");
    };
    assert!(header.is_request() && header.is_two_way() && !header.is_event());
    assert_eq!(
        (header.id, header.len as usize),
        (1, raw.len() - HEADER_LEN)
    );
    let req = decode_request(Serialization::Hessian2, &body).unwrap();
    assert_eq!(req.dubbo_version, "2.0.2");
    assert_eq!(req.path, "demo.Greeter");
    assert_eq!(req.version, "0.0.0");
    assert_eq!(req.method, "greet");
    assert_eq!(req.parameter_types, "Ljava/lang/String;");
    // One argument and string attachments: the argument stays encoded, the attachments
    // borrow from the body.
    assert!(matches!(req.args, Arguments::Encoded(_)));
    assert!(matches!(req.attachments, Attachments::Text(_)));
    assert_eq!(
        req.args.clone().into_values(),
        Ok(vec![Value::from("world")])
    );
    assert_eq!(req.attachment("timeout"), Some("3000"));
    assert_eq!(req.attachment("interface"), Some("demo.Greeter"));
    assert_eq!(req.attachment("group"), None);
}

#[test]
fn python3_dubbo_request_decodes() {
    // python3-dubbo 0.0.8: protocol version "2.4.10", attachments path/interface/version.
    let body = bytes(
        r#"06 "2.4.10" 30 23 "org.apache.dubbo.sample.DemoService" 05 "1.0.0" 08 "sayHello"
        12 "Ljava/lang/String;" 05 "world"
        48 04 "path" 30 23 "org.apache.dubbo.sample.DemoService"
           09 "interface" 30 23 "org.apache.dubbo.sample.DemoService"
           07 "version" 05 "1.0.0" 5a"#,
    );
    let req = decode_request(Serialization::Hessian2, &body).unwrap();
    assert_eq!(req.path, "org.apache.dubbo.sample.DemoService");
    assert_eq!(req.method, "sayHello");
    assert!(!supports_response_attachments(&req.dubbo_version));
}

#[test]
fn requests_with_typed_attachments_or_none_decode() {
    let mut w = BodyWriter::new(Serialization::Hessian2);
    for s in ["2.0.2", "a.B", "", "m", "IJ"] {
        w.string(s);
    }
    w.value(&Value::Int(1)).unwrap();
    w.value(&Value::Long(2)).unwrap();
    let without = w.finish();
    let req = decode_request(Serialization::Hessian2, &without).unwrap();
    assert_eq!(
        req.args,
        Arguments::Values(vec![Value::Int(1), Value::Long(2)])
    );
    assert!(req.attachments.is_empty());
    let mut with = without.clone();
    with.extend(bytes(
        r#"4d 17 "java.util.LinkedHashMap" 05 "group" 01 "g" 5a"#,
    ));
    let req = decode_request(Serialization::Hessian2, &with).unwrap();
    assert_eq!(req.attachment("group"), Some("g"));
    // Missing arguments, bad descriptors, non-map attachments.
    assert!(decode_request(Serialization::Hessian2, &without[..without.len() - 1]).is_err());
    let mut bad = BodyWriter::new(Serialization::Hessian2);
    for s in ["2.0.2", "a.B", "", "m", "Lfoo"] {
        bad.string(s);
    }
    assert!(decode_request(Serialization::Hessian2, &bad.finish()).is_err());
    let mut list_att = without;
    list_att.push(0x78);
    assert!(decode_request(Serialization::Hessian2, &list_att).is_err());
}

#[test]
fn responses_encode_byte_exact() {
    let hello = Payload::hessian(Value::from("hello world"));
    let frame = encode_response(
        Serialization::Hessian2,
        1,
        Outcome::Value(&hello),
        ResponseAttachments::Map(&dubbo_attachment()),
        8 << 20,
    )
    .unwrap();
    assert_eq!(frame.to_vec(), bytes(RESPONSE));
    let old = encode_response(
        Serialization::Hessian2,
        1,
        Outcome::Value(&hello),
        ResponseAttachments::None,
        8 << 20,
    )
    .unwrap();
    assert_eq!(old.body, bytes(r#"91 0b "hello world""#));
    let null = Payload::hessian(Value::Null);
    let frame = encode_response(
        Serialization::Hessian2,
        1,
        Outcome::Value(&null),
        ResponseAttachments::None,
        64,
    )
    .unwrap();
    assert_eq!(frame.body, [0x92]);
    let unit = Payload::typed(());
    let frame = encode_response(
        Serialization::Hessian2,
        1,
        Outcome::Value(&unit),
        ResponseAttachments::Map(&dubbo_attachment()),
        64,
    )
    .unwrap();
    assert_eq!(frame.body, bytes(r#"95 48 05 "dubbo" 05 "2.0.2" 5a"#));
    assert!(matches!(
        encode_response(
            Serialization::Hessian2,
            1,
            Outcome::Value(&hello),
            ResponseAttachments::None,
            4
        ),
        Err(ResponseError::TooLarge(13))
    ));
}

#[test]
fn exception_response_is_byte_exact() {
    let e = crate::hessian2::to_value(&JavaThrowable::runtime_exception("boom")).unwrap();
    let frame = encode_response(
        Serialization::Hessian2,
        1,
        Outcome::Exception(&e),
        ResponseAttachments::Map(&dubbo_attachment()),
        8 << 20,
    )
    .unwrap();
    let want = bytes(
        r#"93 43 1a "java.lang.RuntimeException" 94
           14 "suppressedExceptions" 0a "stackTrace" 05 "cause" 0d "detailMessage"
           60 70 1f "java.util.Collections$EmptyList"
              70 1c "[java.lang.StackTraceElement"
              51 90
              04 "boom"
           48 05 "dubbo" 05 "2.0.2" 5a"#,
    );
    assert_eq!(frame.body, want);
    match decode_response(Serialization::Hessian2, codes::OK, &want).unwrap() {
        ResponseBody::Exception(v, att) => {
            let t = JavaThrowable::from_value(&v).unwrap();
            assert_eq!(t.to_string(), "java.lang.RuntimeException: boom");
            assert!(t.cause.is_none());
            assert_eq!(att.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_and_heartbeat_frames_are_byte_exact() {
    let frame = encode_error(
        Serialization::Hessian2,
        3,
        codes::BAD_REQUEST,
        "Fail to decode request due to: x",
    );
    assert_eq!(
        frame.to_vec(),
        bytes(
            r#"da bb 02 28 00 00 00 00 00 00 00 03 00 00 00 22 30 20 "Fail to decode request due to: x""#
        )
    );
    assert_eq!(
        event_frame(Serialization::Hessian2, true, true, 2, None).to_vec(),
        bytes("da bb e2 00 00 00 00 00 00 00 00 02 00 00 00 01 4e")
    );
    assert_eq!(
        event_frame(Serialization::Hessian2, false, false, 2, None).to_vec(),
        bytes("da bb 22 14 00 00 00 00 00 00 00 02 00 00 00 01 4e")
    );
    let ro = event_frame(Serialization::Hessian2, true, false, 9, Some("R"));
    assert_eq!(ro.header[2], 0xa2);
    assert_eq!(ro.body, [0x01, b'R']);
    assert_eq!(
        decode_event(Serialization::Hessian2, &ro.body),
        Event::ReadOnly
    );
    assert_eq!(
        decode_event(Serialization::Hessian2, &[0x01, b'W']),
        Event::Writable
    );
    assert_eq!(
        decode_event(Serialization::Hessian2, &[0x4e]),
        Event::Heartbeat
    );
    assert_eq!(decode_event(Serialization::Hessian2, &[]), Event::Heartbeat);
    assert_eq!(
        decode_event(Serialization::Hessian2, &[0xff; 40]),
        Event::Heartbeat
    );
}

#[test]
fn every_result_flag_decodes() {
    let hessian = |s: &str| decode_response(Serialization::Hessian2, codes::OK, &bytes(s));
    let cases = [
        (r#"91 0b "hello world""#, Some("hello world"), 0),
        (r#"92"#, None, 0),
        (
            r#"94 0b "hello world" 48 05 "dubbo" 05 "2.0.2" 5a"#,
            Some("hello world"),
            1,
        ),
        (r#"95 48 05 "dubbo" 05 "2.0.2" 5a"#, None, 1),
    ];
    for (body, value, n) in cases {
        match hessian(body).unwrap() {
            ResponseBody::Value(v, att) => {
                assert_eq!(v.as_str(), value, "{body}");
                assert_eq!(att.len(), n, "{body}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    // Flag 0: the exception npm's dubbo-remoting sends (detailMessage only).
    match hessian(r#"90 43 1a "java.lang.RuntimeException" 91 0d "detailMessage" 60 04 "boom""#)
        .unwrap()
    {
        ResponseBody::Exception(v, att) => {
            assert_eq!(
                JavaThrowable::from_value(&v).unwrap().message(),
                Some("boom")
            );
            assert!(att.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(hessian("96 4e").is_err());
    assert!(hessian("").is_err());
    assert!(hessian("94 01 61").is_err(), "attachments missing");
    match decode_response(Serialization::Hessian2, 70, &bytes(r#"05 "nope!""#)).unwrap() {
        ResponseBody::Error(70, text) => assert_eq!(text, "nope!"),
        other => panic!("{other:?}"),
    }
    match decode_response(Serialization::Hessian2, 80, b"\xff\xfe").unwrap() {
        ResponseBody::Error(80, _) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn fastjson_bodies_follow_the_spec() {
    let frame = encode_request(
        Serialization::Fastjson,
        1,
        true,
        head(),
        1,
        &Payload::hessian(Value::from("world")),
        &attachments(),
        8 << 20,
    )
    .unwrap();
    assert_eq!(frame.header[2], 0xc6);
    assert_eq!(
        String::from_utf8(frame.body.clone()).unwrap(),
        "\"2.0.2\"\n\"demo.Greeter\"\n\"0.0.0\"\n\"greet\"\n\"Ljava/lang/String;\"\n\"world\"\n\
         {\"path\":\"demo.Greeter\",\"interface\":\"demo.Greeter\",\"version\":\"0.0.0\",\"timeout\":\"3000\"}\n"
    );
    let req = decode_request(Serialization::Fastjson, &frame.body).unwrap();
    assert_eq!(req.args, Arguments::Values(vec![Value::from("world")]));
    assert_eq!(req.attachment("timeout"), Some("3000"));
    let hello = Payload::hessian(Value::from("hello world"));
    let resp = encode_response(
        Serialization::Fastjson,
        1,
        Outcome::Value(&hello),
        ResponseAttachments::Map(&dubbo_attachment()),
        1024,
    )
    .unwrap();
    assert_eq!(resp.header[2], 0x06);
    assert_eq!(resp.body, b"4\n\"hello world\"\n{\"dubbo\":\"2.0.2\"}\n");
    match decode_response(Serialization::Fastjson, codes::OK, &resp.body).unwrap() {
        ResponseBody::Value(v, att) => {
            assert_eq!(v.as_str(), Some("hello world"));
            assert_eq!(att.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    let hb = event_frame(Serialization::Fastjson, true, true, 5, None);
    assert_eq!(hb.body, b"null\n");
    assert_eq!(
        decode_event(Serialization::Fastjson, b"\"R\"\n"),
        Event::ReadOnly
    );
    let err = encode_error(Serialization::Fastjson, 5, codes::SERVICE_ERROR, "x\"y");
    assert_eq!(err.body, b"\"x\\\"y\"\n");
}

#[test]
fn protocol_versions_that_read_response_attachments() {
    for v in ["2.0.2", "2.0.3", "2.0.10", "2.0.99", "2.0.2-SNAPSHOT"] {
        assert!(supports_response_attachments(v), "{v}");
    }
    for v in [
        "",
        "2.0.0",
        "2.0.1",
        "2.0.100",
        "2.4.10",
        "2.5.3",
        "2.6.2",
        "5.3.0",
        "x",
        "2.0.2.1.1",
    ] {
        assert!(!supports_response_attachments(v), "{v}");
    }
}

#[test]
fn mutated_bodies_never_panic() {
    let seeds = [
        bytes(REQUEST)[HEADER_LEN..].to_vec(),
        bytes(RESPONSE)[HEADER_LEN..].to_vec(),
        b"\"2.0.2\"\n\"a\"\n\"\"\n\"m\"\n\"I[J\"\n1\n[2]\n{}\n".to_vec(),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for base in &seeds {
        for _ in 0..3000 {
            let mut b = base.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = next() as u8,
                    1 => b.truncate(i),
                    _ => b.insert(i, next() as u8),
                }
                if b.is_empty() {
                    break;
                }
            }
            crate::dubbo2::fuzzing::bodies(&b);
        }
    }
}

#[test]
fn string_pair_attachments_encode_like_a_map() {
    let hello = Payload::hessian(Value::from("hello world"));
    for ser in [Serialization::Hessian2, Serialization::Fastjson] {
        let pairs = ResponseAttachments::Pairs(&[("dubbo", "2.0.2")]);
        let direct = encode_response(ser, 1, Outcome::Value(&hello), pairs, 1024).unwrap();
        let map = ResponseAttachments::Map(&dubbo_attachment());
        let via_map = encode_response(ser, 1, Outcome::Value(&hello), map, 1024).unwrap();
        assert_eq!(direct.to_vec(), via_map.to_vec(), "{ser:?}");
    }
}

/// A Hessian request body: the five head strings, `args`, then `attachments` (if any).
fn request_body(method: &str, types: &str, args: &[Value], attachments: Option<&Value>) -> Vec<u8> {
    let mut w = BodyWriter::new(Serialization::Hessian2);
    for s in ["2.0.2", "demo.Greeter", "1.0.0", method, types] {
        w.string(s);
    }
    for a in args {
        w.value(a).unwrap();
    }
    if let Some(a) = attachments {
        w.value(a).unwrap();
    }
    w.finish()
}

#[test]
fn plain_requests_decode_like_the_general_path() {
    let object = Value::object(
        "demo.HelloRequest",
        vec![("name".into(), "x".into()), ("count".into(), Value::Int(2))],
    );
    let text = Value::map(vec![
        ("path".into(), "demo.Greeter".into()),
        ("group".into(), "g".into()),
        ("timeout".into(), "3000".into()),
        ("note".into(), "中文".into()),
    ]);
    let numbers = Value::map(vec![("timeout".into(), Value::Int(5))]);
    let typed = Value::typed_map(
        "java.util.LinkedHashMap",
        vec![("group".into(), "g".into())],
    );
    let req = "Ldemo/HelloRequest;";
    // (method, parameter types, arguments, attachments, read without building values)
    type Case<'v> = (
        &'static str,
        &'static str,
        Vec<Value>,
        Option<&'v Value>,
        bool,
    );
    let cases: [Case<'_>; 8] = [
        ("sayHello", req, vec![object.clone()], Some(&text), true),
        ("sayHello", req, vec![object.clone()], None, true),
        (
            "sayHello",
            req,
            vec![Value::list(vec![object.clone()])],
            Some(&text),
            true,
        ),
        // Attachments that are not all strings, null or typed: the general path.
        ("sayHello", req, vec![object.clone()], Some(&numbers), false),
        (
            "sayHello",
            req,
            vec![object.clone()],
            Some(&Value::Null),
            false,
        ),
        ("sayHello", req, vec![object.clone()], Some(&typed), false),
        // Two arguments, and `$` methods: the general path.
        (
            "add",
            "II",
            vec![Value::Int(1), Value::Int(2)],
            Some(&text),
            false,
        ),
        (
            "$echo",
            "Ljava/lang/Object;",
            vec!["hi".into()],
            Some(&text),
            false,
        ),
    ];
    for (method, types, args, attachments, plain) in cases {
        let body = request_body(method, types, &args, attachments);
        let fast = decode_request(Serialization::Hessian2, &body).unwrap();
        let general = decode_request_values(Serialization::Hessian2, &body).unwrap();
        assert_eq!(
            matches!(fast.args, Arguments::Encoded(_)),
            plain,
            "{method} {attachments:?}"
        );
        assert_eq!((&fast.path, &fast.method), (&general.path, &general.method));
        assert_eq!(fast.args.clone().into_values().unwrap(), args);
        assert_eq!(general.args.clone().into_values().unwrap(), args);
        for key in ["path", "group", "timeout", "note", "missing"] {
            assert_eq!(fast.attachment(key), general.attachment(key), "{key}");
        }
        assert_eq!(
            attachments::timeout(&fast.attachments),
            attachments::timeout(&general.attachments)
        );
        assert_eq!(
            attachments::request_metadata(&fast.attachments).len(),
            attachments::request_metadata(&general.attachments).len()
        );
    }
    // A class defined in front of the head strings: the argument cannot be read on its own.
    let head_class = bytes(
        r#"43 03 "a.A" 91 04 "name" 05 "2.0.2" 0c "demo.Greeter" 05 "0.0.0" 05 "greet"
        05 "La/A;" 60 01 "x" 48 07 "timeout" 04 "3000" 5a"#,
    );
    let fast = decode_request(Serialization::Hessian2, &head_class).unwrap();
    assert!(matches!(fast.args, Arguments::Values(_)));
    assert_eq!(
        fast.args.into_values().unwrap(),
        [Value::object("a.A", vec![("name".into(), "x".into())])]
    );
    // A reference inside the argument (the list's second item is the first).
    let shared = bytes(
        r#"05 "2.0.2" 0c "demo.Greeter" 05 "0.0.0" 05 "greet" 10 "Ljava/util/List;"
        7a 79 91 51 91 48 5a"#,
    );
    let fast = decode_request(Serialization::Hessian2, &shared).unwrap();
    let general = decode_request_values(Serialization::Hessian2, &shared).unwrap();
    assert!(matches!(fast.args, Arguments::Encoded(_)));
    assert_eq!(fast.args.into_values(), general.args.into_values());
    // A malformed argument fails on both paths.
    let mut body = request_body("sayHello", req, &[object], Some(&text));
    let cut = body.iter().position(|&b| b == b'H').unwrap();
    body.truncate(cut - 1);
    assert!(decode_request(Serialization::Hessian2, &body).is_err());
}
