//! End-to-end tests of the Triple protocol: our client against our server, plus raw HTTP/2
//! checks of what goes on the wire.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dubbo_runtime::codegen::{CallKind, MethodDescriptor, ServiceDescriptor};
use dubbo_runtime::protocol::Protocol as _;
use dubbo_runtime::triple::{TripleConfig, TripleProtocol};
use dubbo_runtime::{
    BoxStream, Client, Code, Request, Response, Server, ServiceOptions, ServiceTarget, Status,
    Streaming, Url,
};
use examples::greeter::{Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest};
use examples::greeter_checks::{Target, run_all};
use examples::greeter_service::GreeterService;
use support::*;

#[tokio::test]
async fn contract_checks_pass_for_every_call_kind() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let results = run_all(&Target {
        url: format!("tri://{}", server.local_addr()),
        ..Default::default()
    })
    .await;
    let failures: Vec<_> = results.iter().filter(|r| r.outcome.is_err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(results.len() >= 11);
    server.shutdown().await;
}

#[tokio::test]
async fn errors_carry_code_message_and_trailers() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let client = client(server.local_addr()).await;
    for code in [1, 3, 5, 7, 8, 13, 14, 16] {
        let status = client
            .say_hello(named(&format!("error:{code}")))
            .await
            .unwrap_err();
        assert_eq!(status.code() as i32, code);
        assert_eq!(status.message(), "requested");
        assert_eq!(status.metadata().get("x-trailer"), Some("done"));
    }
    // On the wire: an error before any message is a single HEADERS frame (trailers-only).
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/SayHello",
        GRPC,
        grpc_frame(0, &hello_bytes("error:5")),
    )
    .await;
    assert!(raw.headers_only, "{raw:?}");
    assert_eq!(raw.status, http::StatusCode::OK);
    assert_eq!(raw.grpc_status().as_deref(), Some("5"));
    assert_eq!(raw.headers.get("grpc-message").unwrap(), "requested");
    assert_eq!(raw.headers.get("x-trailer").unwrap(), "done");
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_service_and_method_are_unimplemented() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    for path in [
        "/org.apache.dubbo.sample.Greeter/NoSuchMethod",
        "/no.such.Service/SayHello",
        "/malformed",
    ] {
        let raw = raw_call(server.local_addr(), "POST", path, GRPC, grpc_frame(0, b"")).await;
        assert!(raw.headers_only, "{path}: {raw:?}");
        assert_eq!(raw.grpc_status().as_deref(), Some("12"), "{path}");
    }
    // Java-style lower-case first letter reaches SayHello.
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/sayHello",
        GRPC,
        grpc_frame(0, &hello_bytes("java")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("0"));

    // Through our client: a method the server does not have.
    static OTHER: ServiceDescriptor = ServiceDescriptor {
        name: "org.apache.dubbo.sample.Greeter",
        methods: &[MethodDescriptor {
            name: "Missing",
            path: "/org.apache.dubbo.sample.Greeter/Missing",
            kind: CallKind::Unary,
            index: 0,
            request_class: "",
            response_class: "",
            hessian_request: None,
        }],
    };
    let protocol = TripleProtocol::new(TripleConfig::default());
    let invoker = protocol
        .refer(Url::parse(&format!("tri://{}", server.local_addr())).unwrap())
        .await
        .unwrap();
    let client = Client::new(invoker, ServiceTarget::new(OTHER.name));
    let status = client
        .unary::<HelloRequest, HelloReply>(&OTHER.methods[0], Request::new(named("x")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    server.shutdown().await;
}

#[tokio::test]
async fn non_grpc_requests_get_plain_http_errors() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let path = "/org.apache.dubbo.sample.Greeter/SayHello";
    let raw = raw_call(server.local_addr(), "GET", path, GRPC, Bytes::new()).await;
    assert_eq!(raw.status, http::StatusCode::METHOD_NOT_ALLOWED);
    let raw = raw_call(
        server.local_addr(),
        "POST",
        path,
        &[("content-type", "text/plain")],
        Bytes::from_static(b"hi"),
    )
    .await;
    assert_eq!(raw.status, http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    server.shutdown().await;
}

#[tokio::test]
async fn reserved_flag_bits_and_bad_encodings_are_rejected() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let path = "/org.apache.dubbo.sample.Greeter/SayHello";
    let raw = raw_call(
        server.local_addr(),
        "POST",
        path,
        GRPC,
        grpc_frame(0x80, &hello_bytes("x")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("13"), "{raw:?}");
    // Compressed flag without grpc-encoding.
    let raw = raw_call(
        server.local_addr(),
        "POST",
        path,
        GRPC,
        grpc_frame(0x01, &hello_bytes("x")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("13"), "{raw:?}");
    // An encoding we do not implement.
    let headers = [GRPC[0], GRPC[1], ("grpc-encoding", "snappy")];
    let raw = raw_call(
        server.local_addr(),
        "POST",
        path,
        &headers,
        grpc_frame(0, &hello_bytes("x")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("12"), "{raw:?}");
    assert_eq!(raw.headers.get("grpc-accept-encoding").unwrap(), "gzip");
    // A body cut off inside a message.
    let mut truncated = grpc_frame(0, &hello_bytes("abcdef")).to_vec();
    truncated.truncate(8);
    let raw = raw_call(
        server.local_addr(),
        "POST",
        path,
        GRPC,
        Bytes::from(truncated),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("13"), "{raw:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_body_that_arrives_late_is_still_answered() {
    // The server starts each call on the connection task; a message still on its way moves
    // the call to a task of its own, which must pick up the rest of the body.
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let path = "/org.apache.dubbo.sample.Greeter/SayHello";
    let frame = grpc_frame(0, &hello_bytes("late"));
    let reply = grpc_frame(0, &hello_bytes("Hello late")).to_vec();
    let cases = [
        // The message split across two DATA frames.
        (vec![frame.slice(..3), frame.slice(3..)], "0", reply.clone()),
        // Headers first, then the whole body later.
        (vec![Bytes::new(), frame.clone()], "0", reply),
        // A body that ends inside the message after the pause is still an error.
        (vec![frame.slice(..3), frame.slice(3..6)], "13", Vec::new()),
    ];
    for (parts, status, data) in cases {
        let pause = Duration::from_millis(100);
        let raw = raw_call_in_parts(server.local_addr(), "POST", path, GRPC, parts, pause).await;
        assert_eq!(raw.grpc_status().as_deref(), Some(status), "{raw:?}");
        assert_eq!(raw.data, data, "{raw:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_messages_are_resource_exhausted() {
    let config = TripleConfig::default().max_receive_message_size(1024);
    let server = start_greeter(config, ServiceOptions::new()).await;
    let client = client(server.local_addr()).await;
    let status = client
        .say_hello(HelloRequest {
            name: "big".into(),
            count: 0,
            payload: vec![0; 2048],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
    // A hostile length prefix is refused before the body arrives.
    let mut frame = vec![0u8, 0xff, 0xff, 0xff, 0xff];
    frame.extend_from_slice(b"tiny");
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/SayHello",
        GRPC,
        Bytes::from(frame),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("8"));
    // Small messages still work on the same server.
    client.say_hello(named("small")).await.unwrap();

    // The client enforces its own receive limit too.
    let small_client = GreeterClient::builder(format!("tri://{}", server.local_addr()))
        .max_message_size(16)
        .connect()
        .await
        .unwrap();
    let status = small_client
        .say_hello(named("a name long enough to exceed sixteen bytes"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    server.shutdown().await;
}

#[tokio::test]
async fn client_deadline_is_enforced_locally_and_sent_as_grpc_timeout() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let client = GreeterClient::builder(format!("tri://{}", server.local_addr()))
        .timeout(Duration::from_millis(150))
        .connect()
        .await
        .unwrap();
    let started = Instant::now();
    let status = client.say_hello(named("sleep:3000")).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A per-call timeout overrides the client default.
    let mut req = Request::new(named("sleep:300"));
    req.set_timeout(Duration::from_secs(5));
    assert_eq!(
        client.say_hello(req).await.unwrap().into_inner().message,
        "Hello sleep:300"
    );
    // Streams observe the deadline too.
    let mut req = Request::new(named("x"));
    req.set_timeout(Duration::from_millis(200));
    let (tx, rx) = tokio::sync::mpsc::channel::<HelloRequest>(1);
    let requests =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    let mut replies = client.say_hello_bidi(requests).await.unwrap().into_inner();
    let status = replies.message().await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    drop(tx);
    server.shutdown().await;
}

/// A Greeter whose handler records whether it was dropped before finishing.
struct Tracked {
    finished: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Greeter for Tracked {
    async fn say_hello(
        &self,
        _request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let _flag = DropFlag(Arc::clone(&self.dropped));
        tokio::time::sleep(Duration::from_secs(5)).await;
        self.finished.store(true, Ordering::SeqCst);
        Ok(Response::new(HelloReply::default()))
    }
    async fn say_hello_server_stream(
        &self,
        _request: Request<HelloRequest>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        Err(Status::unimplemented("not used"))
    }
    async fn say_hello_client_stream(
        &self,
        _request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<HelloReply>, Status> {
        Err(Status::unimplemented("not used"))
    }
    async fn say_hello_bidi(
        &self,
        _request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

#[tokio::test]
async fn server_enforces_grpc_timeout_and_drops_the_handler() {
    let finished = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let server = Server::builder()
        .add_service(GreeterServer::new(Tracked {
            finished: Arc::clone(&finished),
            dropped: Arc::clone(&dropped),
        }))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let headers = [GRPC[0], GRPC[1], ("grpc-timeout", "100m")];
    let started = Instant::now();
    // The raw client does not enforce the deadline itself: the answer comes from the server.
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/SayHello",
        &headers,
        grpc_frame(0, &hello_bytes("x")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("4"), "{raw:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        dropped.load(Ordering::SeqCst),
        "handler future was not dropped"
    );
    assert!(!finished.load(Ordering::SeqCst));
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/SayHello",
        &[GRPC[0], GRPC[1], ("grpc-timeout", "banana")],
        grpc_frame(0, &hello_bytes("x")),
    )
    .await;
    assert_eq!(raw.grpc_status().as_deref(), Some("13"));
    server.shutdown().await;
}

#[tokio::test]
async fn client_cancellation_drops_the_server_handler() {
    let finished = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let server = Server::builder()
        .add_service(GreeterServer::new(Tracked {
            finished: Arc::clone(&finished),
            dropped: Arc::clone(&dropped),
        }))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let client = client(server.local_addr()).await;
    let mut req = Request::new(named("x"));
    req.set_timeout(Duration::from_millis(100));
    assert_eq!(
        client.say_hello(req).await.unwrap_err().code(),
        Code::DeadlineExceeded
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while !dropped.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "RST_STREAM did not cancel the handler"
    );
    assert!(!finished.load(Ordering::SeqCst));
    server.shutdown().await;
}

#[tokio::test]
async fn gzip_both_ways() {
    let config = TripleConfig::default().compress_responses(true);
    let server = start_greeter(config, ServiceOptions::new()).await;
    let client = GreeterClient::builder(format!("tri://{}", server.local_addr()))
        .send_gzip()
        .connect()
        .await
        .unwrap();
    let payload = vec![42u8; 100_000];
    let reply = client
        .say_hello(HelloRequest {
            name: "zip".into(),
            count: 0,
            payload: payload.clone(),
        })
        .await
        .unwrap();
    assert_eq!(reply.metadata().get("grpc-encoding"), Some("gzip"));
    assert_eq!(reply.into_inner().payload, payload);
    // Without grpc-accept-encoding the server does not compress.
    let raw = raw_call(
        server.local_addr(),
        "POST",
        "/org.apache.dubbo.sample.Greeter/SayHello",
        GRPC,
        grpc_frame(0, &hello_bytes("plain")),
    )
    .await;
    assert!(raw.headers.get("grpc-encoding").is_none());
    assert_eq!(raw.data[0], 0);
    server.shutdown().await;
}

#[tokio::test]
async fn two_hundred_concurrent_calls_share_one_connection() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let client = client(server.local_addr()).await;
    let calls = (0..200).map(|i| {
        let client = client.clone();
        async move {
            let reply = client.say_hello(named("sleep:50")).await?;
            Ok::<_, Status>((i, reply.into_inner().message))
        }
    });
    let started = Instant::now();
    let results = futures_util::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok((_, m)) if m == "Hello sleep:50"))
    );
    // 200 calls sleeping 50 ms each finish together only if they were multiplexed.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn several_services_share_one_port_and_unexport_stops_routing() {
    let server = Server::builder()
        .add_service_with(
            GreeterServer::new(GreeterService),
            ServiceOptions::new().version("1.0.0"),
        )
        .add_service_with(
            GreeterServer::new(GreeterService),
            ServiceOptions::new().version("2.0.0"),
        )
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let exporters = server.exporters();
    assert_eq!(exporters.len(), 2);
    assert_eq!(exporters[0].url().port(), exporters[1].url().port());
    let url = format!("tri://{}", server.local_addr());
    let v1 = GreeterClient::builder(url.as_str())
        .version("1.0.0")
        .connect()
        .await
        .unwrap();
    let v2 = GreeterClient::builder(url.as_str())
        .version("2.0.0")
        .connect()
        .await
        .unwrap();
    v1.say_hello(named("a")).await.unwrap();
    v2.say_hello(named("b")).await.unwrap();
    exporters[0].unexport();
    assert_eq!(
        v1.say_hello(named("a")).await.unwrap_err().code(),
        Code::Unimplemented
    );
    v2.say_hello(named("b")).await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn group_and_version_routing_follows_java_fallbacks() {
    let server = start_greeter(
        TripleConfig::default(),
        ServiceOptions::new().version("1.0.0").group("blue"),
    )
    .await;
    let url = format!("tri://{}", server.local_addr());
    // Plain gRPC clients send neither header and still reach the only export.
    GreeterClient::connect(url.as_str())
        .await
        .unwrap()
        .say_hello(named("x"))
        .await
        .unwrap();
    let exact = GreeterClient::builder(url.as_str())
        .version("1.0.0")
        .group("blue")
        .connect()
        .await
        .unwrap();
    exact.say_hello(named("x")).await.unwrap();
    let wrong = GreeterClient::builder(url.as_str())
        .version("2.0.0")
        .connect()
        .await
        .unwrap();
    assert_eq!(
        wrong.say_hello(named("x")).await.unwrap_err().code(),
        Code::Unimplemented
    );
    let wrong_group = GreeterClient::builder(url.as_str())
        .group("green")
        .connect()
        .await
        .unwrap();
    assert_eq!(
        wrong_group.say_hello(named("x")).await.unwrap_err().code(),
        Code::Unimplemented
    );
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_destroy_lets_in_flight_calls_finish() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let addr = server.local_addr();
    let client = client(addr).await;
    let done = Arc::new(AtomicUsize::new(0));
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let client = client.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let reply = client.say_hello(named("sleep:400")).await;
                done.fetch_add(1, Ordering::SeqCst);
                reply.map(|r| (i, r.into_inner().message))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shutdown = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(50)).await;
    // New connections are refused once shutdown started.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    for call in calls {
        let result = call.await.unwrap();
        assert!(
            matches!(&result, Ok((_, m)) if m == "Hello sleep:400"),
            "{result:?}"
        );
    }
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 50);
}

#[tokio::test]
async fn destroy_closes_connections_after_the_grace_period() {
    let config = TripleConfig::default().grace_period(Duration::from_millis(200));
    let server = start_greeter(config, ServiceOptions::new()).await;
    let client = client(server.local_addr()).await;
    let call = tokio::spawn(async move { client.say_hello(named("sleep:10000")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let status = tokio::time::timeout(Duration::from_secs(2), call)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            status.code(),
            Code::Unavailable | Code::Cancelled | Code::Internal
        ),
        "{status}"
    );
}

#[tokio::test]
async fn client_reconnects_after_server_restart() {
    let server = start_greeter(TripleConfig::default(), ServiceOptions::new()).await;
    let addr = server.local_addr();
    let client = client(addr).await;
    client.say_hello(named("before")).await.unwrap();
    server.shutdown().await;
    let status = client.say_hello(named("down")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    let server = Server::builder()
        .add_service(GreeterServer::new(GreeterService))
        .start(format!("tri://{addr}"))
        .await
        .unwrap();
    let reply = client.say_hello(named("after")).await.unwrap();
    assert_eq!(reply.into_inner().message, "Hello after");
    server.shutdown().await;
}

#[tokio::test]
async fn dead_servers_fail_fast_with_unavailable() {
    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = GreeterClient::connect(format!("tri://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(err.is_io(), "{err}");
    let lazy = GreeterClient::builder(format!("tri://127.0.0.1:{port}"))
        .lazy()
        .connect()
        .await
        .unwrap();
    let status = lazy.say_hello(named("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);

    // A peer that accepts TCP but never speaks HTTP/2: the connect timeout bounds the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let client = GreeterClient::builder(format!("tri://{silent_addr}"))
        .connect_timeout(Duration::from_millis(300))
        .lazy()
        .connect()
        .await
        .unwrap();
    let started = Instant::now();
    let status = client.say_hello(named("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A bare HTTP/2 server that answers every request with the given status and headers, and
/// records the request headers it saw.
async fn fake_server(
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    end_stream: bool,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<http::HeaderMap>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            let headers = headers.clone();
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(socket).await.unwrap();
                while let Some(Ok((request, mut respond))) = conn.accept().await {
                    let _ = tx.send(request.headers().clone());
                    let mut response = http::Response::builder().status(status);
                    for (k, v) in &headers {
                        response = response.header(*k, *v);
                    }
                    let mut send = respond
                        .send_response(response.body(()).unwrap(), end_stream)
                        .unwrap();
                    if !end_stream {
                        send.send_data(Bytes::from_static(b"not grpc"), true)
                            .unwrap();
                    }
                }
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn missing_grpc_status_maps_from_http_status() {
    for (http_status, code) in [
        (503, Code::Unavailable),
        (404, Code::Unimplemented),
        (401, Code::Unauthenticated),
        (500, Code::Unknown),
    ] {
        let (addr, _) = fake_server(http_status, vec![("content-type", "text/plain")], true).await;
        let client = client(addr).await;
        let status = client.say_hello(named("x")).await.unwrap_err();
        assert_eq!(status.code(), code, "HTTP {http_status}: {status}");
    }
    // 200 with a non-gRPC body: not deframed as gRPC.
    let (addr, _) = fake_server(200, vec![("content-type", "text/html")], false).await;
    let status = client(addr).await.say_hello(named("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unknown, "{status}");
    // Trailers-only with grpc-status wins over the HTTP status (Java sends 404 + status 12).
    let (addr, _) = fake_server(
        404,
        vec![
            ("content-type", "application/grpc"),
            ("grpc-status", "12"),
            ("grpc-message", "Invoker%20not%20found"),
        ],
        true,
    )
    .await;
    let status = client(addr).await.say_hello(named("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(status.message(), "Invoker not found");
}

#[tokio::test]
async fn client_sends_triple_and_grpc_headers() {
    let (addr, mut seen) = fake_server(
        200,
        vec![("content-type", "application/grpc"), ("grpc-status", "0")],
        true,
    )
    .await;
    let client = GreeterClient::builder(format!("tri://{addr}"))
        .version("1.0.0")
        .group("blue")
        .application("my-app")
        .timeout(Duration::from_secs(3))
        .connect()
        .await
        .unwrap();
    let mut req = Request::new(named("x"));
    req.metadata_mut().insert("x-custom", "v").unwrap();
    let _ = client.say_hello(req).await;
    let headers = seen.recv().await.unwrap();
    assert_eq!(headers.get("te").unwrap(), "trailers");
    assert_eq!(headers.get("content-type").unwrap(), "application/grpc");
    assert_eq!(headers.get("tri-service-version").unwrap(), "1.0.0");
    assert_eq!(headers.get("tri-service-group").unwrap(), "blue");
    assert_eq!(headers.get("tri-consumer-appname").unwrap(), "my-app");
    assert_eq!(headers.get("x-custom").unwrap(), "v");
    let timeout = headers.get("grpc-timeout").unwrap().to_str().unwrap();
    assert!(
        timeout.ends_with('u') || timeout.ends_with('m'),
        "{timeout}"
    );
    assert!(timeout.len() <= 9);
}

#[tokio::test]
async fn every_call_in_its_own_task_passes_the_contract_too() {
    let config = TripleConfig::default().spawn_handlers(true);
    let server = start_greeter(config, ServiceOptions::new()).await;
    let results = run_all(&Target {
        url: format!("tri://{}", server.local_addr()),
        ..Default::default()
    })
    .await;
    let failures: Vec<_> = results.iter().filter(|r| r.outcome.is_err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    server.shutdown().await;
}

/// Panics in `SayHello` when asked to; everything else is the contract.
struct Panicky;

impl Greeter for Panicky {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        if request.get_ref().name == "panic" {
            panic!("handler panic requested by the test");
        }
        GreeterService.say_hello(request).await
    }
    async fn say_hello_server_stream(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        GreeterService.say_hello_server_stream(request).await
    }
    async fn say_hello_client_stream(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<HelloReply>, Status> {
        GreeterService.say_hello_client_stream(request).await
    }
    async fn say_hello_bidi(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        GreeterService.say_hello_bidi(request).await
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_own_call() {
    let server = Server::builder()
        .add_service(GreeterServer::new(Panicky))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let client = client(server.local_addr()).await;
    // Calls in flight on the same connection while one handler panics.
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.say_hello(named("sleep:200")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client.say_hello(named("panic")).await.is_err());
    assert_eq!(
        slow.await.unwrap().unwrap().into_inner().message,
        "Hello sleep:200"
    );
    assert_eq!(
        client
            .say_hello(named("after"))
            .await
            .unwrap()
            .into_inner()
            .message,
        "Hello after"
    );
    server.shutdown().await;
}
