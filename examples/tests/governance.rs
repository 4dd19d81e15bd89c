//! Service governance end to end: providers register in a real ZooKeeper, a consumer
//! discovers them and spreads load; graceful offline loses no call; a killed provider is
//! failed over. Also a static provider list without ZooKeeper.

#![cfg(unix)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dubbo_runtime::{Code, Server, Url};
use examples::greeter::{GreeterClient, GreeterServer, HelloRequest};
use examples::tagged::{SERVED_BY, TaggedGreeter};
use test_support::zookeeper::ZooKeeper;
use test_support::{RunningServer, start_server};

fn provider(zk: &ZooKeeper, name: &str) -> RunningServer {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_registry-provider"));
    cmd.args(["--registry", &format!("{}?session=3000", zk.url())])
        .args(["--addr", "127.0.0.1:0", "--name", name])
        .args(["--offline-wait-ms", "700", "--warmup-ms", "0"]);
    start_server(name, cmd)
}

/// Calls made under load: who served each, and every failure.
#[derive(Default)]
struct Tally {
    served: HashMap<String, usize>,
    failures: Vec<String>,
}

struct Load {
    tally: Arc<Mutex<Tally>>,
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(client: GreeterClient, workers: usize) -> Load {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..workers)
            .map(|w| {
                let client = client.clone();
                let tally = Arc::clone(&tally);
                let stop = Arc::clone(&stop);
                tokio::spawn(async move {
                    let mut i = 0u64;
                    // Bounded: the test stops the load; a hard cap guards against a hang.
                    let cap = Instant::now() + Duration::from_secs(120);
                    while !stop.load(Ordering::Relaxed) && Instant::now() < cap {
                        i += 1;
                        let request = HelloRequest {
                            name: format!("w{w}-{i}"),
                            ..Default::default()
                        };
                        let result = client.say_hello(request).await;
                        {
                            let mut t = tally.lock().unwrap();
                            match result {
                                Ok(reply) => {
                                    let by =
                                        reply.metadata().get(SERVED_BY).unwrap_or("?").to_owned();
                                    *t.served.entry(by).or_default() += 1;
                                }
                                Err(status) => t.failures.push(status.to_string()),
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        Load {
            tally,
            stop,
            workers,
        }
    }

    fn served(&self, name: &str) -> usize {
        self.tally
            .lock()
            .unwrap()
            .served
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    fn failures(&self) -> Vec<String> {
        self.tally.lock().unwrap().failures.clone()
    }

    async fn wait_for(&self, what: &str, cond: impl Fn(&Load) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; failures: {:?}",
                self.failures()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
        }
        self.tally.lock().unwrap().failures.clone()
    }
}

async fn wait_exit(server: &mut RunningServer, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !server.guard.has_exited() {
        assert!(
            Instant::now() < deadline,
            "{} did not exit",
            server.guard.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_offline_loses_no_call_and_failover_survives_a_kill() {
    let zk = ZooKeeper::start();
    let mut a = provider(&zk, "a");
    let mut b = provider(&zk, "b");
    let client = GreeterClient::builder(zk.url())
        .application("governance-test")
        .loadbalance("roundrobin")
        .idempotent("SayHello")
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("consumer finds providers");

    let load = Load::start(client, 4);
    load.wait_for("both providers serving", |l| {
        l.served("a") > 20 && l.served("b") > 20
    })
    .await;

    // Graceful stop of a: unregister, wait, drain. No call may fail.
    a.guard.signal_group("-TERM");
    wait_exit(&mut a, Duration::from_secs(15)).await;
    assert!(
        a.guard.stop().is_some_and(|s| s.success()),
        "a exits cleanly"
    );
    let b_before = load.served("b");
    load.wait_for("b takes the load", |l| l.served("b") > b_before + 50)
        .await;
    assert!(
        load.failures().is_empty(),
        "failures during graceful stop: {:?}",
        load.failures()
    );

    // Restart a (a new port): load returns to it.
    let a_before = load.served("a");
    let _a2 = provider(&zk, "a");
    load.wait_for("load returns to a", |l| l.served("a") > a_before + 20)
        .await;
    assert!(
        load.failures().is_empty(),
        "failures during restart: {:?}",
        load.failures()
    );

    // Kill b hard: its ZooKeeper node lingers until its session expires, calls to it fail,
    // and failover retries the idempotent SayHello on a.
    b.guard.signal_group("-KILL");
    wait_exit(&mut b, Duration::from_secs(5)).await;
    let a_after_kill = load.served("a");
    load.wait_for("a serves after the kill", |l| {
        l.served("a") > a_after_kill + 100
    })
    .await;
    let failures = load.stop().await;
    assert!(failures.is_empty(), "failures: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_sees_new_providers_and_check_fails_without_any() {
    let zk = ZooKeeper::start();
    let err = GreeterClient::builder(zk.url())
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no provider"), "{err}");

    let client = GreeterClient::builder(zk.url())
        .check(false)
        .connect()
        .await
        .expect("check(false) connects without providers");
    let status = client.say_hello(HelloRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);

    let _p = provider(&zk, "late");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match client
            .say_hello(HelloRequest {
                name: "x".into(),
                ..Default::default()
            })
            .await
        {
            Ok(reply) => {
                assert_eq!(reply.metadata().get(SERVED_BY), Some("late"));
                break;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(status) => panic!("provider never discovered: {status}"),
        }
    }

    // Version and group select among providers.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_registry-provider"));
    cmd.args([
        "--registry",
        &zk.url(),
        "--addr",
        "127.0.0.1:0",
        "--name",
        "v2",
    ])
    .args(["--version", "2.0.0", "--group", "blue", "--warmup-ms", "0"]);
    let _v2 = start_server("v2", cmd);
    let v2_client = GreeterClient::builder(zk.url())
        .version("2.0.0")
        .group("blue")
        .connect()
        .await
        .unwrap();
    for _ in 0..5 {
        let reply = v2_client.say_hello(HelloRequest::default()).await.unwrap();
        assert_eq!(reply.metadata().get(SERVED_BY), Some("v2"));
    }
}

#[tokio::test]
async fn static_provider_list_balances_and_fails_over() {
    let mut handles = Vec::new();
    let mut urls = Vec::new();
    for name in ["s1", "s2"] {
        let handle = Server::builder()
            .add_service(GreeterServer::new(TaggedGreeter::new(name)))
            .start("tri://127.0.0.1:0")
            .await
            .unwrap();
        urls.push(Url::parse(&format!("tri://{}", handle.local_addr())).unwrap());
        handles.push(handle);
    }
    let client = GreeterClient::builder("tri://unused")
        .providers(urls)
        .loadbalance("roundrobin")
        .connect()
        .await
        .unwrap();
    let mut seen = HashMap::new();
    for _ in 0..10 {
        let reply = client.say_hello(HelloRequest::default()).await.unwrap();
        *seen
            .entry(reply.metadata().get(SERVED_BY).unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(seen.get("s1"), Some(&5));
    assert_eq!(seen.get("s2"), Some(&5));
    // s1 goes away: connection refused means the request was not sent, so failover moves
    // every call (even non-idempotent) to s2.
    handles.remove(0).shutdown().await;
    for _ in 0..10 {
        let reply = client.say_hello(HelloRequest::default()).await.unwrap();
        assert_eq!(reply.metadata().get(SERVED_BY), Some("s2"));
    }
    for h in handles {
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_consumer_binary_reports_who_answered() {
    let zk = ZooKeeper::start();
    let _a = provider(&zk, "alpha");
    let _b = provider(&zk, "beta");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_registry-consumer"));
    cmd.args([
        "--registry",
        &zk.url(),
        "--calls",
        "6",
        "--interval-ms",
        "10",
    ]);
    let out = test_support::run_bounded("registry-consumer", cmd, Duration::from_secs(60));
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("served by alpha"), "{}", out.stdout);
    assert!(out.stdout.contains("served by beta"), "{}", out.stdout);
    assert!(out.stdout.contains("6 calls, 0 failed"), "{}", out.stdout);
}
