//! The Triple server: HTTP/2 connections on `h2`, one task per stream, routing to exported
//! invokers, deadlines, compression, trailers-only errors, and graceful GOAWAY.

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

use super::compression::{ACCEPT_ENCODING, Encoding};
use super::config::TripleConfig;
use super::frame;
use super::headers::{self, CONTENT_TYPE_GRPC};
use super::router::{Route, Router};
use crate::descriptor::MethodDescriptor;
use crate::invocation::{Body, Invocation, Reply};
use crate::invoker::BoxFuture;
use crate::message::{Payload, PayloadStream, StreamItem};
use crate::metadata::Metadata;
use crate::status::Status;
use crate::transport::coalesce::coalesce;
use crate::transport::{ConnectionHandler, ShutdownSignal};

/// Shared by every connection of one listener.
pub(crate) struct ServerShared {
    pub(crate) router: Arc<Router>,
    pub(crate) config: Arc<TripleConfig>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for ServerShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerShared")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

/// The connection handler of one Triple listener.
#[derive(Debug, Clone)]
pub(crate) struct TripleAcceptor(pub(crate) Arc<ServerShared>);

impl ConnectionHandler for TripleAcceptor {
    fn handle(
        &self,
        stream: tokio::net::TcpStream,
        remote: SocketAddr,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<'static, ()> {
        let shared = Arc::clone(&self.0);
        #[cfg(feature = "tls")]
        if let Some(acceptor) = shared.tls.clone() {
            return Box::pin(async move {
                let timeout = shared.config.handshake_timeout;
                match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(tls, remote, shared, shutdown).await,
                    Ok(Err(err)) => tracing::debug!(%remote, error = %err, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                }
            });
        }
        Box::pin(serve_connection(stream, remote, shared, shutdown))
    }
}

fn h2_builder(config: &TripleConfig) -> h2::server::Builder {
    let mut builder = h2::server::Builder::new();
    builder
        .initial_window_size(config.initial_stream_window_size)
        .initial_connection_window_size(config.initial_connection_window_size)
        .max_frame_size(config.max_frame_size)
        .max_header_list_size(config.max_header_list_size)
        .max_concurrent_streams(config.max_concurrent_streams)
        .max_concurrent_reset_streams(config.max_concurrent_reset_streams)
        .max_pending_accept_reset_streams(config.max_pending_accept_reset_streams)
        .max_send_buffer_size(config.max_send_buffer_size);
    builder
}

/// Serves one HTTP/2 connection until it closes or shutdown completes.
pub(crate) async fn serve_connection<IO>(
    io: IO,
    remote: SocketAddr,
    shared: Arc<ServerShared>,
    shutdown: ShutdownSignal,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // h2 would write each large DATA frame on its own; gather what one poll produces and
    // write it after the poll instead.
    let (io, flusher) = coalesce(io);
    let mut handshake = pin!(tokio::time::timeout(
        shared.config.handshake_timeout,
        h2_builder(&shared.config).handshake::<_, Bytes>(io),
    ));
    let handshake = poll_fn(|cx| {
        let result = handshake.as_mut().poll(cx);
        // Errors are kept and reported to h2 on its next write.
        let _ = flusher.poll_flush(cx);
        result
    });
    let mut conn = match handshake.await {
        Ok(Ok(conn)) => conn,
        Ok(Err(err)) => {
            tracing::debug!(%remote, error = %err, "HTTP/2 handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%remote, "HTTP/2 handshake timed out");
            return;
        }
    };
    let mut shutdown = pin!(shutdown.watch());
    let mut draining = false;
    let mut accepted = Vec::new();
    loop {
        // Take every stream the peer has opened so far (h2 processes all frames it has read,
        // request bodies included, before handing out the first), then run them.
        let event = poll_fn(|cx| {
            if !draining && shutdown.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Shutdown);
            }
            let event = loop {
                match conn.poll_accept(cx) {
                    Poll::Ready(Some(Ok(stream))) => accepted.push(stream),
                    Poll::Ready(Some(Err(err))) => break Poll::Ready(Event::Failed(err)),
                    Poll::Ready(None) => break Poll::Ready(Event::Closed),
                    Poll::Pending if accepted.is_empty() => break Poll::Pending,
                    Poll::Pending => break Poll::Ready(Event::Accepted),
                }
            };
            // Everything h2 wrote during this poll goes out now, in as few writes as the
            // socket takes; if it is full, the task wakes when it drains.
            let _ = flusher.poll_flush(cx);
            event
        })
        .await;
        // Write the responses in two chunks (of at least 4): far fewer writes than one per
        // response, yet the peer can start on the first half while we finish the rest (one
        // big write would make a single busy connection move in lock-step waves). The last
        // chunk goes out with the next connection poll.
        let chunk = (accepted.len() / 2).max(4);
        let count = accepted.len();
        for (i, (request, respond)) in accepted.drain(..).enumerate() {
            dispatch(&shared, remote, request, respond);
            if (i + 1) % chunk == 0 && i + 1 < count {
                poll_fn(|cx| {
                    let _ = conn.poll_closed(cx);
                    let _ = flusher.poll_flush(cx);
                    Poll::Ready(())
                })
                .await;
            }
        }
        match event {
            Event::Accepted => {}
            Event::Shutdown => {
                draining = true;
                conn.graceful_shutdown();
            }
            Event::Failed(err) => {
                if !err.is_go_away() && !err.is_io() {
                    tracing::debug!(%remote, error = %err, "HTTP/2 connection error");
                }
                break;
            }
            Event::Closed => break,
        }
    }
    // A last GOAWAY may still be buffered; send it if the socket takes it now.
    let _ = poll_fn(|cx| Poll::Ready(flusher.poll_flush(cx))).await;
}

