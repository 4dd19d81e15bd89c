//! The tonic baseline: the same echo Greeter on tonic, for benchmarks.
//! `cargo run --release -p bench --example tonic-server -- --addr 127.0.0.1:0`

use std::pin::Pin;

use bench::args::Args;
use futures_util::{Stream, StreamExt as _};
use tonic::{Request, Response, Status, Streaming};

#[allow(missing_docs, clippy::all)]
mod pb {
    include!(concat!(
        env!("OUT_DIR"),
        "/tonic/org.apache.dubbo.sample.rs"
    ));
}

use pb::greeter_server::{Greeter, GreeterServer};
use pb::{HelloReply, HelloRequest};

type ReplyStream = Pin<Box<dyn Stream<Item = Result<HelloReply, Status>> + Send + 'static>>;

#[derive(Debug, Default)]
struct Echo;

#[tonic::async_trait]
impl Greeter for Echo {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let req = request.into_inner();
        Ok(Response::new(HelloReply {
            message: req.name,
            payload: req.payload,
        }))
    }

    type SayHelloServerStreamStream = ReplyStream;

    async fn say_hello_server_stream(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        let req = request.into_inner();
        let reply = HelloReply {
            message: req.name,
            payload: req.payload,
        };
        let count = req.count.max(0) as usize;
        let stream = futures_util::stream::repeat(reply).take(count).map(Ok);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn say_hello_client_stream(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<HelloReply>, Status> {
        let mut stream = request.into_inner();
        let mut last = HelloRequest::default();
        while let Some(req) = stream.message().await? {
            last = req;
        }
        Ok(Response::new(HelloReply {
            message: last.name,
            payload: last.payload,
        }))
    }

    type SayHelloBidiStream = ReplyStream;

    async fn say_hello_bidi(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        let replies = request.into_inner().map(|r| {
            r.map(|req| HelloReply {
                message: req.name,
                payload: req.payload,
            })
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

#[tokio::main]
async fn main() {
    let args = Args::from_env();
    let addr = args.str("addr").unwrap_or("127.0.0.1:0");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    println!(
        "listening on {}",
        listener.local_addr().expect("local addr")
    );
    let incoming = tokio_stream_from(listener);
    tonic::transport::Server::builder()
        .add_service(GreeterServer::new(Echo))
        .serve_with_incoming_shutdown(incoming, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("tonic server");
}

/// Accepted connections as a stream, with TCP_NODELAY like our server sets.
fn tokio_stream_from(
    listener: tokio::net::TcpListener,
) -> impl Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(s, _)| {
            let _ = s.set_nodelay(true);
            s
        });
        Some((accepted, listener))
    })
}
