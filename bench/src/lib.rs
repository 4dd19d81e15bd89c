//! Shared pieces of the benchmark programs: the generated Greeter, latency statistics,
//! `/proc` sampling, and argument parsing.

pub mod args;
pub mod procfs;
pub mod stats;

/// Our generated Greeter (from `proto/greeter.proto`).
#[allow(missing_docs)]
pub mod proto {
    dubbo_runtime::include_proto!("org.apache.dubbo.sample");
}

/// The benchmark Greeter: echoes the request payload; server-streaming sends `count` copies
/// of it; bidi echoes each message. Servers of every kind implement exactly this.
pub mod service {
    use dubbo_runtime::{BoxStream, Request, Response, Status, Streaming};
    use futures_util::StreamExt as _;

    use crate::proto::{Greeter, HelloReply, HelloRequest};

    /// The echo Greeter.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Echo;

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

        async fn say_hello_server_stream(
            &self,
            request: Request<HelloRequest>,
        ) -> Result<Response<BoxStream<HelloReply>>, Status> {
            let req = request.into_inner();
            let reply = HelloReply {
                message: req.name,
                payload: req.payload,
            };
            let count = req.count.max(0) as usize;
            let stream = futures_util::stream::repeat(reply).take(count).map(Ok);
            Ok(Response::new(Box::pin(stream) as BoxStream<HelloReply>))
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

        async fn say_hello_bidi(
            &self,
            request: Request<Streaming<HelloRequest>>,
        ) -> Result<Response<BoxStream<HelloReply>>, Status> {
            let replies = request.into_inner().map(|r| {
                r.map(|req| HelloReply {
                    message: req.name,
                    payload: req.payload,
                })
            });
            Ok(Response::new(Box::pin(replies) as BoxStream<HelloReply>))
        }
    }
}