/// What the connection loop woke up for.
enum Event {
    Accepted,
    Shutdown,
    Failed(h2::Error),
    Closed,
}

/// Runs one call. By default its first poll happens right here on the connection task: a
/// call that completes at once (most unary calls) queues its response without a task switch,
/// and the next connection poll writes every queued response together. A call that has to
/// wait moves to its own task. With `spawn_handlers`, every call gets its own task at once.
fn dispatch(
    shared: &Arc<ServerShared>,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    let mut call: Pin<Box<dyn Future<Output = ()> + Send>> =
        Box::pin(handle_stream(Arc::clone(shared), remote, request, respond));
    if shared.config.spawn_handlers {
        tokio::spawn(call);
        return;
    }
    // A no-op waker: if the call is not done, its task polls it again at once and registers
    // its own waker.
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let first =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.as_mut().poll(&mut cx)));
    match first {
        Ok(Poll::Ready(())) => {}
        Ok(Poll::Pending) => {
            tokio::spawn(call);
        }
        Err(_) => {
            // Dropping the call resets its stream; the connection and other calls go on.
            tracing::error!(%remote, "a call handler panicked");
        }
    }
}

/// Why a call stopped early.
enum Stop {
    /// End the call with this status.
    Status(Status),
    /// The peer reset the stream (or the connection went away): nothing more to send.
    Reset,
}

impl From<Status> for Stop {
    fn from(status: Status) -> Stop {
        Stop::Status(status)
    }
}

impl From<h2::Error> for Stop {
    fn from(_: h2::Error) -> Stop {
        Stop::Reset
    }
}

/// A routed request, ready to run.
struct Prepared {
    route: Route,
    method: &'static MethodDescriptor,
    metadata: Metadata,
    deadline: Option<Instant>,
    request_encoding: Option<Encoding>,
    recv: RecvStream,
}

