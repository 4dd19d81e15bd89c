//! [`InteropService`]: the streaming-output methods at the payload level, for per-message
//! response compression.

use dubbo_runtime::codegen::ServiceDescriptor;
use dubbo_runtime::message::StreamItem;
use dubbo_runtime::{
    Body, BoxFuture, BoxStream, Invocation, Payload, Reply, Service, Status, Streaming,
};
use futures_util::StreamExt as _;

use super::Echo;
use super::TestServiceImpl;
use super::streams::{Outgoing, duplex_stream, output_stream};
use crate::interop::messages::requested_status;
use crate::interop::proto::{
    StreamingOutputCallRequest, TEST_SERVICE_DESCRIPTOR, TestServiceServer,
};

/// The interop server's service: [`TestServiceImpl`], except that the streaming-output
/// methods (`StreamingOutputCall`, `FullDuplexCall`, `HalfDuplexCall`) are served at the
/// payload level so each response message is compressed exactly when its
/// `ResponseParameters.compressed` asks (the call announces gzip when the client accepts it;
/// messages not asking for compression go uncompressed).
#[derive(Debug, Clone)]
pub struct InteropService {
    typed: TestServiceServer<TestServiceImpl>,
}

impl Default for InteropService {
    fn default() -> InteropService {
        InteropService::new()
    }
}

impl InteropService {
    /// The service.
    pub fn new() -> InteropService {
        InteropService {
            typed: TestServiceServer::new(TestServiceImpl),
        }
    }
}

/// Turns a response stream into a reply whose messages carry their own compression flags.
fn payload_reply(stream: BoxStream<Outgoing>, echo: &Echo) -> Reply {
    let body = stream.map(|item| {
        item.map(|(message, compression)| {
            StreamItem::Message(
                Payload::typed(message).with_compression(Some(compression.unwrap_or(false))),
            )
        })
    });
    Reply {
        headers: echo.initial.clone(),
        body: Body::Stream(Box::pin(body)),
        trailers: echo.trailing.clone(),
        compress: Some(true),
    }
}

async fn streaming_output_payloads(invocation: Invocation) -> Result<Reply, Status> {
    let (parts, body) = invocation.into_parts();
    let echo = Echo::from_request(&parts.metadata);
    let request = body
        .into_unary()
        .await?
        .decode::<StreamingOutputCallRequest>()?;
    if let Some(status) = requested_status(request.response_status.as_ref()) {
        return Err(echo.status(status));
    }
    Ok(payload_reply(output_stream(request), &echo))
}

fn duplex_payloads(invocation: Invocation, method: &'static str, buffer_all: bool) -> Reply {
    let (parts, body) = invocation.into_parts();
    let echo = Echo::from_request(&parts.metadata);
    let requests = Streaming::new(body.into_stream());
    payload_reply(duplex_stream(requests, method, buffer_all), &echo)
}

impl Service for InteropService {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        &TEST_SERVICE_DESCRIPTOR
    }

    fn call(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        match invocation.method().name {
            "StreamingOutputCall" => Box::pin(streaming_output_payloads(invocation)),
            "FullDuplexCall" => Box::pin(std::future::ready(Ok(duplex_payloads(
                invocation,
                "FullDuplexCall",
                false,
            )))),
            "HalfDuplexCall" => Box::pin(std::future::ready(Ok(duplex_payloads(
                invocation,
                "HalfDuplexCall",
                true,
            )))),
            _ => self.typed.call(invocation),
        }
    }
}
