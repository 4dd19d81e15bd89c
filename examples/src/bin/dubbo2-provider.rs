//! Serves `org.apache.dubbo.sample.DemoService` 1.0.0 (a Java interface implemented in Rust)
//! and the Greeter (generated from proto, unversioned) over Dubbo2.
//!
//! ```text
//! dubbo2-provider --addr 127.0.0.1:20880
//! ```

use dubbo_runtime::{Server, ServiceOptions};
use examples::args::Args;
use examples::demo_service::{DEMO_VERSION, demo_service};
use examples::greeter::GreeterServer;
use examples::greeter_service::GreeterService;

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse("dubbo2-provider --addr HOST:PORT");
    let addr = args.get_or("addr", "127.0.0.1:20880");
    let demo = match demo_service() {
        Ok(d) => d,
        Err(err) => {
            eprintln!("dubbo2-provider: {err}");
            std::process::exit(1);
        }
    };
    let server = Server::builder()
        .application("dubbo2-provider")
        .add_service_with(demo, ServiceOptions::new().version(DEMO_VERSION))
        .add_service(GreeterServer::new(GreeterService));
    let handle = match server.start(format!("dubbo://{addr}")).await {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("dubbo2-provider: {err}");
            std::process::exit(1);
        }
    };
    // The address on stdout lets scripts that asked for port 0 find the real port.
    println!("listening on {}", handle.local_addr());
    let signal = dubbo_runtime::shutdown::signal().await;
    tracing::info!(signal, "shutting down gracefully");
    handle.shutdown().await;
}