async fn handle_stream(
    shared: Arc<ServerShared>,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    let config = &shared.config;
    let (parts, recv) = request.into_parts();
    let accepts_gzip =
        Encoding::Gzip.accepted_by(CallHeaders::scan(&parts.headers).accept_encoding);
    let mut writer = ResponseWriter {
        respond,
        stream: None,
        accepts_gzip,
        compress_default: config.compress_responses,
        max_send: config.max_send_message_size,
        trailers: Metadata::new(),
    };
    if let Some(status) = reject_non_grpc(&parts) {
        writer.plain_http(status);
        return;
    }
    let prepared = match prepare(&shared, parts, recv) {
        Ok(p) => p,
        Err(status) => {
            writer.finish_with_error(status);
            return;
        }
    };
    let deadline = prepared.deadline;
    let outcome = {
        let work = run(
            prepared,
            remote,
            &mut writer,
            config.max_receive_message_size,
        );
        match deadline {
            None => work.await,
            Some(deadline) => tokio::time::timeout_at(deadline.into(), work)
                .await
                .unwrap_or_else(|_| {
                    Err(Stop::Status(Status::deadline_exceeded(
                        "deadline exceeded while the server was handling the call",
                    )))
                }),
        }
    };
    match outcome {
        Ok(()) | Err(Stop::Reset) => {}
        Err(Stop::Status(status)) => writer.finish_with_error(status),
    }
}

/// Non-gRPC requests get a plain HTTP answer (405 for non-POST, 415 for other content types).
fn reject_non_grpc(parts: &http::request::Parts) -> Option<StatusCode> {
    if parts.method != Method::POST {
        return Some(StatusCode::METHOD_NOT_ALLOWED);
    }
    let grpc = parts
        .headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if !grpc {
        return Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    None
}

/// The request headers the server acts on, found in one pass over the map (a lookup by name
/// hashes and validates the name each time; most requests carry only a few headers).
#[derive(Default)]
struct CallHeaders<'a> {
    accept_encoding: Option<&'a HeaderValue>,
    encoding: Option<&'a HeaderValue>,
    timeout: Option<&'a HeaderValue>,
    /// `tri-service-group`, or Dubbo's older `group`.
    group: Option<&'a HeaderValue>,
    group_fallback: Option<&'a HeaderValue>,
    /// `tri-service-version`, or Dubbo's older `version`.
    version: Option<&'a HeaderValue>,
    version_fallback: Option<&'a HeaderValue>,
}

impl<'a> CallHeaders<'a> {
    fn scan(map: &'a HeaderMap) -> CallHeaders<'a> {
        let mut found = CallHeaders::default();
        for (name, value) in map {
            let slot = match name.as_str() {
                headers::GRPC_ACCEPT_ENCODING => &mut found.accept_encoding,
                headers::GRPC_ENCODING => &mut found.encoding,
                headers::GRPC_TIMEOUT => &mut found.timeout,
                headers::TRI_SERVICE_GROUP => &mut found.group,
                "group" => &mut found.group_fallback,
                headers::TRI_SERVICE_VERSION => &mut found.version,
                "version" => &mut found.version_fallback,
                _ => continue,
            };
            // Like `HeaderMap::get`: the first value of a repeated header counts.
            slot.get_or_insert(value);
        }
        found
    }

    fn group(&self) -> &'a str {
        text(self.group.or(self.group_fallback))
    }

    fn version(&self) -> &'a str {
        text(self.version.or(self.version_fallback))
    }
}

