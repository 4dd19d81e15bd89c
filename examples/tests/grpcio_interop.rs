//! Interop with real gRPC: the Python grpcio peers in `interop/python/` against our Triple
//! binaries, in both directions.
//!
//! - our `greeter-server` checked by `greeter_client.py` (plain, with version/group, and with
//!   gzip-compressed responses);
//! - `greeter_server.py` checked by our `greeter-client` (plain, and with gzip responses and
//!   response headers sent before the first message).
//!
//! The Python side lives in `.venv` at the repository root, made (once, under a lock) by
//! `scripts/setup-python-venv.sh`. Every child process runs in its own process group, which is
//! stopped (SIGTERM, then SIGKILL) when its guard drops, and every wait has a deadline, so no
//! test can hang or leave processes behind.

#![cfg(unix)]

use std::process::Command;

use test_support::{RunningServer, assert_checks_pass, python, repo_root, start_server};

fn rust_server(extra: &[&str]) -> RunningServer {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greeter-server"));
    cmd.args(["--addr", "127.0.0.1:0"]).args(extra);
    start_server("greeter-server", cmd)
}

fn python_server(extra: &[&str]) -> RunningServer {
    let root = repo_root();
    let mut cmd = Command::new(python());
    cmd.arg(root.join("interop/python/greeter_server.py"))
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(extra)
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    start_server("greeter_server.py", cmd)
}

fn python_client(server: &RunningServer, extra: &[&str]) -> Command {
    let root = repo_root();
    let mut cmd = Command::new(python());
    cmd.arg(root.join("interop/python/greeter_client.py"))
        .args(["--target", &server.addr])
        .args(extra)
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    cmd
}

fn rust_client(server: &RunningServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greeter-client"));
    cmd.args(["--target", &server.addr]);
    cmd
}

#[test]
fn grpcio_client_checks_rust_server() {
    let server = rust_server(&[]);
    let cmd = python_client(&server, &[]);
    assert_checks_pass("greeter_client.py", cmd, server);
}

#[test]
fn grpcio_client_checks_rust_server_with_version_and_group() {
    let server = rust_server(&["--version", "1.0.0", "--group", "blue"]);
    let cmd = python_client(&server, &["--version", "1.0.0", "--group", "blue"]);
    assert_checks_pass("greeter_client.py", cmd, server);
}

#[test]
fn grpcio_client_checks_rust_server_with_gzip_responses() {
    let server = rust_server(&["--gzip"]);
    let cmd = python_client(&server, &[]);
    assert_checks_pass("greeter_client.py", cmd, server);
}

#[test]
fn rust_client_checks_grpcio_server() {
    let server = python_server(&[]);
    let cmd = rust_client(&server);
    assert_checks_pass("greeter-client", cmd, server);
}

/// `--eager-headers` makes grpcio send response headers as soon as a call starts; without it
/// (the grpcio default, covered by `rust_client_checks_grpcio_server`) headers go out with
/// the first response message.
#[test]
fn rust_client_checks_grpcio_server_with_gzip_responses_and_eager_headers() {
    let server = python_server(&["--gzip", "--eager-headers"]);
    let cmd = rust_client(&server);
    assert_checks_pass("greeter-client", cmd, server);
}
