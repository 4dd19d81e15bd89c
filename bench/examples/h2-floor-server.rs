//! The floor for any server built on the `h2` crate: answers every request with an empty gRPC
//! message and `grpc-status: 0` without parsing it, routing it or running a handler. Not a
//! gRPC server; it exists so latency and CPU targets can be compared with what `h2` and tokio
//! cost on their own (`bench --only floor-open-10k-rps`).
//! `cargo run --release -p bench --example h2-floor-server -- --addr 127.0.0.1:0`

use bench::args::Args;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response};
use tokio::net::TcpListener;

/// A gRPC message frame holding an empty message.
const EMPTY_MESSAGE: &[u8] = &[0, 0, 0, 0, 0];

async fn serve(socket: tokio::net::TcpStream) -> Result<(), h2::Error> {
    let mut conn = h2::server::handshake(socket).await?;
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    while let Some(accepted) = conn.accept().await {
        let (_request, mut respond) = accepted?;
        let response = Response::builder()
            .header("content-type", "application/grpc")
            .body(())
            .expect("static response");
        let mut send = respond.send_response(response, false)?;
        send.send_data(Bytes::from_static(EMPTY_MESSAGE), false)?;
        send.send_trailers(trailers.clone())?;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let args = Args::from_env();
    let addr = args.str("addr").unwrap_or("127.0.0.1:0");
    let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| {
        eprintln!("h2-floor-server: {e}");
        std::process::exit(1)
    });
    let local = listener
        .local_addr()
        .expect("bound listener has an address");
    println!("listening on {local}");
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        tokio::spawn(async move {
            let _ = serve(socket).await;
        });
    }
}
