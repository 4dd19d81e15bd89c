//! The gRPC interop-test cases (`grpc.testing.TestService`) in every direction, plaintext and
//! TLS:
//!
//! - our `interop-client` against our `interop-server`;
//! - `interop/python/interop_client.py` (grpcio) against our `interop-server`;
//! - our `interop-client` against `interop/python/interop_server.py` (grpcio).
//!
//! Each direction runs every case in one client process (`--test_case all`) and fails unless
//! each case reports `ok`. Against our server, the test also checks that the cancelled calls
//! reached their handlers and dropped them (the server logs it), and that the server is still
//! running afterwards. TLS runs use a PKI made at test time whose server certificate names
//! `foo.test.google.fr` (the name interop clients pass as `--server_host_override`).
//!
//! In-process tests below pin the runtime fixes the cases needed: per-message compression
//! flags on client and server streams, and trailers-only OK answers to streaming calls.

#![cfg(unix)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use dubbo_runtime::{Code, Server, ServerHandle};
use examples::interop::proto::{
    Empty, StreamingOutputCallRequest, TestServiceClient, TestServiceServer,
};
use examples::interop::{
    ALL_CASES, ClientSettings, InteropClient, InteropService, TestServiceImpl,
};
use test_support::interop::{CaseReport, ScratchDir, start_server_with_stderr, wait_for_text};
use test_support::pki::TestPki;
use test_support::{
    CHECKS_TIMEOUT, RunningServer, SharedBuf, python, repo_root, run_bounded, start_server, tail,
};

const SERVER_NAME: &str = "foo.test.google.fr";

/// A scratch directory holding `ca.pem`, `server.pem` and `server.key`.
fn pki() -> ScratchDir {
    let dir = ScratchDir::new("dubbo-interop-pki");
    TestPki::generate(&[SERVER_NAME, "localhost", "127.0.0.1"])
        .write_to(dir.path())
        .expect("writing the test PKI");
    dir
}

fn server_tls_args(pki: &Path) -> Vec<String> {
    vec![
        "--use_tls".into(),
        "true".into(),
        "--tls_cert_file".into(),
        pki.join("server.pem").display().to_string(),
        "--tls_key_file".into(),
        pki.join("server.key").display().to_string(),
    ]
}

fn client_tls_args(pki: &Path) -> Vec<String> {
    vec![
        "--use_tls".into(),
        "true".into(),
        "--ca_file".into(),
        pki.join("ca.pem").display().to_string(),
        "--server_host_override".into(),
        SERVER_NAME.into(),
    ]
}

fn python_cmd(script: &str) -> Command {
    let root = repo_root();
    let mut cmd = Command::new(python());
    cmd.arg(root.join("interop/python").join(script))
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    cmd
}

fn rust_server(tls: Option<&Path>) -> (RunningServer, SharedBuf) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_interop-server"));
    cmd.args(["--host", "127.0.0.1", "--port", "0"])
        .args(tls.map(server_tls_args).unwrap_or_default());
    start_server_with_stderr("interop-server", cmd)
}

fn python_server(tls: Option<&Path>) -> RunningServer {
    let mut cmd = python_cmd("interop_server.py");
    cmd.args(["--host", "127.0.0.1", "--port", "0"])
        .args(tls.map(server_tls_args).unwrap_or_default());
    start_server("interop_server.py", cmd)
}

fn client_args(server: &RunningServer, tls: Option<&Path>, cases: &str) -> Vec<String> {
    let port = server.addr.rsplit_once(':').map_or("", |(_, p)| p);
    let mut args: Vec<String> = vec![
        "--server_host".into(),
        "127.0.0.1".into(),
        "--server_port".into(),
        port.into(),
        "--test_case".into(),
        cases.into(),
    ];
    args.extend(tls.map(client_tls_args).unwrap_or_default());
    args
}

fn rust_client(server: &RunningServer, tls: Option<&Path>, cases: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_interop-client"));
    cmd.args(client_args(server, tls, cases));
    cmd
}

fn python_client(server: &RunningServer, tls: Option<&Path>) -> Command {
    let mut cmd = python_cmd("interop_client.py");
    cmd.args(client_args(server, tls, "all"));
    cmd
}

/// Runs a client over every case and asserts that each one passed.
fn assert_all_cases_pass(direction: &str, cmd: Command) {
    let out = run_bounded(direction, cmd, CHECKS_TIMEOUT);
    println!(
        "---- {direction} ({}, {:?}) ----\n{}",
        out.describe_status(),
        out.elapsed,
        out.stdout
    );
    let report = CaseReport::parse(&out.stdout);
    let missing: Vec<&str> = ALL_CASES
        .iter()
        .copied()
        .filter(|case| !report.passed(case))
        .collect();
    assert!(
        out.success() && missing.is_empty() && report.failed.is_empty(),
        "{direction}: exit {}, cases not passed: {missing:?}, failures: {:#?}\n---- stderr ----\n{}",
        out.describe_status(),
        report.failed,
        tail(&out.stderr, 8000),
    );
}

