//! End to end over Dubbo2 (`dubbo://`) in one process: our consumer against our provider,
//! and raw frames against our provider (and a raw provider against our consumer) where the
//! bytes matter. Servers bind 127.0.0.1 port 0; every wait is bounded.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dubbo_runtime::dubbo2::codec::{self, RequestHead, ResponseBody, Serialization};
use dubbo_runtime::dubbo2::frame::{FrameReader, Header, ReadEvent};
use dubbo_runtime::dubbo2::{Dubbo2Config, Dubbo2Protocol, codes};
use dubbo_runtime::hessian2::Value;
use dubbo_runtime::java::{JavaClient, JavaService, java_exception};
use dubbo_runtime::protocol::Protocols;
use dubbo_runtime::{Code, Payload, Request, Server, ServerHandle, ServiceOptions, Status};
use examples::greeter::{GreeterClient, GreeterServer, HelloRequest};
use examples::greeter_service::GreeterService;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Barrier, mpsc};

const PROBE: &str = "test.Probe";

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 30 s"))
}

/// What the probe service's handlers share with the test.
#[derive(Default)]
struct ProbeState {
    barrier: Option<Arc<Barrier>>,
    peers: Mutex<HashSet<u16>>,
    recorded: Mutex<Option<mpsc::UnboundedSender<String>>>,
}

fn probe(state: Arc<ProbeState>) -> JavaService {
    let gather_state = Arc::clone(&state);
    let record_state = Arc::clone(&state);
    JavaService::builder(PROBE)
        .method(
            "hello",
            &["java.lang.String"],
            |req: Request<(String,)>| async move {
                Ok::<_, Status>(format!("Hello {}", req.into_inner().0))
            },
        )
        .method("slow", &["long"], |req: Request<(u64,)>| async move {
            tokio::time::sleep(Duration::from_millis(req.into_inner().0)).await;
            Ok::<_, Status>("done")
        })
        .method("block", &["long"], |req: Request<(u64,)>| async move {
            // Holds the connection task's thread (the handler's first poll runs inline).
            std::thread::sleep(Duration::from_millis(req.into_inner().0));
            Ok::<_, Status>("done")
        })
        .method("remaining", &[], |req: Request<()>| async move {
            Ok::<_, Status>(req.remaining().map_or(-1, |d| d.as_millis() as i64))
        })
        .method("gather", &["int"], move |req: Request<(i32,)>| {
            let state = Arc::clone(&gather_state);
            async move {
                if let Some(port) = req.remote_addr().map(|a| a.port()) {
                    state.peers.lock().unwrap().insert(port);
                }
                if let Some(barrier) = &state.barrier {
                    barrier.wait().await;
                }
                Ok::<_, Status>(req.into_inner().0)
            }
        })
        .method(
            "record",
            &["java.lang.String"],
            move |req: Request<(String,)>| {
                let state = Arc::clone(&record_state);
                async move {
                    if let Some(tx) = state.recorded.lock().unwrap().as_ref() {
                        let _ = tx.send(req.into_inner().0);
                    }
                    Ok::<_, Status>(())
                }
            },
        )
        .method("panic", &["boolean"], |req: Request<(bool,)>| async move {
            if req.into_inner().0 {
                // Panic after waiting, on the call's own task.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if std::hint::black_box(true) {
                panic!("the handler fails");
            }
            Ok::<_, Status>(())
        })
        .method("big", &["int"], |req: Request<(i32,)>| async move {
            Ok::<_, Status>("x".repeat(req.into_inner().0.max(0) as usize))
        })
        .method(
            "user",
            &["java.lang.String"],
            |req: Request<(String,)>| async move {
                let user = req.metadata().get("x-user").unwrap_or("").to_owned();
                Ok::<_, Status>(format!("{}:{user}", req.into_inner().0))
            },
        )
        .build()
        .unwrap()
}

fn protocols(config: Dubbo2Config) -> Protocols {
    let protocols = Protocols::new();
    protocols.register(Arc::new(Dubbo2Protocol::new(config)));
    protocols
}

async fn serve_on(addr: &str, config: Dubbo2Config, state: Arc<ProbeState>) -> ServerHandle {
    Server::builder()
        .protocols(protocols(config))
        .add_service_with(probe(state), ServiceOptions::new().version("1.0.0"))
        .add_service(GreeterServer::new(GreeterService))
        .start(format!("dubbo://{addr}"))
        .await
        .unwrap()
}

