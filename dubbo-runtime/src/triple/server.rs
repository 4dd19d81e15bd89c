//! The Triple server: HTTP/2 connections on `h2`, one task per stream, routing to exported
//! invokers, deadlines, compression, trailers-only errors, and graceful GOAWAY.

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, LazyLock};
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
use crate::transport::inline_wake::InlineWake;
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
    // The h2 handles of calls answered on this task, dropped once their responses have been
    // written: releasing a stream costs h2 some bookkeeping that need not delay any response.
    let mut finished = Vec::new();
    // How many calls the previous wake-up brought; sets where this one writes its first part.
    let mut last_batch = 0;
    // h2 and the socket get a waker that ignores the wakes of the calls run below: each is
    // followed by another `poll_accept` and the flush, which is what those wakes ask for.
    let inline_wake = InlineWake::new();
    loop {
        let event = poll_fn(|task_cx| {
            if !draining && shutdown.as_mut().poll(task_cx).is_ready() {
                return Poll::Ready(Event::Shutdown);
            }
            let cx = &mut Context::from_waker(inline_wake.waker(task_cx));
            loop {
                // Run each call as h2 hands it out (h2 has processed every frame read so
                // far, request bodies included, before the first); the next `poll_accept`
                // encodes the responses queued meanwhile. Responses go out in two parts: once
                // half as many calls as last time (at least 4) have run, and when none are
                // left — far fewer writes than one per response, yet the peer can start on
                // the first part while we finish the rest (one big write would make a busy
                // connection move in lock-step waves).
                let first_part = (last_batch / 2).max(4);
                let mut batch = 0;
                let event = loop {
                    let polled = conn.poll_accept(cx);
                    if batch == first_part {
                        let _ = flusher.poll_flush(cx);
                    }
                    match polled {
                        Poll::Ready(Some(Ok((request, respond)))) => {
                            let handles =
                                inline_wake.run(|| dispatch(&shared, remote, request, respond));
                            finished.extend(handles);
                            batch += 1;
                        }
                        Poll::Ready(Some(Err(err))) => break Poll::Ready(Event::Failed(err)),
                        Poll::Ready(None) => break Poll::Ready(Event::Closed),
                        Poll::Pending => break Poll::Pending,
                    }
                };
                if batch > 0 {
                    last_batch = batch;
                }
                // Everything h2 wrote during this poll goes out now, in as few writes as the
                // socket takes; if it is full, the task wakes when it drains.
                let _ = flusher.poll_flush(cx);
                if event.is_ready() || finished.is_empty() {
                    finished.clear();
                    return event;
                }
                // Releasing the answered streams (after their responses are out: it costs h2
                // some bookkeeping) wakes h2, which may owe a reset or a window update or, when
                // draining, may now close. Poll it once more here, not through the scheduler.
                inline_wake.run(|| finished.clear());
            }
        })
        .await;
        match event {
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
    Shutdown,
    Failed(h2::Error),
    Closed,
}

/// Runs one call. By default it starts right here on the connection task and goes as far as
/// it can without waiting: a unary call whose request has arrived and whose handler answers
/// at once queues its response with no task and no allocation of its own, and the next
/// connection poll writes every queued response together. Whatever has to wait (the rest of
/// a request body, a handler that is not done, a streamed reply) moves to a task of its own.
/// With `spawn_handlers`, every call gets its own task at once.
///
/// Returns the stream handles of a call that finished here, for the caller to drop after
/// the next write.
fn dispatch(
    shared: &Arc<ServerShared>,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) -> Option<StreamHandles> {
    if shared.config.spawn_handlers {
        tokio::spawn(handle_stream(Arc::clone(shared), remote, request, respond));
        return None;
    }
    let inline = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_inline(shared, remote, request, respond)
    }));
    inline.unwrap_or_else(|_| {
        // Dropping the call resets its stream; the connection and other calls go on.
        tracing::error!(%remote, "a call handler panicked");
        None
    })
}

