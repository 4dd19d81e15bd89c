//! The typed call surface: [`Request`], [`Response`], [`Streaming`], and conversions.

use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::message::{Message, PayloadStream, StreamItem};
use crate::metadata::Metadata;
use crate::status::Status;

/// A boxed stream of messages, as returned by streaming server methods.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A request: the message plus metadata and per-call options.
///
/// ```
/// use dubbo_runtime::Request;
/// use std::time::Duration;
/// let mut req = Request::new("payload");
/// req.metadata_mut().insert("x-trace", "abc").unwrap();
/// req.set_timeout(Duration::from_millis(250));
/// assert_eq!(req.timeout(), Some(Duration::from_millis(250)));
/// ```
pub struct Request<T> {
    metadata: Metadata,
    message: T,
    compression: Option<bool>,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    remote_addr: Option<SocketAddr>,
}

impl<T> Request<T> {
    /// Wraps a message.
    pub fn new(message: T) -> Request<T> {
        Request {
            metadata: Metadata::new(),
            message,
            compression: None,
            timeout: None,
            deadline: None,
            remote_addr: None,
        }
    }

    /// Request metadata (attachments).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Mutable request metadata.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// Mutable message.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Consumes the request, returning the message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Client side: compress this (unary) request (`Some(true)`, even if the client does not
    /// compress by default), never compress it (`Some(false)`), or follow the client default.
    pub fn set_compression(&mut self, compression: Option<bool>) {
        self.compression = compression;
    }

    /// Client side: the compression choice; server side: whether the request message arrived
    /// compressed (`None` when the protocol does not say).
    pub fn compression(&self) -> Option<bool> {
        self.compression
    }

    /// Sets a timeout for this call (client side); overrides the client default.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// The per-call timeout, if set.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The deadline the caller set (server side, from `grpc-timeout` or the Dubbo2 `timeout`
    /// attachment).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left until the deadline (server side).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The caller's address (server side).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Maps the message, keeping metadata and options.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Request<U> {
        Request {
            metadata: self.metadata,
            message: f(self.message),
            compression: self.compression,
            timeout: self.timeout,
            deadline: self.deadline,
            remote_addr: self.remote_addr,
        }
    }

    pub(crate) fn from_server_parts(
        metadata: Metadata,
        message: T,
        compression: Option<bool>,
        deadline: Option<Instant>,
        remote_addr: Option<SocketAddr>,
    ) -> Request<T> {
        Request {
            metadata,
            message,
            compression,
            timeout: None,
            deadline,
            remote_addr,
        }
    }

    pub(crate) fn into_client_parts(self) -> (Metadata, T, Option<bool>, Option<Duration>) {
        (self.metadata, self.message, self.compression, self.timeout)
    }
}

impl<T: fmt::Debug> fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("metadata", &self.metadata)
            .field("message", &self.message)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A response: the message plus response headers and trailers.
///
/// ```
/// use dubbo_runtime::Response;
/// let mut resp = Response::new(42);
/// resp.metadata_mut().insert("x-served-by", "a").unwrap();
/// resp.trailers_mut().insert("x-cost", "3").unwrap();
/// assert_eq!(resp.into_inner(), 42);
/// ```
pub struct Response<T> {
    metadata: Metadata,
    message: T,
    trailers: Metadata,
    compress: Option<bool>,
}

impl<T> Response<T> {
    /// Wraps a message.
    pub fn new(message: T) -> Response<T> {
        Response {
            metadata: Metadata::new(),
            message,
            trailers: Metadata::new(),
            compress: None,
        }
    }

    /// Response headers.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Mutable response headers.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// Trailers (sent after the last message).
    pub fn trailers(&self) -> &Metadata {
        &self.trailers
    }