async fn serve(state: Arc<ProbeState>) -> ServerHandle {
    serve_on("127.0.0.1:0", Dubbo2Config::default(), state).await
}

async fn client(addr: impl std::fmt::Display, config: Dubbo2Config) -> JavaClient {
    JavaClient::builder(format!("dubbo://{addr}"))
        .interface(PROBE)
        .version("1.0.0")
        .protocols(protocols(config))
        .lazy()
        .connect()
        .await
        .unwrap()
}

async fn hello(c: &JavaClient, name: &str) -> Result<String, Status> {
    c.call("hello", &["java.lang.String"], (name,)).await
}

#[tokio::test]
async fn greeter_works_over_dubbo_with_metadata_errors_and_no_streams() {
    bounded("greeter", async {
        let server = serve(Arc::default()).await;
        let client = GreeterClient::builder(format!("dubbo://{}", server.local_addr()).as_str())
            .protocols(protocols(Dubbo2Config::default()))
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        let mut request = Request::new(HelloRequest {
            name: "dubbo".into(),
            count: 0,
            payload: vec![7; 3],
        });
        request.metadata_mut().insert("x-echo-k", "v").unwrap();
        let reply = client.say_hello(request).await.unwrap();
        assert_eq!(reply.get_ref().message, "Hello dubbo");
        assert_eq!(reply.get_ref().payload, [7, 7, 7]);
        assert_eq!(reply.trailers().get("x-trailer"), Some("done"));
        assert_eq!(reply.trailers().get("x-echo-k"), Some("v"));
        // A handler's status comes back with its code, message and metadata.
        let status = client
            .say_hello(HelloRequest {
                name: "error:5".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.message(), "requested");
        assert_eq!(status.metadata().get("x-trailer"), Some("done"));
        let thrown = java_exception(&status).unwrap();
        assert_eq!(thrown.class_name, "java.lang.RuntimeException");
        // Streaming methods fail fast, before anything is sent.
        let started = Instant::now();
        let status = client
            .say_hello_bidi(futures_util::stream::empty())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented);
        assert!(
            status.message().contains("Dubbo2 has no streams"),
            "{status}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_calls_in_flight_share_one_connection() {
    bounded("500 calls", async {
        let state = Arc::new(ProbeState {
            barrier: Some(Arc::new(Barrier::new(500))),
            ..Default::default()
        });
        let server = serve(Arc::clone(&state)).await;
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        // Every handler waits until all 500 are running: they are in flight at once.
        let calls = (0..500).map(|i| {
            let c = c.clone();
            async move { c.call::<_, i32>("gather", &["int"], (i,)).await }
        });
        let results = futures_util::future::join_all(calls).await;
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(r.unwrap(), i as i32);
        }
        assert_eq!(state.peers.lock().unwrap().len(), 1, "one connection");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn deadlines_travel_and_expire() {
    bounded("deadlines", async {
        let server = serve(Arc::default()).await;
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        let mut request = Request::new(());
        request.set_timeout(Duration::from_secs(3));
        let left: i64 = c
            .call_with("remaining", &[], request)
            .await
            .unwrap()
            .into_inner();
        assert!((1000..=3000).contains(&left), "server saw {left} ms left");
        let no_deadline: i64 = c.call("remaining", &[], ()).await.unwrap();
        assert_eq!(no_deadline, -1);
        let mut request = Request::new((5000u64,));
        request.set_timeout(Duration::from_millis(200));
        let started = Instant::now();
        let err = c
            .call_with::<_, String>("slow", &["long"], request)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::DeadlineExceeded);
        assert!(started.elapsed() < Duration::from_secs(2));
        // The connection is still fine.
        assert_eq!(hello(&c, "after").await.unwrap(), "Hello after");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn server_enforces_the_timeout_attachment() {
    bounded("server deadline", async {
        let server = serve(Arc::default()).await;
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        let attachments = Value::map(vec![("timeout".into(), "100".into())]);
        let frame = codec::encode_request(
            Serialization::Hessian2,
            77,
            true,
            RequestHead {
                path: PROBE,
                version: "1.0.0",
                method: "slow",
                parameter_types: "J",
            },
            1,
            &Payload::arguments(vec![Value::Long(5000)]),
            &attachments,
            1 << 20,
        )
        .unwrap();
        stream.write_all(&frame.to_vec()).await.unwrap();
        let started = Instant::now();
        let (header, body) = read_frame(&mut stream).await.expect("a response");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!((header.id, header.status), (77, codes::SERVER_TIMEOUT));
        match codec::decode_response(Serialization::Hessian2, header.status, &body).unwrap() {
            ResponseBody::Error(_, text) => assert!(text.contains("timeout"), "{text}"),
            other => panic!("{other:?}"),
        }
        server.shutdown().await;
    })
    .await;
}

async fn read_frame(stream: &mut TcpStream) -> Option<(Header, bytes::Bytes)> {
    let mut reader = FrameReader::new(16 << 20);
    match tokio::time::timeout(Duration::from_secs(5), reader.read(stream)).await {
        Ok(Ok(Some(ReadEvent::Frame(h, b)))) => Some((h, b)),
        _ => None,
    }
}

fn request_frame(id: i64, two_way: bool, path: &str, method: &str, arg: &str) -> Vec<u8> {
    let head = RequestHead {
        path,
        version: "1.0.0",
        method,
        parameter_types: "Ljava/lang/String;",
    };
    encode_frame(id, two_way, head, &arg.into(), &Value::map(vec![]))
}

/// A Hessian request frame with one argument.
fn encode_frame(
    id: i64,
    two_way: bool,
    head: RequestHead<'_>,
    arg: &Value,
    attachments: &Value,
) -> Vec<u8> {
    let arg = Payload::hessian(arg.clone());
    codec::encode_request(
        Serialization::Hessian2,
        id,
        two_way,
        head,
        1,
        &arg,
        attachments,
        1 << 20,
    )
    .unwrap()
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_the_first_requests_of_a_read_do_not_wait_for_the_rest() {
    let server = serve(Arc::default()).await;
    let addr = server.local_addr();
    let block_head = RequestHead {
        path: PROBE,
        version: "1.0.0",
        method: "block",
        parameter_types: "J",
    };
    let block = encode_frame(5, true, block_head, &Value::Long(800), &Value::map(vec![]));
    // A blocking client on its own thread: while the server's thread is held, the runtime
    // may not look at other sockets, so a client on the runtime could not see early replies.
    let client = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let reply = |s: &mut std::net::TcpStream| {
            let mut header = [0u8; 16];
            s.read_exact(&mut header).unwrap();
            let len = u32::from_be_bytes(header[12..16].try_into().unwrap()) as usize;
            s.read_exact(&mut vec![0u8; len]).unwrap();
            (
                i64::from_be_bytes(header[4..12].try_into().unwrap()),
                header[3],
            )
        };
        // A first call, so the server has seen the new socket writable (until then its
        // writes wait for the runtime's next look at readiness).
        s.write_all(&request_frame(100, true, PROBE, "hello", "w"))
            .unwrap();
        assert_eq!(reply(&mut s), (100, codes::OK));
        // One write: four quick calls, one that holds the server's thread for 800 ms, one
        // more.
        let mut batch = Vec::new();
        for id in 1..=4 {
            batch.extend(request_frame(id, true, PROBE, "hello", "x"));
        }
        batch.extend(block);
        batch.extend(request_frame(6, true, PROBE, "hello", "y"));
        let sent = Instant::now();
        s.write_all(&batch).unwrap();
        let first = reply(&mut s);
        let waited = sent.elapsed();
        let mut replies = vec![first];
        while replies.len() < 6 {
            replies.push(reply(&mut s));
        }
        (waited, replies)
    });
    let (waited, replies) = bounded("early replies", async {
        loop {
            if client.is_finished() {
                return client.join().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let ok = |id| (id, codes::OK);
    assert_eq!(replies, [ok(1), ok(2), ok(3), ok(4), ok(5), ok(6)]);
    assert!(
        waited < Duration::from_millis(400),
        "the first reply waited {waited:?} for the blocking call behind it"
    );
}

#[tokio::test]
async fn raw_frames_get_java_answers() {
    bounded("raw frames", async {
        let server = serve(Arc::default()).await;
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        // Heartbeat: answered byte-exact.
        s.write_all(&codec::event_frame(Serialization::Hessian2, true, true, 2, None).to_vec())
            .await
            .unwrap();
        let mut resp = [0u8; 17];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut resp))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp,
            [
                0xda, 0xbb, 0x22, 0x14, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0x4e
            ]
        );
        // A one-way call gets no answer: the next frame is the answer to the call after it.
        s.write_all(&request_frame(10, false, PROBE, "hello", "one-way"))
            .await
            .unwrap();
        s.write_all(&request_frame(11, true, PROBE, "hello", "x"))
            .await
            .unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status, h.flags), (11, codes::OK, 0x02));
        // python3-dubbo-style old peers ("2.0.2" here) get attachments; check the value.
        match codec::decode_response(Serialization::Hessian2, h.status, &body).unwrap() {
            ResponseBody::Value(v, att) => {
                assert_eq!(v.as_str(), Some("Hello x"));
                assert!(
                    att.iter()
                        .any(|(k, v)| k.as_str() == Some("dubbo") && v.as_str() == Some("2.0.2"))
                );
            }
            other => panic!("{other:?}"),
        }
        // Unknown service: 70 with Java's text; unknown method: 40.
        s.write_all(&request_frame(12, true, "no.Such", "hello", "x"))
            .await
            .unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status), (12, codes::SERVICE_ERROR));
        let text = error_text(&h, &body);
        assert!(
            text.starts_with("Not found exported service: no.Such:1.0.0:"),
            "{text}"
        );
        assert!(text.contains("may be version or group mismatch"), "{text}");
        s.write_all(&request_frame(13, true, PROBE, "nope", "x"))
            .await
            .unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status), (13, codes::BAD_REQUEST));
        assert!(error_text(&h, &body).contains("Service not found:test.Probe, nope"));
        // Generic invocation and $echo work on every service.
        let generic = codec::encode_request(
            Serialization::Hessian2,
            14,
            true,
            RequestHead {
                path: PROBE,
                version: "1.0.0",
                method: "$invoke",
                parameter_types: "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;",
            },
            3,
            &Payload::arguments(vec![
                "hello".into(),
                Value::typed_list("[string", vec!["java.lang.String".into()]),
                Value::typed_list("[object", vec!["generic".into()]),
            ]),
            &Value::map(vec![("generic".into(), "true".into())]),
            1 << 20,
        )
        .unwrap();
        s.write_all(&generic.to_vec()).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!(value_text(&h, &body).as_deref(), Some("Hello generic"));
        let echo = codec::encode_request(
            Serialization::Hessian2,
            15,
            true,
            RequestHead {
                path: PROBE,
                version: "1.0.0",
                method: "$echo",
                parameter_types: "Ljava/lang/Object;",
            },
            1,
            &Payload::hessian("ping".into()),
            &Value::map(vec![]),
            1 << 20,
        )
        .unwrap();
        s.write_all(&echo.to_vec()).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!(value_text(&h, &body).as_deref(), Some("ping"));
        // Unknown serialization id and undecodable bodies: 40, connection kept.
        let mut bad_ser = request_frame(16, true, PROBE, "hello", "x");
        bad_ser[2] = 0xc0 | 9;
        s.write_all(&bad_ser).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status), (16, codes::BAD_REQUEST));
        assert!(error_text(&h, &body).contains("Unexpected serialization id:9"));
        let mut garbage = Header {
            flags: 0xc2,
            status: 0,
            id: 17,
            len: 0,
        }
        .encode()
        .to_vec();
        garbage[15] = 3;
        garbage.extend_from_slice(&[0x05, b'2', b'.']);
        s.write_all(&garbage).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status), (17, codes::BAD_REQUEST));
        assert!(error_text(&h, &body).starts_with("Fail to decode request due to:"));
        // A bad magic number closes this connection only.
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0, "connection closed");
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        assert_eq!(hello(&c, "still up").await.unwrap(), "Hello still up");
        server.shutdown().await;
    })
    .await;
}

