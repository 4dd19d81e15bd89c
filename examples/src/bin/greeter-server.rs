//! Serves the Greeter contract over Triple.
//!
//! ```text
//! greeter-server --addr 127.0.0.1:50051 [--version 1.0.0] [--group blue] [--gzip]
//! ```

use dubbo_runtime::triple::TripleConfig;
use dubbo_runtime::{Server, ServiceOptions};
use examples::args::Args;
use examples::greeter::GreeterServer;
use examples::greeter_service::GreeterService;

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse("greeter-server --addr HOST:PORT [--version V] [--group G] [--gzip]");
    let addr = args.get_or("addr", "127.0.0.1:50051");
    let mut options = ServiceOptions::new();
    if let Some(v) = args.get("version") {
        options = options.version(v);
    }
    if let Some(g) = args.get("group") {
        options = options.group(g);
    }
    let server = Server::builder()
        .application("greeter-server")
        .triple_config(TripleConfig::default().compress_responses(args.flag("gzip")))
        .add_service_with(GreeterServer::new(GreeterService), options);
    let handle = match server.start(format!("tri://{addr}")).await {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("greeter-server: {err}");
            std::process::exit(1);
        }
    };
    // The address on stdout lets scripts that asked for port 0 find the real port.
    println!("listening on {}", handle.local_addr());
    let signal = dubbo_runtime::shutdown::signal().await;
    tracing::info!(signal, "shutting down gracefully");
    handle.shutdown().await;
}
