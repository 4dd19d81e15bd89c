//! Interop with real Dubbo2 implementations installed by the tests themselves:
//!
//! - `python3-dubbo` 0.0.8 (PyPI, in `.venv`, `scripts/setup-python-venv.sh`) runs
//!   `interop/python/dubbo2_client.py` against our `dubbo2-provider`: sayHello, a BMP
//!   string, echo of an int, the `fail` exception, an unknown version;
//! - our `dubbo2-consumer` checks `interop/node/dubbo2_provider.js`, a provider built on
//!   `sofa-rpc-node` 2.10.0 + `dubbo-remoting` 2.1.4 (npm, `scripts/setup-node.sh`).
//!
//! Every child runs in its own process group, stopped when its guard drops; every wait is
//! bounded.

#![cfg(unix)]

use std::process::Command;

use test_support::node::node_command;
use test_support::{RunningServer, assert_checks_pass, python, repo_root, start_server};

fn rust_provider() -> RunningServer {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dubbo2-provider"));
    cmd.args(["--addr", "127.0.0.1:0"]);
    start_server("dubbo2-provider", cmd)
}

#[test]
fn python3_dubbo_client_calls_rust_provider() {
    let server = rust_provider();
    let root = repo_root();
    let mut cmd = Command::new(python());
    cmd.arg(root.join("interop/python/dubbo2_client.py"))
        .args(["--target", &server.addr])
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    assert_checks_pass("dubbo2_client.py (python3-dubbo 0.0.8)", cmd, server);
}

#[test]
fn rust_consumer_checks_npm_provider() {
    let mut cmd = node_command("dubbo2_provider.js");
    cmd.args(["--port", "0"]);
    let server = start_server("dubbo2_provider.js (sofa-rpc-node + dubbo-remoting)", cmd);
    let mut consumer = Command::new(env!("CARGO_BIN_EXE_dubbo2-consumer"));
    consumer.args(["--target", &server.addr]);
    assert_checks_pass("dubbo2-consumer", consumer, server);
}

#[test]
fn rust_consumer_checks_rust_provider() {
    let server = rust_provider();
    let mut consumer = Command::new(env!("CARGO_BIN_EXE_dubbo2-consumer"));
    consumer.args(["--target", &server.addr]);
    assert_checks_pass("dubbo2-consumer", consumer, server);
}
