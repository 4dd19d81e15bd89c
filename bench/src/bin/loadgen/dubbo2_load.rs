//! Dubbo2 closed-loop load: each connection keeps its share of requests in flight, matching
//! responses by request id, and writes every request it can send in one go.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bench::args::Args;
use bench::proto::HelloRequest;
use bench::stats::Latencies;
use dubbo_runtime::Payload;
use dubbo_runtime::dubbo2::Serialization;
use dubbo_runtime::dubbo2::codec::{RequestHead, encode_request};
use dubbo_runtime::hessian2::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Run;

const HEADER_LEN: usize = 16;

/// One encoded request frame for `Greeter.sayHello(HelloRequest)`; its id is patched per send.
fn template(payload: usize) -> Vec<u8> {
    let attachments = Value::Map {
        type_name: None,
        entries: vec![
            ("path".into(), "org.apache.dubbo.sample.Greeter".into()),
            ("interface".into(), "org.apache.dubbo.sample.Greeter".into()),
            ("version".into(), "0.0.0".into()),
        ],
    };
    let frame = encode_request(
        Serialization::Hessian2,
        0,
        true,
        RequestHead {
            path: "org.apache.dubbo.sample.Greeter",
            version: "0.0.0",
            method: "sayHello",
            parameter_types: "Lorg/apache/dubbo/sample/HelloRequest;",
        },
        1,
        &Payload::typed(HelloRequest {
            name: String::new(),
            count: 0,
            payload: vec![b'x'; payload],
        }),
        &attachments,
        usize::MAX,
    )
    .expect("request encodes");
    let mut bytes = frame.header.to_vec();
    bytes.extend_from_slice(&frame.body);
    bytes
}

fn push(buf: &mut Vec<u8>, template: &[u8], id: i64) {
    let start = buf.len();
    buf.extend_from_slice(template);
    buf[start + 4..start + 12].copy_from_slice(&id.to_be_bytes());
}

async fn connection(
    target: String,
    slots: usize,
    template: Arc<Vec<u8>>,
    run: Arc<Run>,
) -> Latencies {
    let mut latencies = Latencies::default();
    let tcp = tokio::net::TcpStream::connect(&target)
        .await
        .expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (mut reader, mut writer) = tcp.into_split();
    let mut started = vec![Instant::now(); slots];
    let mut next_gen: i64 = 0;
    let mut out = Vec::with_capacity(template.len() * slots);
    for slot in 0..slots {
        push(&mut out, &template, slot as i64);
    }
    if writer.write_all(&out).await.is_err() {
        run.errors.fetch_add(1, Ordering::Relaxed);
        return latencies;
    }
    let mut outstanding = slots;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    while outstanding > 0 {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                run.errors.fetch_add(outstanding as u64, Ordering::Relaxed);
                return latencies;
            }
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        out.clear();
        let mut consumed = 0;
        while buf.len() - consumed >= HEADER_LEN {
            let header = &buf[consumed..consumed + HEADER_LEN];
            let len = u32::from_be_bytes([header[12], header[13], header[14], header[15]]) as usize;
            if buf.len() - consumed < HEADER_LEN + len {
                break;
            }
            let status = header[3];
            let mut id_bytes = [0u8; 8];
            id_bytes.copy_from_slice(&header[4..12]);
            let id = i64::from_be_bytes(id_bytes);
            consumed += HEADER_LEN + len;
            let slot = (id as usize) % slots;
            let done = Instant::now();
            outstanding -= 1;
            run.total.fetch_add(1, Ordering::Relaxed);
            if status == 20 {
                if run.measuring(started[slot]) {
                    latencies.record(done - started[slot]);
                }
            } else {
                run.errors.fetch_add(1, Ordering::Relaxed);
            }
            if run.running() {
                next_gen += 1;
                started[slot] = Instant::now();
                push(&mut out, &template, next_gen * slots as i64 + slot as i64);
                outstanding += 1;
            }
        }
        buf.drain(..consumed);
        if !out.is_empty() && writer.write_all(&out).await.is_err() {
            run.errors.fetch_add(outstanding as u64, Ordering::Relaxed);
            return latencies;
        }
    }
    latencies
}

/// Runs `--connections` connections sharing `--concurrency` requests in flight.
pub(crate) async fn closed_loop(args: &Args, run: Arc<Run>) -> Latencies {
    let target = args.require("target").to_owned();
    let connections: usize = args.get("connections", 1);
    let concurrency: usize = args.get("concurrency", 1);
    let template = Arc::new(template(args.get("payload", 0)));
    let per_connection = (concurrency / connections.max(1)).max(1);
    let tasks: Vec<_> = (0..connections.max(1))
        .map(|_| {
            tokio::spawn(connection(
                target.clone(),
                per_connection,
                Arc::clone(&template),
                Arc::clone(&run),
            ))
        })
        .collect();
    let mut all = Latencies::default();
    for t in tasks {
        all.merge(t.await.unwrap_or_default());
    }
    all
}