/// The h2 handles of a finished call. Dropping them releases the stream.
struct StreamHandles {
    _respond: SendResponse<Bytes>,
    _stream: Option<SendStream<Bytes>>,
    _request: Option<RecvStream>,
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
    remote: SocketAddr,
    accepts_gzip: bool,
    recv: RecvStream,
    decoder: frame::Decoder,
    /// The request message of a unary or server-streaming call, once decoded.
    message: Option<Payload>,
}

/// A whole call on a task of its own (`spawn_handlers`).
async fn handle_stream(
    shared: Arc<ServerShared>,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    if let Some((writer, call)) = start(&shared, remote, request, respond) {
        let deadline = call.deadline;
        finish(writer, deadline, Rest::Read(Box::new(call))).await;
    }
}

/// Runs a call on the connection task as far as it goes without waiting; returns its
/// stream handles if it finished.
fn run_inline(
    shared: &ServerShared,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) -> Option<StreamHandles> {
    let (mut writer, mut call) = start(shared, remote, request, respond)?;
    let deadline = call.deadline;
    // A no-op waker: whatever is not ready is polled again by the task it moves to, which
    // registers its own waker.
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let message = match call.poll_message(&mut cx) {
        Poll::Ready(Ok(message)) => message,
        Poll::Ready(Err(stop)) => return Some(writer.end(stop)),
        Poll::Pending => return spawn_rest(writer, deadline, Rest::Read(Box::new(call))),
    };
    let mut handler = call.invoke(message, &mut writer);
    let reply = match poll_handler(&mut handler, &mut writer.respond, &mut cx) {
        Poll::Ready(Ok(reply)) => reply,
        Poll::Ready(Err(stop)) => return Some(writer.end(stop)),
        Poll::Pending => return spawn_rest(writer, deadline, Rest::Handler(handler)),
    };
    let (headers, body, encoding) = writer.begin(reply);
    let written = match body {
        Body::Unary(payload) => writer.write_unary(&headers, &payload, encoding),
        Body::Stream(messages) => {
            return spawn_rest(writer, deadline, Rest::Stream(headers, messages, encoding));
        }
    };
    match written {
        Ok(()) => Some(writer.into_handles()),
        Err(stop) => Some(writer.end(stop)),
    }
}