fn text(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn prepare(
    shared: &ServerShared,
    parts: http::request::Parts,
    recv: RecvStream,
) -> Result<Prepared, Status> {
    let path = parts.uri.path();
    let mut segments = path.rsplitn(3, '/');
    let (method_name, service) = match (segments.next(), segments.next()) {
        (Some(m), Some(s)) if !m.is_empty() && !s.is_empty() => (m, s),
        _ => {
            return Err(Status::unimplemented(format!(
                "malformed path {path:?}: expected /service/method"
            )));
        }
    };
    let call_headers = CallHeaders::scan(&parts.headers);
    let group = call_headers.group();
    let version = call_headers.version();
    let route = shared
        .router
        .resolve(service, group, version)
        .ok_or_else(|| {
            Status::unimplemented(format!(
                "service not found: {}",
                crate::url::service_key(service, group, version)
            ))
        })?;
    let method = route.descriptor.method(method_name).ok_or_else(|| {
        Status::unimplemented(format!(
            "method {method_name} not found in service {service}"
        ))
    })?;
    let deadline = match call_headers.timeout {
        None => None,
        Some(value) => {
            let timeout = headers::parse_timeout(value.as_bytes())
                .ok_or_else(|| Status::internal(format!("malformed grpc-timeout {value:?}")))?;
            Some(Instant::now() + timeout)
        }
    };
    let request_encoding = Encoding::from_header(call_headers.encoding).map_err(|name| {
        Status::unimplemented(format!(
            "grpc-encoding {name:?} is not supported; supported: gzip, identity"
        ))
    })?;
    Ok(Prepared {
        route,
        method,
        metadata: Metadata::from_headers(parts.headers),
        deadline,
        request_encoding,
        recv,
    })
}

async fn run(
    prepared: Prepared,
    remote: SocketAddr,
    writer: &mut ResponseWriter,
    max_receive: usize,
) -> Result<(), Stop> {
    let Prepared {
        route,
        method,
        metadata,
        deadline,
        request_encoding,
        mut recv,
    } = prepared;
    let decoder = frame::Decoder::new(max_receive, request_encoding);
    let body = if method.kind.client_streaming() {
        Body::Stream(Box::pin(RequestStream {
            recv: Some(recv),
            decoder,
        }))
    } else {
        Body::Unary(read_unary(&mut recv, decoder).await?)
    };
    let mut invocation = Invocation::new(Arc::clone(&route.target), method, metadata, body);
    invocation.set_deadline(deadline);
    invocation.set_remote_addr(Some(remote));
    let reply = {
        let mut call = route.invoker.invoke(invocation);
        let respond = &mut writer.respond;
        poll_fn(|cx| {
            if let Poll::Ready(result) = call.as_mut().poll(cx) {
                return Poll::Ready(result.map_err(Stop::Status));
            }
            // Cancelled by the client (RST_STREAM) or connection closed: drop the handler.
            match respond.poll_reset(cx) {
                Poll::Ready(_) => Poll::Ready(Err(Stop::Reset)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await?
    };
    writer.write_reply(reply).await
}

/// Reads the single request message of a unary or server-streaming call.
async fn read_unary(recv: &mut RecvStream, mut decoder: frame::Decoder) -> Result<Payload, Stop> {
    let mut message = None;
    while let Some(chunk) = poll_fn(|cx| recv.poll_data(cx)).await {
        let chunk = chunk?;
        let _ = recv.flow_control().release_capacity(chunk.len());
        decoder.push(chunk);
        while let Some(m) = decoder.next_payload()? {
            if message.is_some() {
                return Err(Status::unimplemented(
                    "expected one request message for a unary call, received several",
                )
                .into());
            }
            message = Some(m);
        }
    }
    if decoder.has_partial() {
        return Err(Status::internal("request stream ended inside a message").into());
    }
    message.ok_or_else(|| Status::internal("request stream ended without a message").into())
}

/// The request messages of a client-streaming or bidi call, decoded as they arrive.
struct RequestStream {
    recv: Option<RecvStream>,
    decoder: frame::Decoder,
}

impl Stream for RequestStream {
    type Item = Result<StreamItem, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            // `next_payload` keeps the frame's compressed flag, which handlers read through
            // `Streaming::last_message_compressed`.
            match this.decoder.next_payload() {
                Ok(Some(payload)) => {
                    return Poll::Ready(Some(Ok(StreamItem::Message(payload))));
                }
                Ok(None) => {}
                Err(status) => {
                    this.recv = None;
                    return Poll::Ready(Some(Err(status)));
                }
            }
            let Some(recv) = this.recv.as_mut() else {
                return Poll::Ready(None);
            };
            match recv.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let _ = recv.flow_control().release_capacity(chunk.len());
                    this.decoder.push(chunk);
                }
                Poll::Ready(Some(Err(err))) => {
                    this.recv = None;
                    return Poll::Ready(Some(Err(Status::cancelled(format!(
                        "request stream failed: {err}"
                    )))));
                }
                Poll::Ready(None) => {
                    this.recv = None;
                    if this.decoder.has_partial() {
                        return Poll::Ready(Some(Err(Status::internal(
                            "request stream ended inside a message",
                        ))));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// Writes one response: headers, messages (with flow control), trailers; or a trailers-only
/// error when nothing was sent yet.
struct ResponseWriter {
    respond: SendResponse<Bytes>,
    stream: Option<SendStream<Bytes>>,
    accepts_gzip: bool,
    compress_default: bool,
    max_send: usize,
    /// Trailers the handler set; sent with the final status.
    trailers: Metadata,
}

impl ResponseWriter {
    fn plain_http(&mut self, status: StatusCode) {
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        let _ = self.respond.send_response(response, true);
    }

    fn response_encoding(&self, compress: Option<bool>) -> Option<Encoding> {
        (compress.unwrap_or(self.compress_default) && self.accepts_gzip).then_some(Encoding::Gzip)
    }

    fn send_headers(
        &mut self,
        metadata: &Metadata,
        encoding: Option<Encoding>,
    ) -> Result<&mut SendStream<Bytes>, Stop> {
        let mut response = http::Response::new(());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, CONTENT_TYPE_GRPC);
        headers.insert(
            const { HeaderName::from_static(headers::GRPC_ACCEPT_ENCODING) },
            ACCEPT_ENCODING,
        );
        if let Some(encoding) = encoding {
            headers.insert(
                const { HeaderName::from_static(headers::GRPC_ENCODING) },
                encoding.header_value(),
            );
        }
        headers::append_user_metadata(headers, metadata);
        let stream = self.respond.send_response(response, false)?;
        Ok(self.stream.insert(stream))
    }

    async fn write_reply(&mut self, reply: Reply) -> Result<(), Stop> {
        let Reply {
            headers,
            body,
            trailers,
            compress,
        } = reply;
        self.trailers = trailers;
        let encoding = self.response_encoding(compress);
        match body {
            Body::Unary(payload) => {
                // Encode before sending headers: an encoding failure is still trailers-only.
                let data = frame::encode(&payload, encoding, self.max_send)?;
                let stream = self.send_headers(&headers, encoding)?;
                stream.send_data(data, false)?;
            }
            Body::Stream(mut messages) => {
                self.send_headers(&headers, encoding)?;
                let max_send = self.max_send;
                let stream = self.stream.as_mut().ok_or(Stop::Reset)?;
                let mut batch = BytesMut::new();
                loop {
                    // Wait for the next message, then take every one that is ready at once
                    // (up to a batch size) so they go out together in one DATA frame.
                    let mut item = next_item(&mut messages, stream).await?;
                    let mut end = false;
                    loop {
                        match item {
                            None => end = true,
                            Some(StreamItem::Message(payload)) => {
                                frame::encode_into(&mut batch, &payload, encoding, max_send)?;
                            }
                            Some(StreamItem::Trailers(extra)) => {
                                self.trailers.merge(&extra);
                                end = true;
                            }
                            Some(StreamItem::Headers(_)) => {}
                        }
                        if end || batch.len() >= STREAM_BATCH {
                            break;
                        }
                        item = match ready_item(&mut messages) {
                            Some(next) => next.map_err(|status| {
                                // Send what is encoded before the error ends the call.
                                let _ = stream.send_data(batch.split().freeze(), false);
                                Stop::Status(status)
                            })?,
                            None => break,
                        };
                    }
                    if !batch.is_empty() {
                        send_with_capacity(stream, batch.split().freeze()).await?;
                    }
                    if end {
                        break;
                    }
                }
            }
        }
        let mut trailers = HeaderMap::new();
        trailers.insert(
            const { HeaderName::from_static(headers::GRPC_STATUS) },
            http::HeaderValue::from_static("0"),
        );
        headers::append_user_metadata(&mut trailers, &self.trailers);
        if let Some(stream) = self.stream.as_mut() {
            stream.send_trailers(trailers)?;
        }
        Ok(())
    }

    /// Ends the call with `status`: trailers if headers went out, else trailers-only.
    fn finish_with_error(&mut self, status: Status) {
        let mut block = HeaderMap::new();
        headers::put_status(&mut block, &status);
        headers::append_user_metadata(&mut block, &self.trailers);
        match self.stream.as_mut() {
            Some(stream) => {
                let _ = stream.send_trailers(block);
            }
            None => {
                let mut response = http::Response::new(());
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, CONTENT_TYPE_GRPC);
                headers.insert(
                    const { HeaderName::from_static(headers::GRPC_ACCEPT_ENCODING) },
                    ACCEPT_ENCODING,
                );
                headers.extend(block);
                let _ = self.respond.send_response(response, true);
            }
        }
    }
}

/// Replies of a stream that are ready together go out in one DATA frame up to this size.
const STREAM_BATCH: usize = 32 * 1024;

/// The next reply item if one is ready right now (`None` when the stream would wait).
fn ready_item(messages: &mut PayloadStream) -> Option<Result<Option<StreamItem>, Status>> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match messages.as_mut().poll_next(&mut cx) {
        Poll::Ready(item) => Some(item.transpose()),
        Poll::Pending => None,
    }
}

/// The next reply item, watching for a client reset while the handler's stream is idle.
async fn next_item(
    messages: &mut PayloadStream,
    stream: &mut SendStream<Bytes>,
) -> Result<Option<StreamItem>, Stop> {
    poll_fn(|cx| {
        if let Poll::Ready(item) = messages.as_mut().poll_next(cx) {
            return Poll::Ready(item.transpose().map_err(Stop::Status));
        }
        match stream.poll_reset(cx) {
            Poll::Ready(_) => Poll::Ready(Err(Stop::Reset)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Sends `data` once the peer's flow-control window has room, so a slow reader applies
/// back-pressure to a streaming handler instead of growing our buffers.
async fn send_with_capacity(stream: &mut SendStream<Bytes>, data: Bytes) -> Result<(), Stop> {
    if !data.is_empty() {
        stream.reserve_capacity(data.len());
        while stream.capacity() == 0 {
            match poll_fn(|cx| stream.poll_capacity(cx)).await {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err(Stop::Reset),
            }
        }
    }
    stream.send_data(data, false)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn call_headers_prefer_triple_names_and_fall_back_to_java_ones() {
        let both = map(&[
            ("group", "old"),
            ("tri-service-group", "new"),
            ("version", "1.0.0"),
        ]);
        let found = CallHeaders::scan(&both);
        assert_eq!(found.group(), "new");
        assert_eq!(found.version(), "1.0.0");

        let neither = map(&[("content-type", "application/grpc")]);
        let found = CallHeaders::scan(&neither);
        assert_eq!((found.group(), found.version()), ("", ""));
        assert!(found.timeout.is_none() && found.encoding.is_none());
    }

    #[test]
    fn call_headers_take_the_first_of_repeated_values_like_get() {
        let headers = map(&[
            ("grpc-timeout", "100m"),
            ("grpc-timeout", "5S"),
            ("grpc-encoding", "gzip"),
            ("grpc-accept-encoding", "identity, gzip"),
            ("tri-service-version", "2.0.0"),
            ("tri-service-version", "3.0.0"),
        ]);
        let found = CallHeaders::scan(&headers);
        assert_eq!(found.timeout, headers.get("grpc-timeout"));
        assert_eq!(found.timeout.unwrap(), "100m");
        assert_eq!(found.encoding.unwrap(), "gzip");
        assert!(Encoding::Gzip.accepted_by(found.accept_encoding));
        assert_eq!(found.version(), "2.0.0");
    }
}