fn error_text(h: &Header, body: &[u8]) -> String {
    match codec::decode_response(Serialization::Hessian2, h.status, body).unwrap() {
        ResponseBody::Error(_, text) => text,
        other => panic!("{other:?}"),
    }
}

fn value_text(h: &Header, body: &[u8]) -> Option<String> {
    match codec::decode_response(Serialization::Hessian2, h.status, body).unwrap() {
        ResponseBody::Value(v, _) => v.as_str().map(str::to_owned),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn one_way_calls_run_without_answer() {
    bounded("one-way", async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let state = Arc::new(ProbeState {
            recorded: Mutex::new(Some(tx)),
            ..Default::default()
        });
        let server = serve(state).await;
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        c.call_oneway("record", &["java.lang.String"], ("fire",))
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some("fire"));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn metadata_and_fastjson() {
    bounded("fastjson", async {
        let server = serve(Arc::default()).await;
        let c = JavaClient::builder(format!(
            "dubbo://{}/{PROBE}?serialization=fastjson",
            server.local_addr()
        ))
        .version("1.0.0")
        .protocols(protocols(Dubbo2Config::default()))
        .connect()
        .await
        .unwrap();
        let mut request = Request::new(("json",));
        request.metadata_mut().insert("x-user", "ann").unwrap();
        let reply: String = c
            .call_with("user", &["java.lang.String"], request)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply, "json:ann");
        let greeter = GreeterClient::builder(
            format!("dubbo://{}?serialization=fastjson", server.local_addr()).as_str(),
        )
        .protocols(protocols(Dubbo2Config::default()))
        .connect()
        .await
        .unwrap();
        let reply = greeter
            .say_hello(HelloRequest {
                name: "json".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(reply.get_ref().message, "Hello json");
        // A raw fastjson request gets a fastjson answer.
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        let frame = codec::encode_request(
            Serialization::Fastjson,
            5,
            true,
            RequestHead {
                path: PROBE,
                version: "1.0.0",
                method: "hello",
                parameter_types: "Ljava/lang/String;",
            },
            1,
            &Payload::hessian("raw".into()),
            &Value::map(vec![]),
            1 << 20,
        )
        .unwrap();
        s.write_all(&frame.to_vec()).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!(h.serialization(), 6);
        assert_eq!(&body[..], b"4\n\"Hello raw\"\n{\"dubbo\":\"2.0.2\"}\n");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn payload_limits_on_both_sides() {
    bounded("payload", async {
        let server = serve_on(
            "127.0.0.1:0",
            Dubbo2Config::default().max_payload(4096),
            Arc::default(),
        )
        .await;
        let addr = server.local_addr();
        // Over the client's own limit: fails locally.
        let small = client(addr, Dubbo2Config::default().max_payload(1024)).await;
        let err = hello(&small, &"y".repeat(2000)).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
        // Over the server's limit: 40 "Data length too large", connection closed.
        let c = client(addr, Dubbo2Config::default()).await;
        let err = hello(&c, &"y".repeat(8000)).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
        assert!(err.message().contains("Data length too large"), "{err}");
        // Reply over the server's limit: 25.
        let err = c
            .call::<_, String>("big", &["int"], (8000,))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
        assert_eq!(err.metadata().get("dubbo2-status"), Some("25"));
        // Reply over the client's limit: fails that call, then the client reconnects.
        let err = small
            .call::<_, String>("big", &["int"], (2000,))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
        assert_eq!(hello(&small, "again").await.unwrap(), "Hello again");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn consumer_sends_heartbeats_when_idle_and_answers_them() {
    bounded("heartbeats", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A raw provider: answers heartbeats, counts them, sends one of its own.
        let provider = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut reader = FrameReader::new(1 << 20);
            let mut heartbeats = 0;
            let mut answered_ours = false;
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1500) {
                let event =
                    tokio::time::timeout(Duration::from_millis(200), reader.read(&mut s)).await;
                let Ok(Ok(Some(ReadEvent::Frame(h, _)))) = event else {
                    continue;
                };
                if h.is_request() && h.is_event() {
                    heartbeats += 1;
                    let reply =
                        codec::event_frame(Serialization::Hessian2, false, false, h.id, None);
                    s.write_all(&reply.to_vec()).await.unwrap();
                    if heartbeats == 2 {
                        let ours =
                            codec::event_frame(Serialization::Hessian2, true, true, 999, None);
                        s.write_all(&ours.to_vec()).await.unwrap();
                    }
                } else if !h.is_request() && h.is_event() && h.id == 999 {
                    answered_ours = true;
                }
            }
            (heartbeats, answered_ours)
        });
        let c = JavaClient::builder(format!("dubbo://{addr}"))
            .interface(PROBE)
            .protocols(protocols(
                Dubbo2Config::default()
                    .heartbeat_interval(Duration::from_millis(100))
                    .idle_timeout(Duration::from_secs(5)),
            ))
            .connect()
            .await
            .unwrap();
        let (heartbeats, answered) = provider.await.unwrap();
        // The connect probe plus at least a few idle heartbeats in 1.5 s.
        assert!(heartbeats >= 4, "{heartbeats} heartbeats");
        assert!(answered, "the consumer answered the provider's heartbeat");
        drop(c);
    })
    .await;
}

#[tokio::test]
async fn idle_connections_are_closed_by_the_server() {
    bounded("idle", async {
        let server = serve_on(
            "127.0.0.1:0",
            Dubbo2Config::default().idle_timeout(Duration::from_millis(300)),
            Arc::default(),
        )
        .await;
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 8];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("closed within 5 s")
            .unwrap_or(0);
        assert_eq!(n, 0);
        assert!(started.elapsed() >= Duration::from_millis(250));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn dead_and_silent_providers_are_unavailable_within_the_connect_timeout() {
    bounded("dead provider", async {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let config = Dubbo2Config::default().connect_timeout(Duration::from_millis(300));
        let c = client(closed_addr, config.clone()).await;
        let started = Instant::now();
        let err = hello(&c, "x").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        assert!(err.request_not_sent());
        assert!(started.elapsed() < Duration::from_secs(2));
        // Accepts TCP but never answers: the heartbeat probe times out.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_addr = silent.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let started = Instant::now();
        let err = JavaClient::builder(format!("dubbo://{silent_addr}"))
            .interface(PROBE)
            .protocols(protocols(config.clone()))
            .connect()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot connect"), "{err}");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
        let lazy = client(silent_addr, config).await;
        let err = hello(&lazy, "x").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        hold.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_restart_and_graceful_read_only_shutdown() {
    bounded("restart", async {
        let server = serve(Arc::default()).await;
        let addr = server.local_addr();
        let c = client(addr, Dubbo2Config::default()).await;
        assert_eq!(hello(&c, "one").await.unwrap(), "Hello one");
        // A slow call in flight survives the graceful shutdown.
        let slow = {
            let c = c.clone();
            tokio::spawn(async move { c.call::<_, String>("slow", &["long"], (1500u64,)).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let raw = TcpStream::connect(addr).await.unwrap();
        let shutdown = tokio::spawn(server.shutdown());
        // Other consumers are told: a one-way read-only event ("R").
        let mut raw = raw;
        let (h, body) = read_frame(&mut raw).await.expect("read-only event");
        assert!(h.is_request() && h.is_event() && !h.is_two_way(), "{h:?}");
        assert_eq!(&body[..], [0x01, b'R']);
        // Our consumer honours it: new calls stop using the draining connection (and the
        // listener is gone, so they fail) while the slow call still runs on it.
        let honoured = async {
            loop {
                match hello(&c, "during drain").await {
                    Err(err) => break err,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        };
        let err = tokio::time::timeout(Duration::from_secs(1), honoured)
            .await
            .expect("calls kept using the read-only connection");
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        assert!(!c.invoker().is_available());
        assert!(!slow.is_finished());
        assert_eq!(slow.await.unwrap().unwrap(), "done");
        shutdown.await.unwrap();
        // Nobody listens now.
        let err = hello(&c, "down").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        // Same port again: the consumer reconnects.
        let server = serve_on(&addr.to_string(), Dubbo2Config::default(), Arc::default()).await;
        assert_eq!(hello(&c, "two").await.unwrap(), "Hello two");
        assert!(c.invoker().is_available());
        // Unexported services are unknown at once.
        for e in server.exporters() {
            e.unexport();
        }
        let err = hello(&c, "gone").await.unwrap_err();
        assert_eq!(err.code(), Code::Unimplemented, "{err}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn references_share_one_connection_and_are_destroyed_alone() {
    bounded("shared references", async {
        let state = Arc::new(ProbeState::default());
        let server = serve(Arc::clone(&state)).await;
        let shared = protocols(Dubbo2Config::default());
        let connect = || {
            JavaClient::builder(format!("dubbo://{}", server.local_addr()))
                .interface(PROBE)
                .version("1.0.0")
                .protocols(shared.clone())
                .connect()
        };
        let a = connect().await.unwrap();
        let b = connect().await.unwrap();
        assert_eq!(a.call::<_, i32>("gather", &["int"], (1,)).await.unwrap(), 1);
        assert_eq!(b.call::<_, i32>("gather", &["int"], (2,)).await.unwrap(), 2);
        assert_eq!(
            state.peers.lock().unwrap().len(),
            1,
            "one connection per address"
        );
        a.invoker().destroy();
        let err = hello(&a, "x").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable);
        assert!(err.request_not_sent());
        assert!(!a.invoker().is_available());
        assert_eq!(hello(&b, "b").await.unwrap(), "Hello b");
        shared.destroy_all().await;
        let err = hello(&b, "x").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_connection_request_limit_applies_back_pressure() {
    bounded("request limit", async {
        let server = serve_on(
            "127.0.0.1:0",
            Dubbo2Config::default().max_concurrent_requests(2),
            Arc::default(),
        )
        .await;
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        let started = Instant::now();
        let calls = (0..5).map(|_| {
            let c = c.clone();
            async move { c.call::<_, String>("slow", &["long"], (300u64,)).await }
        });
        for r in futures_util::future::join_all(calls).await {
            assert_eq!(r.unwrap(), "done");
        }
        // Two at a time: three rounds of 300 ms.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_panicking_handler_gets_a_server_error_and_the_connection_goes_on() {
    bounded("panicking handler", async {
        let server = serve(Arc::default()).await;
        let c = client(server.local_addr(), Dubbo2Config::default()).await;
        // Panicking in the first poll (on the connection task) and after a wait (own task).
        for after_wait in [false, true] {
            let err = c
                .call::<_, ()>("panic", &["boolean"], (after_wait,))
                .await
                .unwrap_err();
            assert_eq!(
                err.code(),
                Code::Internal,
                "after_wait={after_wait}: {err:?}"
            );
            assert!(
                err.message().contains("panicked"),
                "after_wait={after_wait}: {err:?}"
            );
        }
        assert_eq!(hello(&c, "still here").await.unwrap(), "Hello still here");
        server.shutdown().await;
    })
    .await;
}

/// A raw `sayHello` request to the generated Greeter with `arg` as its argument.
fn greeter_frame(id: i64, arg: &Value) -> Vec<u8> {
    let head = RequestHead {
        path: "org.apache.dubbo.sample.Greeter",
        version: "",
        method: "sayHello",
        parameter_types: "Lorg/apache/dubbo/sample/HelloRequest;",
    };
    let attachments = Value::map(vec![("timeout".into(), "5000".into())]);
    encode_frame(id, true, head, arg, &attachments)
}

#[tokio::test]
async fn generated_methods_read_their_argument_typed_or_report_a_mismatch() {
    bounded("typed arguments", async {
        let server = serve(Arc::default()).await;
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        // The argument object, read straight into `HelloRequest`.
        let typed = Value::object(
            "org.apache.dubbo.sample.HelloRequest",
            vec![
                ("name".into(), "raw".into()),
                ("payload".into(), Value::Binary(vec![1, 2])),
            ],
        );
        s.write_all(&greeter_frame(1, &typed)).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        match codec::decode_response(Serialization::Hessian2, h.status, &body).unwrap() {
            ResponseBody::Value(v, _) => {
                assert_eq!(v.get("message").and_then(Value::as_str), Some("Hello raw"));
                assert_eq!(v.get("payload"), Some(&Value::Binary(vec![1, 2])));
            }
            other => panic!("{other:?}"),
        }
        // A string where a `HelloRequest` is declared: the typed read fails, the values go to
        // the service, whose decoding reports the mismatch as an exception.
        s.write_all(&greeter_frame(2, &"x".into())).await.unwrap();
        let (h, body) = read_frame(&mut s).await.unwrap();
        assert_eq!((h.id, h.status), (2, codes::OK));
        match codec::decode_response(Serialization::Hessian2, h.status, &body).unwrap() {
            ResponseBody::Exception(e, _) => {
                let text = format!("{e:?}");
                assert!(text.contains("cannot decode"), "{text}");
                assert!(text.contains("HelloRequest"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        server.shutdown().await;
    })
    .await;
}