/// Where a call that has to wait picks up again on its own task.
enum Rest {
    /// Reading the request (boxed: the other variants are far smaller, and this path
    /// spawns a task anyway).
    Read(Box<Prepared>),
    /// Waiting for the handler.
    Handler(BoxFuture<'static, Result<Reply, Status>>),
    /// Writing a streamed reply: its headers, messages and encoding.
    Stream(Metadata, PayloadStream, Option<Encoding>),
}

fn spawn_rest(
    writer: ResponseWriter,
    deadline: Option<Instant>,
    rest: Rest,
) -> Option<StreamHandles> {
    tokio::spawn(finish(writer, deadline, rest));
    None
}

/// Runs the rest of a call within its deadline and ends it.
async fn finish(mut writer: ResponseWriter, deadline: Option<Instant>, rest: Rest) {
    let outcome = {
        let work = resume(&mut writer, rest);
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
    if let Err(stop) = outcome {
        writer.end(stop);
    }
}

async fn resume(writer: &mut ResponseWriter, rest: Rest) -> Result<(), Stop> {
    let mut handler = match rest {
        Rest::Read(mut call) => {
            let message = poll_fn(|cx| call.poll_message(cx)).await?;
            call.invoke(message, writer)
        }
        Rest::Handler(handler) => handler,
        Rest::Stream(headers, messages, encoding) => {
            return writer.write_stream(&headers, messages, encoding).await;
        }
    };
    let reply = poll_fn(|cx| poll_handler(&mut handler, &mut writer.respond, cx)).await?;
    writer.write_reply(reply).await
}

/// Polls a handler, watching for the client cancelling the call (RST_STREAM) or the
/// connection closing, which drops the handler.
fn poll_handler(
    handler: &mut BoxFuture<'static, Result<Reply, Status>>,
    respond: &mut SendResponse<Bytes>,
    cx: &mut Context<'_>,
) -> Poll<Result<Reply, Stop>> {
    if let Poll::Ready(result) = handler.as_mut().poll(cx) {
        return Poll::Ready(result.map_err(Stop::Status));
    }
    match respond.poll_reset(cx) {
        Poll::Ready(_) => Poll::Ready(Err(Stop::Reset)),
        Poll::Pending => Poll::Pending,
    }
}

/// Checks and routes a request; answers it at once (and returns `None`) if it cannot run.
fn start(
    shared: &ServerShared,
    remote: SocketAddr,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) -> Option<(ResponseWriter, Prepared)> {
    let config = &shared.config;
    let (parts, recv) = request.into_parts();
    let mut writer = ResponseWriter {
        respond,
        stream: None,
        request: None,
        accepts_gzip: false,
        compress_default: config.compress_responses,
        max_send: config.max_send_message_size,
        trailers: Metadata::new(),
    };
    if let Some(status) = reject_non_grpc(&parts) {
        writer.plain_http(status);
        return None;
    }
    match prepare(shared, remote, parts, recv) {
        Ok(call) => {
            writer.accepts_gzip = call.accepts_gzip;
            Some((writer, call))
        }
        Err(status) => {
            writer.finish_with_error(status);
            None
        }
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

/// Splits `/{service}/{method}` (only the last two segments count, as Java Dubbo reads them).
fn split_path(path: &str) -> Option<(&str, &str)> {
    let bytes = path.as_bytes();
    let slash = memchr::memrchr(b'/', bytes)?;
    let start = memchr::memrchr(b'/', &bytes[..slash]).map_or(0, |i| i + 1);
    // Both cuts are at an ASCII '/', so they fall on character boundaries.
    let (service, method) = (&path[start..slash], &path[slash + 1..]);
    (!service.is_empty() && !method.is_empty()).then_some((service, method))
}

fn prepare(
    shared: &ServerShared,
    remote: SocketAddr,
    parts: http::request::Parts,
    recv: RecvStream,
) -> Result<Prepared, Status> {
    let path = parts.uri.path();
    let Some((service, method_name)) = split_path(path) else {
        return Err(Status::unimplemented(format!(
            "malformed path {path:?}: expected /service/method"
        )));
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
    let accepts_gzip = Encoding::Gzip.accepted_by(call_headers.accept_encoding);
    Ok(Prepared {
        route,
        method,
        metadata: Metadata::from_headers(parts.headers),
        deadline,
        remote,
        accepts_gzip,
        recv,
        decoder: frame::Decoder::new(shared.config.max_receive_message_size, request_encoding),
        message: None,
    })
}

impl Prepared {
    /// Reads the single request message of a unary or server-streaming call (`None` for
    /// client-streaming and bidi calls, whose messages the handler reads as they arrive).
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Payload>, Stop>> {
        if self.method.kind.client_streaming() {
            return Poll::Ready(Ok(None));
        }
        while let Some(chunk) = std::task::ready!(self.recv.poll_data(cx)) {
            let chunk = chunk?;
            let _ = self.recv.flow_control().release_capacity(chunk.len());
            self.decoder.push(chunk);
            while let Some(m) = self.decoder.next_payload()? {
                if self.message.is_some() {
                    return Poll::Ready(Err(Status::unimplemented(
                        "expected one request message for a unary call, received several",
                    )
                    .into()));
                }
                self.message = Some(m);
            }
        }
        if self.decoder.has_partial() {
            return Poll::Ready(Err(Status::internal(
                "request stream ended inside a message",
            )
            .into()));
        }
        match self.message.take() {
            Some(message) => Poll::Ready(Ok(Some(message))),
            None => Poll::Ready(Err(Status::internal(
                "request stream ended without a message",
            )
            .into())),
        }
    }

    /// Starts the handler with the request `message` (or, when `None`, a stream of them).
    fn invoke(
        self,
        message: Option<Payload>,
        writer: &mut ResponseWriter,
    ) -> BoxFuture<'static, Result<Reply, Status>> {
        let body = match message {
            Some(message) => {
                writer.request = Some(self.recv);
                Body::Unary(message)
            }
            None => Body::Stream(Box::pin(RequestStream {
                recv: Some(self.recv),
                decoder: self.decoder,
            })),
        };
        let Route {
            target, invoker, ..
        } = self.route;
        let mut invocation = Invocation::new(target, self.method, self.metadata, body);
        invocation.set_deadline(self.deadline);
        invocation.set_remote_addr(Some(self.remote));
        invoker.invoke(invocation)
    }
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
    /// The request stream of a call whose one message has been read, kept until the call
    /// ends (dropping it early costs h2 an extra stream state change).
    request: Option<RecvStream>,
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
        *headers = RESPONSE_HEADERS.clone();
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

    /// Keeps a reply's trailers for the end of the call and picks its encoding; returns its
    /// headers and body.
    fn begin(&mut self, reply: Reply) -> (Metadata, Body, Option<Encoding>) {
        self.trailers = reply.trailers;
        let encoding = self.response_encoding(reply.compress);
        (reply.headers, reply.body, encoding)
    }

    async fn write_reply(&mut self, reply: Reply) -> Result<(), Stop> {
        let (headers, body, encoding) = self.begin(reply);
        match body {
            Body::Unary(payload) => self.write_unary(&headers, &payload, encoding),
            Body::Stream(messages) => self.write_stream(&headers, messages, encoding).await,
        }
    }

    /// Writes a reply of one message: headers, the message and trailers.
    fn write_unary(
        &mut self,
        headers: &Metadata,
        payload: &Payload,
        encoding: Option<Encoding>,
    ) -> Result<(), Stop> {
        // Encode before sending headers: an encoding failure is still trailers-only.
        let data = frame::encode(payload, encoding, self.max_send)?;
        let stream = self.send_headers(headers, encoding)?;
        stream.send_data(data, false)?;
        self.send_ok_trailers()
    }

    /// Writes a streamed reply: headers, each message as the handler produces it (with flow
    /// control), and trailers.
    async fn write_stream(
        &mut self,
        headers: &Metadata,
        mut messages: PayloadStream,
        encoding: Option<Encoding>,
    ) -> Result<(), Stop> {
        self.send_headers(headers, encoding)?;
        let max_send = self.max_send;
        let stream = self.stream.as_mut().ok_or(Stop::Reset)?;
        let mut batch = BytesMut::new();
        loop {
            // Wait for the next message, then take every one that is ready at once (up to a
            // batch size) so they go out together in one DATA frame.
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
                return self.send_ok_trailers();
            }
        }
    }

    /// Ends a call that succeeded: `grpc-status: 0` and the handler's trailers.
    fn send_ok_trailers(&mut self) -> Result<(), Stop> {
        let mut trailers = OK_TRAILERS.clone();
        headers::append_user_metadata(&mut trailers, &self.trailers);
        if let Some(stream) = self.stream.as_mut() {
            stream.send_trailers(trailers)?;
        }
        Ok(())
    }

    /// Ends a call that stopped early.
    fn end(mut self, stop: Stop) -> StreamHandles {
        match stop {
            Stop::Status(status) => self.finish_with_error(status),
            Stop::Reset => {}
        }
        self.into_handles()
    }

    fn into_handles(self) -> StreamHandles {
        StreamHandles {
            _respond: self.respond,
            _stream: self.stream,
            _request: self.request,
        }
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
                *headers = RESPONSE_HEADERS.clone();
                headers.extend(block);
                let _ = self.respond.send_response(response, true);
            }
        }
    }
}

/// The headers every response starts with.
static RESPONSE_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, CONTENT_TYPE_GRPC);
    headers.insert(
        HeaderName::from_static(headers::GRPC_ACCEPT_ENCODING),
        ACCEPT_ENCODING,
    );
    headers
});