    /// Mutable trailers.
    pub fn trailers_mut(&mut self) -> &mut Metadata {
        &mut self.trailers
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// Mutable message.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Consumes the response, returning the message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Server side: compress this reply if the client accepts compression (`Some(true)`),
    /// never compress it (`Some(false)`), or follow the server default (`None`).
    pub fn set_compression(&mut self, compress: Option<bool>) {
        self.compress = compress;
    }

    /// Maps the message, keeping metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            metadata: self.metadata,
            message: f(self.message),
            trailers: self.trailers,
            compress: self.compress,
        }
    }

    pub(crate) fn into_parts(self) -> (Metadata, T, Metadata, Option<bool>) {
        (self.metadata, self.message, self.trailers, self.compress)
    }

    pub(crate) fn from_parts(metadata: Metadata, message: T, trailers: Metadata) -> Response<T> {
        Response {
            metadata,
            message,
            trailers,
            compress: None,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("metadata", &self.metadata)
            .field("message", &self.message)
            .field("trailers", &self.trailers)
            .finish()
    }
}

/// Conversion into a [`Request`]: a bare message or a prepared request.
pub trait IntoRequest<T>: sealed::Sealed {
    /// Performs the conversion.
    fn into_request(self) -> Request<T>;
}

impl<T: Message> IntoRequest<T> for T {
    fn into_request(self) -> Request<T> {
        Request::new(self)
    }
}

impl<T> IntoRequest<T> for Request<T> {
    fn into_request(self) -> Request<T> {
        self
    }
}

/// Conversion into a streaming [`Request`]: any `Stream` of messages, or a prepared request
/// wrapping one.
pub trait IntoStreamingRequest: sealed::Sealed {
    /// The stream type.
    type Stream: Stream<Item = Self::Message> + Send + 'static;
    /// The message type.
    type Message;
    /// Performs the conversion.
    fn into_streaming_request(self) -> Request<Self::Stream>;
}

impl<S> IntoStreamingRequest for S
where
    S: Stream + Send + 'static,
{
    type Stream = S;
    type Message = S::Item;
    fn into_streaming_request(self) -> Request<S> {
        Request::new(self)
    }
}

impl<S> IntoStreamingRequest for Request<S>
where
    S: Stream + Send + 'static,
{
    type Stream = S;
    type Message = S::Item;
    fn into_streaming_request(self) -> Request<S> {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for T {}
}

/// A stream of received messages, decoded lazily. After the stream ends,
/// [`Streaming::trailers`] holds the trailing metadata.
pub struct Streaming<T> {
    inner: PayloadStream,
    last_compression: Option<bool>,
    headers: Option<Metadata>,
    trailers: Option<Metadata>,
    done: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Message> Streaming<T> {
    /// Wraps a payload stream.
    pub fn new(inner: PayloadStream) -> Streaming<T> {
        Streaming {
            inner,
            last_compression: None,
            headers: None,
            trailers: None,
            done: false,
            _marker: PhantomData,
        }
    }

    /// The next message; `Ok(None)` at the end of the stream.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// Response headers that arrived with the stream (bidi calls, whose
    /// [`Response::metadata`] is empty because the call returns before the server answers);
    /// available once the first message or the end has been received.
    pub fn headers(&self) -> Option<&Metadata> {
        self.headers.as_ref()
    }

    /// Whether the message last returned arrived compressed (`None` when the protocol does not
    /// say).
    pub fn last_message_compressed(&self) -> Option<bool> {
        self.last_compression
    }

    /// Trailing metadata, available once the stream has ended.
    pub fn trailers(&self) -> Option<&Metadata> {
        self.trailers.as_ref()
    }
}

impl<T: Message> Stream for Streaming<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            return match self.inner.as_mut().poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(StreamItem::Headers(headers)))) => {
                    self.headers = Some(headers);
                    continue;
                }
                Poll::Ready(None) => {
                    self.done = true;
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Ok(StreamItem::Message(payload)))) => {
                    self.last_compression = payload.compression();
                    Poll::Ready(Some(payload.decode::<T>()))
                }
                Poll::Ready(Some(Ok(StreamItem::Trailers(trailers)))) => {
                    self.done = true;
                    self.trailers = Some(trailers);
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Err(status))) => {
                    self.done = true;
                    self.trailers = Some(status.metadata().clone());
                    Poll::Ready(Some(Err(status)))
                }
            };
        }
    }
}

impl<T> fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("done", &self.done)
            .field("trailers", &self.trailers)
            .finish()
    }
}
