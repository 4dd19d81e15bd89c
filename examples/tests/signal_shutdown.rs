//! SIGTERM on a running `greeter-server`: in-flight calls finish, new connections are refused,
//! and the process exits cleanly.

#![cfg(unix)]

use std::process::Command;
use std::time::{Duration, Instant};

use examples::greeter::{GreeterClient, HelloRequest};
use test_support::start_server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_calls_then_exits() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greeter-server"));
    cmd.args(["--addr", "127.0.0.1:0"]);
    let mut server = start_server("greeter-server", cmd);
    let client = GreeterClient::connect(format!("tri://{}", server.addr))
        .await
        .unwrap();
    client
        .say_hello(HelloRequest {
            name: "warm".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .say_hello(HelloRequest {
                        name: "sleep:700".into(),
                        ..Default::default()
                    })
                    .await
                    .map(|r| r.into_inner().message)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.guard.signal_group("-TERM");
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "Hello sleep:700");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.guard.has_exited() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        server.guard.has_exited(),
        "server did not exit after SIGTERM"
    );
    let status = server.guard.stop().expect("exit status");
    assert!(status.success(), "greeter-server exited with {status}");
    assert!(tokio::net::TcpStream::connect(&server.addr).await.is_err());
}