/// The trailers of a call that succeeded, before the handler's own.
static OK_TRAILERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut trailers = HeaderMap::new();
    trailers.insert(
        HeaderName::from_static(headers::GRPC_STATUS),
        HeaderValue::from_static("0"),
    );
    trailers
});

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
    fn paths_split_into_service_and_method_like_java() {
        let cases = [
            (
                "/org.apache.dubbo.sample.Greeter/SayHello",
                Some(("org.apache.dubbo.sample.Greeter", "SayHello")),
            ),
            ("/context/pkg.Svc/Call", Some(("pkg.Svc", "Call"))),
            ("pkg.Svc/Call", Some(("pkg.Svc", "Call"))),
            ("/pkg.Svc/", None),
            ("//Call", None),
            ("/Call", None),
            ("", None),
            ("/é.Svc/Méthode", Some(("é.Svc", "Méthode"))),
        ];
        for (path, want) in cases {
            assert_eq!(split_path(path), want, "{path:?}");
        }
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

    mod connection_task {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::task::{Wake, Waker};

        use tokio::sync::watch;

        use super::*;
        use crate::descriptor::{CallKind, ServiceDescriptor};
        use crate::invocation::ServiceTarget;
        use crate::invoker::Invoker;
        use crate::protocol::routed::RouteTable as _;
        use crate::transport::ShutdownSignal;
        use crate::url::Url;

        /// Answers every call with the same three-byte message.
        #[derive(Debug)]
        struct Fixed(Url);

        impl Invoker for Fixed {
            fn url(&self) -> &Url {
                &self.0
            }
            fn invoke(&self, _: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
                let reply = Reply::unary(Payload::protobuf(Bytes::from_static(b"\x08\x96\x01")));
                Box::pin(std::future::ready(Ok(reply)))
            }
        }

        static DESC: ServiceDescriptor = ServiceDescriptor {
            name: "pkg.Svc",
            methods: &[
                MethodDescriptor {
                    name: "Call",
                    path: "/pkg.Svc/Call",
                    kind: CallKind::Unary,
                    index: 0,
                    request_class: "pkg.Req",
                    response_class: "pkg.Rep",
                    hessian_request: None,
                },
                MethodDescriptor {
                    name: "Upload",
                    path: "/pkg.Svc/Upload",
                    kind: CallKind::ClientStreaming,
                    index: 1,
                    request_class: "pkg.Req",
                    response_class: "pkg.Rep",
                    hessian_request: None,
                },
            ],
        };

        /// Counts the wakes a future causes to its own task while it is being polled: what
        /// tokio treats as a yield (poll again, and on the multi-thread runtime wake another
        /// worker first).
        struct SelfWakes<F> {
            inner: Pin<Box<F>>,
            polling: Arc<AtomicBool>,
            count: Arc<AtomicUsize>,
        }

        struct Counting {
            task: Waker,
            polling: Arc<AtomicBool>,
            count: Arc<AtomicUsize>,
        }

        impl Wake for Counting {
            fn wake(self: Arc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &Arc<Self>) {
                if self.polling.load(Ordering::SeqCst) {
                    self.count.fetch_add(1, Ordering::SeqCst);
                }
                self.task.wake_by_ref();
            }
        }

        impl<F: Future> Future for SelfWakes<F> {
            type Output = F::Output;
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
                let waker = Waker::from(Arc::new(Counting {
                    task: cx.waker().clone(),
                    polling: Arc::clone(&self.polling),
                    count: Arc::clone(&self.count),
                }));
                self.polling.store(true, Ordering::SeqCst);
                let polled = self.inner.as_mut().poll(&mut Context::from_waker(&waker));
                self.polling.store(false, Ordering::SeqCst);
                polled
            }
        }

        /// Serves one connection, over an in-memory pipe, to the client returned; also returns
        /// the server task's self-wake counter and its shutdown switch.
        async fn connect() -> (
            h2::client::SendRequest<Bytes>,
            Arc<AtomicUsize>,
            watch::Sender<bool>,
        ) {
            let (client_io, server_io) = tokio::io::duplex(64 * 1024);
            let router = Arc::new(Router::default());
            router.add_export(
                Arc::new(ServiceTarget::new("pkg.Svc")),
                Arc::new(Fixed(Url::new("tri", "127.0.0.1", 1))),
                &DESC,
            );
            let shared = Arc::new(ServerShared {
                router,
                config: Arc::new(TripleConfig::default()),
                #[cfg(feature = "tls")]
                tls: None,
            });
            let (stop, rx) = watch::channel(false);
            let remote = SocketAddr::from(([127, 0, 0, 1], 1));
            let count = Arc::new(AtomicUsize::new(0));
            tokio::spawn(SelfWakes {
                inner: Box::pin(serve_connection(
                    server_io,
                    remote,
                    shared,
                    ShutdownSignal::from_receiver(rx),
                )),
                polling: Arc::new(AtomicBool::new(false)),
                count: Arc::clone(&count),
            });
            let (client, conn) = h2::client::handshake(client_io).await.unwrap();
            tokio::spawn(conn);
            (client, count, stop)
        }

        fn post(path: &str) -> http::Request<()> {
            http::Request::post(path)
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .body(())
                .unwrap()
        }

        async fn call(client: &mut h2::client::SendRequest<Bytes>) -> Bytes {
            let (response, mut body) = client.send_request(post("/pkg.Svc/Call"), false).unwrap();
            body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
                .unwrap();
            let mut body = response.await.unwrap().into_body();
            let mut data = BytesMut::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                let _ = body.flow_control().release_capacity(chunk.len());
                data.extend_from_slice(&chunk);
            }
            let trailers = body.trailers().await.unwrap().unwrap();
            assert_eq!(trailers["grpc-status"], "0");
            data.freeze()
        }

        #[tokio::test]
        async fn calls_answered_on_the_connection_task_do_not_wake_it() {
            let (mut client, self_wakes, _stop) = connect().await;
            // The first call also finishes the handshake; count from the second on.
            assert_eq!(call(&mut client).await, &[0, 0, 0, 0, 3, 8, 0x96, 1][..]);
            let before = self_wakes.load(Ordering::SeqCst);
            for _ in 0..5 {
                assert_eq!(call(&mut client).await, &[0, 0, 0, 0, 3, 8, 0x96, 1][..]);
            }
            assert_eq!(self_wakes.load(Ordering::SeqCst) - before, 0);
        }

        #[tokio::test]
        async fn an_early_answer_resets_the_rest_of_the_request_at_once() {
            let (mut client, _, _stop) = connect().await;
            call(&mut client).await;
            // A client-streaming call whose handler answers without reading the request,
            // while the client has not finished sending it.
            let (response, mut upload) =
                client.send_request(post("/pkg.Svc/Upload"), false).unwrap();
            upload
                .send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), false)
                .unwrap();
            let mut body = response.await.unwrap().into_body();
            while let Some(chunk) = body.data().await {
                chunk.unwrap();
            }
            assert_eq!(body.trailers().await.unwrap().unwrap()["grpc-status"], "0");
            // The server's handles of the call are released after its response went out;
            // h2 then owes the client a RST_STREAM(NO_ERROR) for the unread rest, which has
            // to go out without waiting for anything else to wake the connection.
            let reset = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                poll_fn(|cx| upload.poll_reset(cx)),
            )
            .await
            .expect("the server reset the request stream");
            assert_eq!(reset.unwrap(), h2::Reason::NO_ERROR);
        }
    }
}
