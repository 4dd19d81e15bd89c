//! Our Triple echo Greeter for benchmarks: `bench-triple-server --addr 127.0.0.1:0`.

use bench::args::Args;
use bench::proto::GreeterServer;
use bench::service::Echo;
use dubbo_runtime::Server;

#[tokio::main]
async fn main() {
    let args = Args::from_env();
    let addr = args.str("addr").unwrap_or("127.0.0.1:0").to_owned();
    let server = Server::builder()
        .add_service(GreeterServer::new(Echo))
        .start(format!("tri://{addr}"))
        .await
        .unwrap_or_else(|e| {
            eprintln!("bench-triple-server: {e}");
            std::process::exit(1)
        });
    println!("listening on {}", server.local_addr());
    dubbo_runtime::shutdown::signal().await;
    server.shutdown().await;
}
