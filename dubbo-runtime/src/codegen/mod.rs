//! Everything generated code uses, re-exported so that generated code depends only on
//! `dubbo_runtime` (never on the user's own versions of our dependencies).
//!
//! Not a stable API for hand-written code.

pub use prost;
pub use prost_types;
pub use serde;
pub use std::future::Future;
pub use std::sync::Arc;

pub use crate::call::{BoxStream, IntoRequest, IntoStreamingRequest, Request, Response, Streaming};
pub use crate::client::{Client, ClientBuilder, ClientStub};
pub use crate::descriptor::{CallKind, MethodDescriptor, ServiceDescriptor};
pub use crate::error::Error;
pub use crate::invocation::{Body, Invocation, Reply};
pub use crate::invoker::BoxFuture;
pub use crate::message::{Message, Payload, StreamItem};
pub use crate::service::Service;
pub use crate::status::Status;
pub use crate::url::IntoUrl;

use futures_util::StreamExt as _;

pub mod serde_bytes;
pub mod serde_wkt;

/// Implements [`Message`] for a generated message type. `serde` marks types that derive
/// serde (and so can travel as Hessian objects); `protobuf_only` types cannot.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_message {
    ($ty:ty, $java_class:expr, serde) => {
        impl $crate::codegen::Message for $ty {
            const JAVA_CLASS: &'static str = $java_class;

            fn encode_hessian(
                &self,
                encoder: &mut $crate::hessian2::Encoder,
            ) -> ::core::result::Result<(), $crate::codegen::Status> {
                $crate::message::encode_hessian_serde(self, encoder)
            }

            fn decode_hessian(
                value: $crate::hessian2::Value,
            ) -> ::core::result::Result<Self, $crate::codegen::Status> {
                $crate::message::decode_hessian_serde(value)
            }

            fn decode_hessian_bytes(
                bytes: &[u8],
            ) -> ::core::result::Result<Self, $crate::codegen::Status> {
                $crate::message::decode_hessian_serde_bytes(bytes)
            }
        }
    };
    ($ty:ty, $java_class:expr, protobuf_only) => {
        impl $crate::codegen::Message for $ty {
            const JAVA_CLASS: &'static str = $java_class;
        }
    };
}

/// Includes the code `dubbo-build` generated for a proto package, e.g.
/// `dubbo_runtime::include_proto!("org.apache.dubbo.sample");`.
#[macro_export]
macro_rules! include_proto {
    ($package:literal) => {
        include!(concat!(env!("OUT_DIR"), concat!("/", $package, ".rs")));
    };
}

pub use crate::__impl_message as impl_message;

/// Reads a Dubbo2 request's only argument as a typed `T` (see
/// [`MethodDescriptor::hessian_request`]).
pub fn hessian_request<T: Message>(bytes: &[u8]) -> Result<Payload, Status> {
    T::decode_hessian_bytes(bytes).map(Payload::typed)
}

fn request_from<T>(
    parts: crate::invocation::InvocationParts,
    message: T,
    compression: Option<bool>,
) -> Request<T> {
    Request::from_server_parts(
        parts.metadata,
        message,
        compression,
        parts.deadline,
        parts.remote_addr,
    )
}

fn unary_reply<T: Message>(response: Response<T>) -> Reply {
    let (headers, message, trailers, compress) = response.into_parts();
    Reply {
        headers,
        body: Body::Unary(Payload::typed(message)),
        trailers,
        compress,
    }
}

fn stream_reply<T: Message>(response: Response<BoxStream<T>>) -> Reply {
    let (headers, stream, trailers, compress) = response.into_parts();
    let stream = stream.map(|item| item.map(|m| StreamItem::Message(Payload::typed(m))));
    Reply {
        headers,
        body: Body::Stream(Box::pin(stream)),
        trailers,
        compress,
    }
}

/// Dispatches a unary call to `handler`.
pub fn unary<Req, Resp, F, Fut>(
    invocation: Invocation,
    handler: F,
) -> BoxFuture<'static, Result<Reply, Status>>
where
    Req: Message,
    Resp: Message,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    one_request(invocation, handler, unary_reply)
}

/// Dispatches a server-streaming call to `handler`.
pub fn server_streaming<Req, Resp, F, Fut>(
    invocation: Invocation,
    handler: F,
) -> BoxFuture<'static, Result<Reply, Status>>
where
    Req: Message,
    Resp: Message,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<BoxStream<Resp>>, Status>> + Send + 'static,
{
    one_request(invocation, handler, stream_reply)
}

/// Runs a call with one request message. When the message is already here (every unary
/// call the Triple and Dubbo2 servers start), it is decoded and `handler` called right
/// away, so the boxed future holds only the handler's own future.
fn one_request<Req, R, F, Fut, G>(
    invocation: Invocation,
    handler: F,
    reply: G,
) -> BoxFuture<'static, Result<Reply, Status>>
where
    Req: Message,
    G: FnOnce(R) -> Reply + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<R, Status>> + Send + 'static,
{
    let (parts, body) = invocation.into_parts();
    match body {
        Body::Unary(payload) => match request_of(parts, payload) {
            Ok(request) => {
                let response = handler(request);
                Box::pin(async move { Ok(reply(response.await?)) })
            }
            Err(status) => Box::pin(std::future::ready(Err(status))),
        },
        // The message is still on a stream (a call made in process): read it first.
        body => Box::pin(async move {
            let payload = body.into_unary().await?;
            Ok(reply(handler(request_of(parts, payload)?).await?))
        }),
    }
}

