//! A Greeter provider that registers itself in ZooKeeper and goes offline gracefully on
//! SIGTERM/SIGINT (unregister, wait for consumers to notice, drain, close).
//!
//! ```text
//! registry-provider --registry zookeeper://127.0.0.1:2181 --addr 127.0.0.1:0 --name p1
//!     [--version V] [--group G] [--weight W] [--warmup-ms MS] [--offline-wait-ms MS]
//! ```

use std::time::Duration;

use dubbo_runtime::{Server, ServiceOptions};
use examples::args::Args;
use examples::greeter::GreeterServer;
use examples::tagged::TaggedGreeter;

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse(
        "registry-provider --registry zookeeper://HOST:PORT --addr HOST:PORT [--name N] \
         [--version V] [--group G] [--weight W] [--warmup-ms MS] [--offline-wait-ms MS]",
    );
    let Some(registry) = args.get("registry") else {
        eprintln!("registry-provider: --registry is required");
        std::process::exit(2);
    };
    let addr = args.get_or("addr", "127.0.0.1:0");
    let name = args.get_or("name", "provider").to_owned();
    let mut options = ServiceOptions::new();
    if let Some(v) = args.get("version") {
        options = options.version(v);
    }
    if let Some(g) = args.get("group") {
        options = options.group(g);
    }
    let offline_wait = args
        .get("offline-wait-ms")
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis);
    let mut builder = Server::builder()
        .application(format!("registry-provider-{name}"))
        .registry(registry)
        .offline_wait(offline_wait)
        .add_service_with(
            GreeterServer::new(TaggedGreeter::new(name.clone())),
            options,
        );
    if let Some(weight) = args.get("weight") {
        builder = builder.param("weight", weight);
    }
    if let Some(warmup) = args.get("warmup-ms") {
        builder = builder.param("warmup", warmup);
    }
    let handle = match builder.start(format!("tri://{addr}")).await {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("registry-provider: {err}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", handle.local_addr());
    for url in handle.registered_urls() {
        println!("registered {url}");
    }
    let signal = dubbo_runtime::shutdown::signal().await;
    tracing::info!(signal, %name, "going offline");
    handle.shutdown().await;
    println!("stopped");
}