/// After a full run against our server: each cancelled call reached its handler, which was
/// dropped (the server logs it), and the server is still up.
fn assert_server_saw_cancellations(mut server: RunningServer, stderr: &SharedBuf) {
    for method in ["StreamingInputCall", "FullDuplexCall"] {
        let needle = format!("{method} ended before completion");
        assert!(
            wait_for_text(stderr, &needle, Duration::from_secs(5)),
            "the server never logged {needle:?}; stderr:\n{}",
            tail(&stderr.text(), 8000)
        );
    }
    assert!(
        !server.guard.has_exited(),
        "interop-server exited during the run; stderr:\n{}",
        tail(&stderr.text(), 8000)
    );
    drop(server);
}

#[test]
fn rust_client_passes_every_case_against_rust_server() {
    let (server, stderr) = rust_server(None);
    assert_all_cases_pass(
        "interop-client -> interop-server",
        rust_client(&server, None, "all"),
    );
    assert_server_saw_cancellations(server, &stderr);
}

#[test]
fn rust_client_passes_every_case_against_rust_server_over_tls() {
    let pki = pki();
    let (server, stderr) = rust_server(Some(pki.path()));
    assert_all_cases_pass(
        "interop-client -> interop-server (TLS)",
        rust_client(&server, Some(pki.path()), "all"),
    );
    assert_server_saw_cancellations(server, &stderr);
}

#[test]
fn grpcio_client_passes_every_case_against_rust_server() {
    let (server, stderr) = rust_server(None);
    assert_all_cases_pass(
        "interop_client.py -> interop-server",
        python_client(&server, None),
    );
    assert_server_saw_cancellations(server, &stderr);
}

#[test]
fn grpcio_client_passes_every_case_against_rust_server_over_tls() {
    let pki = pki();
    let (server, stderr) = rust_server(Some(pki.path()));
    assert_all_cases_pass(
        "interop_client.py -> interop-server (TLS)",
        python_client(&server, Some(pki.path())),
    );
    assert_server_saw_cancellations(server, &stderr);
}

#[test]
fn rust_client_passes_every_case_against_grpcio_server() {
    let server = python_server(None);
    assert_all_cases_pass(
        "interop-client -> interop_server.py",
        rust_client(&server, None, "all"),
    );
}

#[test]
fn rust_client_passes_every_case_against_grpcio_server_over_tls() {
    let pki = pki();
    let server = python_server(Some(pki.path()));
    assert_all_cases_pass(
        "interop-client -> interop_server.py (TLS)",
        rust_client(&server, Some(pki.path()), "all"),
    );
}

/// The client's verdicts mean something: against a server without `TestService` the calls
/// fail (and the exit code says so) while `unimplemented_service` still passes.
#[test]
fn rust_client_fails_cases_a_server_does_not_support() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greeter-server"));
    cmd.args(["--addr", "127.0.0.1:0"]);
    let server = start_server("greeter-server", cmd);
    let out = run_bounded(
        "interop-client -> greeter-server",
        rust_client(&server, None, "empty_unary,unimplemented_service"),
        CHECKS_TIMEOUT,
    );
    let report = CaseReport::parse(&out.stdout);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stdout);
    assert!(report.passed("unimplemented_service"), "{}", out.stdout);
    assert!(
        report
            .failed
            .iter()
            .any(|(case, reason)| case == "empty_unary" && reason.contains("UNIMPLEMENTED")),
        "{}",
        out.stdout
    );
    // A TLS client without a trust anchor is refused before any case runs.
    let out = run_bounded(
        "interop-client --use_tls without --ca_file",
        {
            let mut cmd = rust_client(&server, None, "empty_unary");
            cmd.args(["--use_tls", "true"]);
            cmd
        },
        CHECKS_TIMEOUT,
    );
    assert!(!out.success(), "{}", out.stdout);
    assert!(out.stdout.contains("FAIL empty_unary"), "{}", out.stdout);
}

// ---- in-process regression tests for the runtime fixes ------------------------------------

async fn in_process_server() -> ServerHandle {
    Server::builder()
        .add_service(InteropService::new())
        .start("tri://127.0.0.1:0")
        .await
        .expect("server starts")
}

async fn in_process_client(server: &ServerHandle) -> InteropClient {
    let port = server.local_addr().port();
    InteropClient::connect(ClientSettings::new("127.0.0.1", port))
        .await
        .expect("client connects")
}

