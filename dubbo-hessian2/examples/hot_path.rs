//! Hot-path micro benchmark for instruction counting (run on demand, not a
//! timed test): decodes a representative Dubbo2 request body and encodes a
//! representative reply body, `N` times each.
//!
//! ```text
//! cargo build --release -p dubbo-hessian2 --example hot_path
//! valgrind --tool=callgrind target/release/examples/hot_path decode 0
//! valgrind --tool=callgrind target/release/examples/hot_path decode 10000
//! ```
//!
//! Instructions per iteration = (Ir(N) - Ir(0)) / N. Modes: `decode`
//! (`Decoder::read_value` for every field, in a Dubbo2 server's order),
//! `decode-serde` (the same plus `from_value` of the argument into a struct),
//! `encode` (reply flag, result struct through serde, attachments map),
//! `encode-value` (the same with `to_value` + `write_value`), `all`.

use std::hint::black_box;

use dubbo_hessian2::{Decoder, Encoder, Value, from_value, to_value};
use serde::{Deserialize, Serialize};

/// `byte[]` as Hessian binary.
mod bytes {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        serde::de::Deserialize::deserialize(d).map(|b: serde_bytes_like::Buf| b.0)
    }

    pub mod serde_bytes_like {
        use std::fmt;

        use serde::de::{Deserialize, Deserializer, Visitor};

        pub struct Buf(pub Vec<u8>);

        impl<'de> Deserialize<'de> for Buf {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Buf, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = Buf;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("bytes")
                    }
                    fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                        Ok(Buf(v.to_vec()))
                    }
                    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Buf, E> {
                        Ok(Buf(v))
                    }
                }
                d.deserialize_byte_buf(V)
            }
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename = "org.apache.dubbo.sample.HelloRequest", default)]
struct HelloRequest {
    name: String,
    count: i32,
    #[serde(with = "bytes")]
    payload: Vec<u8>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename = "org.apache.dubbo.sample.HelloReply", default)]
struct HelloReply {
    message: String,
    #[serde(with = "bytes")]
    payload: Vec<u8>,
}

const PATH: &str = "org.apache.dubbo.sample.Greeter";

fn request_body() -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.write_string("2.0.2");
    enc.write_string(PATH);
    enc.write_string("0.0.0");
    enc.write_string("sayHello");
    enc.write_string("Lorg/apache/dubbo/sample/HelloRequest;");
    enc.serialize(&HelloRequest::default()).unwrap();
    enc.write_value(&Value::map(vec![
        ("path".into(), PATH.into()),
        ("interface".into(), PATH.into()),
        ("version".into(), "0.0.0".into()),
    ]))
    .unwrap();
    enc.into_bytes()
}

/// What a Dubbo2 server does with a request body.
#[inline(never)]
fn decode(body: &[u8], serde: bool) {
    let mut dec = Decoder::new(black_box(body));
    let mut strings = Vec::with_capacity(5);
    for _ in 0..5 {
        strings.push(dec.read_value().unwrap());
    }
    let arg = dec.read_value().unwrap();
    let attachments = dec.read_value().unwrap();
    assert!(dec.is_at_end());
    if serde {
        let req: HelloRequest = from_value(arg).unwrap();
        black_box(req);
    } else {
        black_box(arg);
    }
    black_box(strings);
    black_box(attachments);
}

/// What a Dubbo2 server writes for a reply.
#[inline(never)]
fn encode(reply: &HelloReply, attachments: &Value, via_value: bool) -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.write_int(4);
    if via_value {
        let v = to_value(black_box(reply)).unwrap();
        enc.write_value(&v).unwrap();
    } else {
        enc.serialize(black_box(reply)).unwrap();
    }
    enc.write_value(black_box(attachments)).unwrap();
    enc.into_bytes()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "all".to_owned());
    let n: usize = args.next().map_or(10_000, |s| s.parse().expect("N"));

    let body = request_body();
    let reply = HelloReply::default();
    let attachments = Value::map(vec![("dubbo".into(), "2.0.2".into())]);
    let expected_reply = encode(&reply, &attachments, true);
    assert_eq!(encode(&reply, &attachments, false), expected_reply);

    let run_decode = matches!(mode.as_str(), "decode" | "all");
    let run_decode_serde = matches!(mode.as_str(), "decode-serde" | "all");
    let run_encode = matches!(mode.as_str(), "encode" | "all");
    let run_encode_value = matches!(mode.as_str(), "encode-value" | "all");
    for _ in 0..n {
        if run_decode {
            decode(&body, false);
        }
        if run_decode_serde {
            decode(&body, true);
        }
        if run_encode {
            black_box(encode(&reply, &attachments, false));
        }
        if run_encode_value {
            black_box(encode(&reply, &attachments, true));
        }
    }
    if mode == "print" {
        println!("request body ({} bytes): {body:02x?}", body.len());
        println!(
            "reply body ({} bytes): {expected_reply:02x?}",
            expected_reply.len()
        );
    }
}