/// The typed request of a call with one message.
fn request_of<Req: Message>(
    parts: crate::invocation::InvocationParts,
    payload: Payload,
) -> Result<Request<Req>, Status> {
    let compression = payload.compression();
    let message = payload.decode::<Req>()?;
    Ok(request_from(parts, message, compression))
}

/// Dispatches a client-streaming call to `handler`.
pub fn client_streaming<Req, Resp, F, Fut>(
    invocation: Invocation,
    handler: F,
) -> BoxFuture<'static, Result<Reply, Status>>
where
    Req: Message,
    Resp: Message,
    F: FnOnce(Request<Streaming<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let (parts, body) = invocation.into_parts();
        let stream = Streaming::new(body.into_stream());
        let response = handler(request_from(parts, stream, None)).await?;
        Ok(unary_reply(response))
    })
}

/// Dispatches a bidirectional-streaming call to `handler`.
pub fn bidi_streaming<Req, Resp, F, Fut>(
    invocation: Invocation,
    handler: F,
) -> BoxFuture<'static, Result<Reply, Status>>
where
    Req: Message,
    Resp: Message,
    F: FnOnce(Request<Streaming<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<BoxStream<Resp>>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let (parts, body) = invocation.into_parts();
        let stream = Streaming::new(body.into_stream());
        let response = handler(request_from(parts, stream, None)).await?;
        Ok(stream_reply(response))
    })
}

/// The reply for a method the service does not have.
pub fn unimplemented(invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
    let method = invocation.method().name;
    let service = invocation.target().interface().to_owned();
    Box::pin(std::future::ready(Err(Status::unimplemented(format!(
        "method {method} not found in service {service}"
    )))))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use prost_types::Duration;

    use super::*;
    use crate::invocation::ServiceTarget;
    use crate::metadata::Metadata;

    fn method() -> &'static MethodDescriptor {
        Box::leak(Box::new(MethodDescriptor {
            name: "Double",
            path: "/demo.Svc/Double",
            kind: CallKind::Unary,
            index: 0,
            request_class: "com.google.protobuf.Duration",
            response_class: "com.google.protobuf.Duration",
            hessian_request: None,
        }))
    }

    fn invocation(body: Body) -> Invocation {
        Invocation::new(
            Arc::new(ServiceTarget::new("demo.Svc")),
            method(),
            Metadata::new(),
            body,
        )
    }

    fn seconds(n: i64) -> Payload {
        Payload::typed(Duration {
            seconds: n,
            nanos: 0,
        })
    }

    /// Calls `unary` with a handler that doubles the seconds and counts its calls.
    fn double(
        body: Body,
        calls: &'static AtomicUsize,
    ) -> BoxFuture<'static, Result<Reply, Status>> {
        unary(invocation(body), move |request: Request<Duration>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let d = request.into_inner();
                Ok(Response::new(Duration {
                    seconds: d.seconds * 2,
                    nanos: 0,
                }))
            }
        })
    }

    async fn answer(reply: Result<Reply, Status>) -> Result<i64, Status> {
        let message = reply?.body.into_unary().await?.decode::<Duration>()?;
        Ok(message.seconds)
    }

    #[tokio::test]
    async fn a_message_that_is_here_starts_the_handler_before_the_first_poll() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let reply = double(Body::Unary(seconds(21)), &CALLS);
        assert_eq!(
            CALLS.load(Ordering::SeqCst),
            1,
            "handler called by `unary` itself"
        );
        assert_eq!(answer(reply.await).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_message_still_on_a_stream_is_read_first() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let items = vec![Ok(StreamItem::Message(seconds(5)))];
        let reply = double(
            Body::Stream(Box::pin(futures_util::stream::iter(items))),
            &CALLS,
        );
        assert_eq!(
            CALLS.load(Ordering::SeqCst),
            0,
            "nothing to call the handler with yet"
        );
        assert_eq!(answer(reply.await).await.unwrap(), 10);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);

        let two = vec![
            Ok(StreamItem::Message(seconds(1))),
            Ok(StreamItem::Message(seconds(2))),
        ];
        let reply = double(
            Body::Stream(Box::pin(futures_util::stream::iter(two))),
            &CALLS,
        );
        let Err(status) = reply.await else {
            panic!("two messages for a unary call must fail")
        };
        assert_eq!(status.code(), crate::status::Code::Internal);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1, "handler not called");
    }

    #[tokio::test]
    async fn a_message_of_the_wrong_type_fails_without_calling_the_handler() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let wrong = Payload::typed(prost_types::Timestamp::default());
        let Err(status) = double(Body::Unary(wrong), &CALLS).await else {
            panic!("a Timestamp is not a Duration")
        };
        assert_eq!(status.code(), crate::status::Code::Internal);
        assert!(status.message().contains("mismatch"), "{status:?}");
        // Bytes that are not a Duration fail the same way.
        let bad = Payload::protobuf(Bytes::from_static(&[0x08]));
        assert!(double(Body::Unary(bad), &CALLS).await.is_err());
        assert_eq!(CALLS.load(Ordering::SeqCst), 0);
    }
}
