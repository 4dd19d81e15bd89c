//! Hostile input: the decoder must fail quickly with an error — never panic,
//! loop or allocate what the input does not justify.

mod common;

use std::time::{Duration, Instant};

use common::{hex, hx};
use dubbo_hessian2::{Decoder, Encoder, ErrorKind, Limits, Value};
use proptest::prelude::*;

fn err_kind(bytes: &[u8]) -> ErrorKind {
    let start = Instant::now();
    let e = Decoder::new(bytes).read_value().expect_err(&format!(
        "expected an error for {}",
        hex(&bytes[..bytes.len().min(64)])
    ));
    assert!(start.elapsed() < Duration::from_secs(5), "slow failure");
    e.kind()
}

#[test]
fn huge_lengths() {
    let huge = |k: ErrorKind| matches!(k, ErrorKind::Eof | ErrorKind::Limit);
    // V list claiming 2^31-1 items
    assert!(huge(err_kind(&hx(r#"56 04 "[int" 49 7f ff ff ff 90"#))));
    // V list claiming 2^31 items (long length)
    assert!(huge(err_kind(&hx(
        r#"56 04 "[int" 4c 00 00 00 00 80 00 00 00 90"#
    ))));
    // X list claiming 2^62 items
    assert!(huge(err_kind(&hx("58 4c 40 00 00 00 00 00 00 00 90"))));
    // a length within limits but beyond the input: rejected before allocating
    assert_eq!(err_kind(&hx("58 d4 10 00 90 91 92")), ErrorKind::Eof);
    assert_eq!(
        err_kind(&hx(r#"56 04 "[int" 49 00 10 00 00 90"#)),
        ErrorKind::Eof
    );
    // negative length
    assert_eq!(err_kind(&hx("58 8f")), ErrorKind::Syntax);
    // string claiming 65535 units with 3 bytes left
    assert_eq!(err_kind(&hx("53 ff ff 61 62 63")), ErrorKind::Eof);
    assert_eq!(err_kind(&hx("52 ff ff 61 62 63")), ErrorKind::Eof);
    assert_eq!(err_kind(&hx("33 ff 61")), ErrorKind::Eof);
    // binary claiming 65535 bytes
    assert_eq!(err_kind(&hx("42 ff ff 00")), ErrorKind::Eof);
    assert_eq!(err_kind(&hx("41 ff ff 00")), ErrorKind::Eof);
    // class def claiming 2^31 fields
    assert!(huge(err_kind(&hx(r#"43 01 "a" 49 7f ff ff ff 01 "x""#))));
    // max_container_len applies
    let limits = Limits::default().max_container_len(2);
    let e = Decoder::new(&hx("57 90 91 92 5a"))
        .with_limits(limits)
        .read_value()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit);
    let e = Decoder::new(&hx("58 93 90 91 92"))
        .with_limits(limits)
        .read_value()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit);
}

#[test]
fn deep_nesting() {
    for (open, close) in [
        (&[0x57u8][..], &[0x5au8][..]),
        (&[0x79], &[]),
        (&[0x48, 0x90], &[0x5a]),
        (&[0x55, 0x90], &[0x5a]),
    ] {
        let mut bytes = Vec::new();
        // a first list so that the 55 form can refer to type #0
        bytes.extend_from_slice(&hx(r#"70 01 "t""#));
        for _ in 0..100_000 {
            bytes.extend_from_slice(open);
        }
        for _ in 0..100_000 {
            bytes.extend_from_slice(close);
        }
        let mut d = Decoder::new(&bytes);
        d.read_value().unwrap();
        let e = d.read_value().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
        assert!(e.to_string().contains("depth"));
    }
    // objects nested in objects
    let mut bytes = hx(r#"43 01 "N" 91 01 "n""#);
    bytes.extend(std::iter::repeat_n(0x60, 100_000));
    assert_eq!(err_kind(&bytes), ErrorKind::Limit);
    // exactly at the limit is fine
    let limits = Limits::default().max_depth(3);
    assert!(
        Decoder::new(&hx("79 79 78"))
            .with_limits(limits)
            .read_value()
            .is_ok()
    );
    assert!(
        Decoder::new(&hx("79 79 79 78"))
            .with_limits(limits)
            .read_value()
            .is_err()
    );
}

#[test]
fn bad_indexes() {
    // ref to a not-yet-defined index
    assert_eq!(err_kind(&hx("51 90")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx("79 51 91")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx("51 49 7f ff ff ff")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx("51 8f")), ErrorKind::BadReference);
    // class index out of range
    assert_eq!(err_kind(&hx("60")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx("4f 95")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx(r#"43 01 "a" 90 61"#)), ErrorKind::BadReference);
    // type ref out of range
    assert_eq!(err_kind(&hx("71 90 90")), ErrorKind::BadReference);
    assert_eq!(err_kind(&hx("4d 93 5a")), ErrorKind::BadReference);
    // type must be a string or an int
    assert_eq!(err_kind(&hx("71 4e 90")), ErrorKind::Syntax);
}

#[test]
fn reference_bombs_are_bounded() {
    // Each list holds two copies of the previous one: 2^n growth.
    let mut bytes = hx("58 c8 40"); // outer list of 64 entries: container #0
    bytes.extend_from_slice(&hx("7a 78 78")); // #1 [[],[]]
    // list #4 copies #1 twice, #5 copies #4, #6 copies #5, ...
    for prev in std::iter::once(1u32).chain(4..66) {
        bytes.extend_from_slice(&[0x7a, 0x51, 0x49]);
        bytes.extend_from_slice(&prev.to_be_bytes());
        bytes.extend_from_slice(&[0x51, 0x49]);
        bytes.extend_from_slice(&prev.to_be_bytes());
    }
    let start = Instant::now();
    let e = Decoder::new(&bytes).read_value().unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    // with a small budget it stops almost at once
    let limits = Limits::default().max_ref_expansion(1 << 16);
    let e = Decoder::new(&bytes)
        .with_limits(limits)
        .read_value()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");

    // Many top-level copies of one big value.
    let mut enc = Encoder::new();
    enc.write_value(&Value::Binary(vec![0; 1 << 16])).unwrap();
    enc.write_value(&Value::list(vec![Value::Binary(vec![0; 1 << 16])]))
        .unwrap();
    for _ in 0..10_000 {
        enc.write_ref(0).unwrap();
    }
    let bytes = enc.into_bytes();
    let mut d = Decoder::new(&bytes);
    let mut err = None;
    for _ in 0..10_002 {
        if let Err(e) = d.read_value() {
            err = Some(e);
            break;
        }
    }
    assert_eq!(err.expect("budget exceeded").kind(), ErrorKind::Limit);
}

/// Golden single-value vectors and multi-value streams from the spec.
fn golden_streams() -> Vec<Vec<u8>> {
    [
        "90", "d3 f7 ff", "49 80 00 00 00", "4c ff ff ff ff 7f ff ff ff", "3c 08 00",
        "59 7f ff ff ff", "5f ff ff fe 0c", "44 40 09 21 f9 f0 1b 86 6e", "5e 80 00", "5d 7f",
        r#"05 "hello""#, "02 ed a0 bd ed b8 80", "34 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "4a 00 00 00 d0 4b 92 84 b8", "4b 00 e3 83 8f", r#"72 04 "[int" 90 91"#,
        "58 99 91 92 93 94 95 96 97 98 99",
        r#"4d 17 "java.util.LinkedHashMap" 91 03 "fee" a0 03 "fie" c9 00 03 "foe" 5a"#,
        "79 51 90", r#"7a 48 01 6b 01 76 5a 51 91"#,
        r#"43 0b "example.Car" 92 05 "model" 05 "color" 60 08 "corvette" 03 "red" 60 05 "civic" 05 "green""#,
        r#"43 0d "example.Color" 91 04 "name" 60 03 "RED" 60 05 "GREEN" 60 04 "BLUE" 51 90"#,
        r#"43 14 "java.math.BigDecimal" 91 05 "value" 60 04 "1.50""#,
        r#"71 0d "[example.Pair" 43 0c "example.Pair" 92 04 "name" 02 "id" 60 01 61 91"#,
        r#"08 "sayHello" 71 07 "[string" 10 "java.lang.String" 71 07 "[object" 05 "world""#,
        r#"93 43 1a "java.lang.RuntimeException" 94 14 "suppressedExceptions" 0a "stackTrace" 05 "cause" 0d "detailMessage"
           60 70 1f "java.util.Collections$EmptyList" 70 1c "[java.lang.StackTraceElement" 51 90 04 "boom"
           48 05 "dubbo" 05 "2.0.2" 5a"#,
        r#"52 00 01 "a" 52 00 02 "bc" 01 "d""#, "41 00 01 aa 41 00 02 bb cc 23 01 02 03",
    ]
    .iter()
    .map(|s| hx(s))
    .collect()
}

#[test]
fn truncation_at_every_prefix_fails() {
    for stream in golden_streams() {
        // value boundaries of the full stream
        let mut d = Decoder::new(&stream);
        let mut boundaries = vec![0];
        while !d.is_at_end() {
            d.read_value().unwrap();
            boundaries.push(d.position());
        }
        for cut in 1..stream.len() {
            if boundaries.contains(&cut) {
                continue;
            }
            let prefix = &stream[..cut];
            let mut d = Decoder::new(prefix);
            let mut failed = false;
            while !d.is_at_end() {
                match d.read_value() {
                    Ok(_) => {}
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::Eof, "prefix {}: {e}", hex(prefix));
                        failed = true;
                        break;
                    }
                }
            }
            assert!(failed, "prefix {} decoded without error", hex(prefix));
        }
    }
}

fn drain(bytes: &[u8]) {
    let mut d = Decoder::new(bytes);
    while !d.is_at_end() {
        if d.read_value().is_err() {
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        drain(&bytes);
    }

    #[test]
    fn mutated_golden_vectors_never_panic(
        pick in 0usize..32,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let streams = golden_streams();
        let mut bytes = streams[pick % streams.len()].clone();
        for (at, b) in edits {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        drain(&bytes);
    }

    #[test]
    fn biased_bytes_never_panic(bytes in proptest::collection::vec(
        prop_oneof![
            Just(0x51u8), Just(0x57), Just(0x5a), Just(0x43), Just(0x60), Just(0x90), Just(0x91),
            Just(0x79), Just(0x48), Just(0x55), Just(0x70), Just(0x01), Just(0x61), Just(0x4f),
            any::<u8>()
        ],
        0..256,
    )) {
        drain(&bytes);
    }
}
