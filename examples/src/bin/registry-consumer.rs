//! Discovers Greeter providers in ZooKeeper and calls them, printing which provider
//! answered each call. Exits non-zero if any call fails.
//!
//! ```text
//! registry-consumer --registry zookeeper://127.0.0.1:2181 [--calls 10] [--interval-ms 100]
//!     [--loadbalance roundrobin] [--version V] [--group G]
//! ```

use std::time::Duration;

use examples::args::Args;
use examples::greeter::{GreeterClient, HelloRequest};
use examples::tagged::SERVED_BY;

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse(
        "registry-consumer --registry zookeeper://HOST:PORT [--calls N] [--interval-ms MS] \
         [--loadbalance NAME] [--version V] [--group G]",
    );
    let Some(registry) = args.get("registry") else {
        eprintln!("registry-consumer: --registry is required");
        std::process::exit(2);
    };
    let calls: u32 = args.get_or("calls", "10").parse().unwrap_or(10);
    let interval = Duration::from_millis(args.get_or("interval-ms", "100").parse().unwrap_or(100));
    let mut builder = GreeterClient::builder(registry)
        .application("registry-consumer")
        .loadbalance(args.get_or("loadbalance", "roundrobin"))
        .idempotent("SayHello")
        .timeout(Duration::from_secs(3));
    if let Some(v) = args.get("version") {
        builder = builder.version(v);
    }
    if let Some(g) = args.get("group") {
        builder = builder.group(g);
    }
    let client = match builder.connect().await {
        Ok(client) => client,
        Err(err) => {
            eprintln!("registry-consumer: {err}");
            std::process::exit(1);
        }
    };
    let mut failed = 0;
    for i in 0..calls {
        let request = HelloRequest {
            name: format!("call {i}"),
            ..Default::default()
        };
        match client.say_hello(request).await {
            Ok(reply) => {
                let by = reply.metadata().get(SERVED_BY).unwrap_or("?").to_owned();
                println!("call {i}: {} (served by {by})", reply.into_inner().message);
            }
            Err(status) => {
                failed += 1;
                println!("call {i}: FAILED {status}");
            }
        }
        tokio::time::sleep(interval).await;
    }
    println!("{calls} calls, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
