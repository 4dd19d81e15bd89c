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
    Box::pin(async move {
        let (parts, body) = invocation.into_parts();
        let payload = body.into_unary().await?;
        let compression = payload.compression();
        let message = payload.decode::<Req>()?;
        let response = handler(request_from(parts, message, compression)).await?;
        Ok(unary_reply(response))
    })
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
    Box::pin(async move {
        let (parts, body) = invocation.into_parts();
        let payload = body.into_unary().await?;
        let compression = payload.compression();
        let message = payload.decode::<Req>()?;
        let response = handler(request_from(parts, message, compression)).await?;
        Ok(stream_reply(response))
    })
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
