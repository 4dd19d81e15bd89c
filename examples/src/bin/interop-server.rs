//! The gRPC interop-test server: `grpc.testing.TestService` over Triple, driven by any gRPC
//! interop client.
//!
//! ```text
//! interop-server --port N [--host 0.0.0.0] [--use_tls true --tls_cert_file server.pem --tls_key_file server.key]
//! ```
//!
//! Prints `listening on HOST:PORT` once bound (`--port 0` picks a free port); serves until
//! SIGINT/SIGTERM.

use dubbo_runtime::Server;
use dubbo_runtime::tls::ServerTlsConfig;
use examples::args::Args;
use examples::interop::{InteropService, parse_bool};

const USAGE: &str = "interop-server --port N [--host ADDR (default 0.0.0.0)] \
[--use_tls true|false --tls_cert_file PEM --tls_key_file PEM]

Serves grpc.testing.TestService (gRPC interop tests) over Triple. With --use_tls true the
certificate chain and private key are read from --tls_cert_file and --tls_key_file (PEM).
Prints `listening on HOST:PORT` once bound.";

fn fail(message: &str) -> ! {
    eprintln!("interop-server: {message}\n\nusage: {USAGE}");
    std::process::exit(2);
}

fn tls_config(args: &Args) -> Option<ServerTlsConfig> {
    let use_tls =
        parse_bool(args.get("use_tls")).unwrap_or_else(|e| fail(&format!("--use_tls: {e}")));
    if !use_tls {
        return None;
    }
    let (Some(cert), Some(key)) = (args.get("tls_cert_file"), args.get("tls_key_file")) else {
        fail("--use_tls true needs --tls_cert_file and --tls_key_file");
    };
    Some(ServerTlsConfig::from_pem_files(cert, key).unwrap_or_else(|e| fail(&e.to_string())))
}

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse(USAGE);
    let port: u16 = args
        .get("port")
        .unwrap_or_else(|| fail("--port is required"))
        .parse()
        .unwrap_or_else(|_| fail("--port must be a port number"));
    let host = args.get_or("host", "0.0.0.0");
    let tls = tls_config(&args);
    let mut server = Server::builder()
        .application("interop-server")
        .add_service(InteropService::new());
    if let Some(tls) = tls {
        server = server.tls(tls);
    }
    let address = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let handle = match server.start(format!("tri://{address}")).await {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("interop-server: {err}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", handle.local_addr());
    let signal = dubbo_runtime::shutdown::signal().await;
    tracing::info!(signal, "shutting down gracefully");
    handle.shutdown().await;
}