/// Server side: messages of a client stream report whether their frame was compressed
/// (`Streaming::last_message_compressed`), so `expect_compressed` can be checked per message.
/// Before the fix the flag was dropped and every message read as `None`.
#[tokio::test]
async fn client_stream_messages_report_their_compression() {
    let server = in_process_server().await;
    let client = in_process_client(&server).await;
    let outcome = client.run("client_compressed_streaming").await;
    assert!(outcome.result.is_ok(), "{}", outcome.line());
    server.shutdown().await;
}

/// Client side: messages of a server stream report their compression flag, `Some(false)`
/// for plain frames too (not `None`).
#[tokio::test]
async fn server_stream_messages_report_their_compression() {
    let server = in_process_server().await;
    let client = in_process_client(&server).await;
    let outcome = client.run("server_compressed_streaming").await;
    assert!(outcome.result.is_ok(), "{}", outcome.line());
    let mut stream = client
        .test
        .streaming_output_call(StreamingOutputCallRequest {
            response_parameters: vec![Default::default()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    assert_eq!(stream.last_message_compressed(), Some(false));
    server.shutdown().await;
}

/// A bare HTTP/2 server answering every request with a trailers-only `grpc-status: 0`, as
/// grpcio does for a stream with no messages.
async fn trailers_only_ok_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = conn.accept().await {
                    let response = http::Response::builder()
                        .status(200)
                        .header("content-type", "application/grpc")
                        .header("grpc-status", "0")
                        .header("x-trailer", "only")
                        .body(())
                        .unwrap();
                    let _ = respond.send_response(response, true);
                }
            });
        }
    });
    addr
}

/// A trailers-only OK ends a server-streaming or bidi call with no messages (before the fix
/// the client failed it with INTERNAL); a unary call still needs its message.
#[tokio::test]
async fn trailers_only_ok_is_an_empty_stream() {
    let addr = trailers_only_ok_server().await;
    let client = TestServiceClient::builder(format!("tri://{addr}"))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let mut stream = client
        .streaming_output_call(StreamingOutputCallRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_none());
    assert_eq!(
        stream.trailers().and_then(|t| t.get("x-trailer")),
        Some("only")
    );
    let mut stream = client
        .full_duplex_call(futures_util::stream::empty())
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_none());
    assert_eq!(
        stream.trailers().and_then(|t| t.get("x-trailer")),
        Some("only")
    );
    let status = client.empty_call(Empty {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status}");
}

/// The typed `TestServiceImpl` alone (no payload-level wrapper) serves the plain cases too.
#[tokio::test]
async fn typed_service_serves_the_plain_cases() {
    let server = Server::builder()
        .add_service(TestServiceServer::new(TestServiceImpl))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let client = in_process_client(&server).await;
    for case in [
        "large_unary",
        "client_streaming",
        "server_streaming",
        "ping_pong",
        "empty_stream",
        "status_code_and_message",
        "custom_metadata",
        "client_compressed_unary",
        "client_compressed_streaming",
    ] {
        let outcome = client.run(case).await;
        assert!(outcome.result.is_ok(), "{}", outcome.line());
    }
    server.shutdown().await;
}

/// A bare HTTP/2 server answering every request at once with a trailers-only
/// `UNIMPLEMENTED`, without reading the request body (h2 then resets the stream).
async fn instant_unimplemented_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((request, mut respond))) = conn.accept().await {
                    let response = http::Response::builder()
                        .status(200)
                        .header("content-type", "application/grpc")
                        .header("grpc-status", "12")
                        .body(())
                        .unwrap();
                    let _ = respond.send_response(response, true);
                    drop(request);
                }
            });
        }
    });
    addr
}

/// A server may answer a unary call (here with a trailers-only error) and reset the stream
/// before the client has written the request message. The call must end with the server's
/// status, not with the client's failed write ("inactive stream" -> INTERNAL, seen under
/// load). The race needs the client to be descheduled between writing the headers and the
/// message, so this end-to-end check is best-effort (many concurrent calls); the unit test
/// `triple::client::tests::early_answer_wins_over_the_failed_message_write` in dubbo-runtime
/// reproduces the failed write deterministically.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unary_call_answered_before_its_message_was_sent_gets_the_servers_status() {
    let addr = instant_unimplemented_server().await;
    let client = TestServiceClient::builder(format!("tri://{addr}"))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    for _round in 0..10 {
        let calls = (0..100).map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .unary_call(examples::interop::proto::SimpleRequest {
                        payload: Some(examples::interop::messages::zeros(64)),
                        ..Default::default()
                    })
                    .await
            })
        });
        for call in futures_util::future::join_all(calls).await {
            let status = call.unwrap().unwrap_err();
            assert_eq!(status.code(), Code::Unimplemented, "{status}");
        }
    }
}
