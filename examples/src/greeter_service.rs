//! The Greeter contract every peer in the interop tests implements:
//!
//! - `SayHello`: "Hello " + name, payload echoed. `SayHelloServerStream`: `count` replies
//!   "Hello {name} {i}". `SayHelloClientStream`: one reply "Hello " + all names, payloads
//!   concatenated. `SayHelloBidi`: one reply "Hello " + name per request.
//! - name `error:CODE` ends the call with that status code and message "requested";
//!   `sleep:MS` waits MS milliseconds first.
//! - request metadata keys starting with `x-echo-` come back as response headers; every call
//!   ends with the trailer `x-trailer: done`, error calls too.

use std::time::Duration;

use dubbo_runtime::{BoxStream, Code, Metadata, Request, Response, Status, Streaming};
use futures_util::StreamExt as _;

use crate::greeter::{Greeter, HelloReply, HelloRequest};

/// The contract implementation.
#[derive(Debug, Default, Clone)]
pub struct GreeterService;

fn echo_headers(request: &Metadata) -> Metadata {
    let mut out = Metadata::new();
    for (key, value) in request.as_headers() {
        if key.as_str().starts_with("x-echo-") {
            out.headers_mut().append(key.clone(), value.clone());
        }
    }
    out
}

fn finish<T>(mut response: Response<T>, echo: &Metadata) -> Response<T> {
    response.metadata_mut().merge(echo);
    let _ = response.trailers_mut().insert("x-trailer", "done");
    response
}

fn failure(code: i32, echo: &Metadata) -> Status {
    let mut status = Status::new(Code::from_i32(code), "requested");
    status.metadata_mut().merge(echo);
    let _ = status.metadata_mut().insert("x-trailer", "done");
    status
}

/// What a request name asks the server to do first.
async fn apply_directives(name: &str, echo: &Metadata) -> Result<(), Status> {
    if let Some(code) = name.strip_prefix("error:") {
        let code = code
            .parse::<i32>()
            .map_err(|_| Status::invalid_argument(format!("bad error code in {name:?}")))?;
        return Err(failure(code, echo));
    }
    if let Some(ms) = name.strip_prefix("sleep:") {
        let ms = ms
            .parse::<u64>()
            .map_err(|_| Status::invalid_argument(format!("bad sleep in {name:?}")))?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(())
}

fn reply(message: String, payload: Vec<u8>) -> HelloReply {
    HelloReply { message, payload }
}

impl Greeter for GreeterService {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let echo = echo_headers(request.metadata());
        let req = request.into_inner();
        apply_directives(&req.name, &echo).await?;
        Ok(finish(
            Response::new(reply(format!("Hello {}", req.name), req.payload)),
            &echo,
        ))
    }

    async fn say_hello_server_stream(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        let echo = echo_headers(request.metadata());
        let req = request.into_inner();
        apply_directives(&req.name, &echo).await?;
        let name = req.name;
        let count = req.count.max(0);
        let stream = futures_util::stream::iter(0..count)
            .map(move |i| Ok(reply(format!("Hello {name} {i}"), Vec::new())));
        Ok(finish(
            Response::new(Box::pin(stream) as BoxStream<HelloReply>),
            &echo,
        ))
    }

    async fn say_hello_client_stream(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<HelloReply>, Status> {
        let echo = echo_headers(request.metadata());
        let mut stream = request.into_inner();
        let mut names = String::new();
        let mut payload = Vec::new();
        while let Some(req) = stream.message().await? {
            apply_directives(&req.name, &echo).await?;
            names.push_str(&req.name);
            payload.extend_from_slice(&req.payload);
        }
        Ok(finish(
            Response::new(reply(format!("Hello {names}"), payload)),
            &echo,
        ))
    }

    async fn say_hello_bidi(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        let echo = echo_headers(request.metadata());
        let stream_echo = echo.clone();
        let replies = request.into_inner().then(move |item| {
            let echo = stream_echo.clone();
            async move {
                let req = item?;
                apply_directives(&req.name, &echo).await?;
                Ok(reply(format!("Hello {}", req.name), req.payload))
            }
        });
        // Stop after the first error: it ends the call.
        let replies = replies.scan(false, |failed, item: Result<HelloReply, Status>| {
            let out = if *failed {
                None
            } else {
                *failed = item.is_err();
                Some(item)
            };
            std::future::ready(out)
        });
        Ok(finish(
            Response::new(Box::pin(replies) as BoxStream<HelloReply>),
            &echo,
        ))
    }
}
