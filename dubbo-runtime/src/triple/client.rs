//! The Triple client: one multiplexed HTTP/2 connection per provider address (shared by every
//! reference to that address), reconnect on demand, and the call logic (headers, framing,
//! deadlines, trailers-only answers, status mapping).

use std::fmt;
use std::future::{Future as _, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;
use h2::client::SendRequest;
use h2::{RecvStream, SendStream};
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, TE, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Uri};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::compression::{ACCEPT_ENCODING, Encoding};
use super::config::TripleConfig;
use super::frame;
use super::headers;
use crate::descriptor::CallKind;
use crate::error::{Error, ErrorKind};
use crate::invocation::{Body, Invocation, Reply};
use crate::invoker::{BoxFuture, Invoker};
use crate::message::{Payload, PayloadStream, StreamItem};
use crate::metadata::Metadata;
use crate::status::{Code, Status};
use crate::transport::coalesce::coalesce;
use crate::url::Url;

/// TLS settings for one provider connection.
#[cfg(feature = "tls")]
#[derive(Debug, Clone)]
pub(crate) struct TlsTarget {
    pub(crate) tls: crate::tls::ClientTls,
    pub(crate) server_name: rustls::pki_types::ServerName<'static>,
}

/// Stand-in when TLS support is compiled out.
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
pub(crate) enum TlsTarget {}

/// One provider address: the live HTTP/2 connection, if any, and how to make a new one.
pub(crate) struct Connection {
    address: String,
    tls: Option<TlsTarget>,
    authority: Authority,
    config: Arc<TripleConfig>,
    connect_timeout: Duration,
    current: Mutex<Option<SendRequest<Bytes>>>,
    connecting: tokio::sync::Mutex<()>,
    closed: AtomicBool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(
        address: String,
        config: Arc<TripleConfig>,
        connect_timeout: Duration,
        tls: Option<TlsTarget>,
    ) -> Result<Arc<Connection>, Error> {
        let authority = Authority::try_from(address.as_str())
            .map_err(|e| Error::config(format!("invalid address {address:?}")).with_source(e))?;
        Ok(Arc::new(Connection {
            address,
            tls,
            authority,
            config,
            connect_timeout,
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
        }))
    }

    fn cached(&self) -> Option<SendRequest<Bytes>> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn clear(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Closes the connection for good: in-flight calls finish, later calls fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.clear();
    }

    /// Whether a connection is established now.
    pub(crate) fn is_connected(&self) -> bool {
        self.cached().is_some()
    }

    /// A handle ready to open a stream, connecting (once, for all waiting callers) if needed.
    async fn ready(self: &Arc<Self>) -> Result<SendRequest<Bytes>, Status> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Status::unavailable(format!(
                "client for {} was shut down",
                self.address
            )));
        }
        for attempt in 0..2 {
            let sender = match self.cached() {
                Some(sender) => sender,
                None => self.connect().await?,
            };
            match sender.ready().await {
                Ok(sender) => return Ok(sender),
                Err(err) => {
                    // The connection went away (GOAWAY, reset, EOF) before this call used
                    // it; nothing was sent, so reconnecting once is safe.
                    tracing::debug!(address = %self.address, error = %err, attempt, "connection not usable");
                    self.clear();
                }
            }
        }
        Err(Status::unavailable(format!(
            "connection to {} is not usable",
            self.address
        )))
    }

    async fn connect(self: &Arc<Self>) -> Result<SendRequest<Bytes>, Status> {
        let _guard = self.connecting.lock().await;
        if let Some(sender) = self.cached() {
            return Ok(sender);
        }
        let connect = async {
            let tcp = TcpStream::connect(self.address.as_str())
                .await
                .map_err(|e| Status::from_io_error(&format!("connect to {}", self.address), e))?;
            if self.config.tcp_nodelay {
                let _ = tcp.set_nodelay(true);
            }
            let mut builder = h2::client::Builder::new();
            builder
                .initial_window_size(self.config.initial_stream_window_size)
                .initial_connection_window_size(self.config.initial_connection_window_size)
                .max_frame_size(self.config.max_frame_size)
                .max_header_list_size(self.config.max_header_list_size)
                .max_send_buffer_size(self.config.max_send_buffer_size)
                .enable_push(false);
            let handshake_failed = |e: h2::Error| {
                Status::unavailable(format!(
                    "HTTP/2 handshake with {} failed: {e}",
                    self.address
                ))
            };
            match &self.tls {
                None => h2_handshake(builder, tcp).await.map_err(handshake_failed),
                #[cfg(feature = "tls")]
                Some(target) => {
                    let tls = target
                        .tls
                        .connector
                        .connect(target.server_name.clone(), tcp)
                        .await
                        .map_err(|e| {
                            Status::unavailable(format!(
                                "TLS handshake with {} failed: {e}",
                                self.address
                            ))
                        })?;
                    h2_handshake(builder, tls).await.map_err(handshake_failed)
                }
                #[cfg(not(feature = "tls"))]
                Some(never) => match *never {},
            }
        };
        let deadline = tokio::time::Instant::now() + self.connect_timeout;
        let timed_out = || {
            Status::unavailable(format!(
                "connect to {} timed out after {:?}",
                self.address, self.connect_timeout
            ))
        };
        let (sender, ping_pong, connection) = tokio::time::timeout_at(deadline, connect)
            .await
            .map_err(|_| timed_out())??;
        let weak: Weak<Connection> = Arc::downgrade(self);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "HTTP/2 client connection ended");
            }
            if let Some(conn) = weak.upgrade() {
                conn.clear();
            }
        });
        // h2's handshake does not wait for the server. One PING round trip proves the peer
        // speaks HTTP/2, so a silent or non-HTTP/2 peer fails within the connect timeout
        // instead of hanging the first call.
        if let Some(mut ping_pong) = ping_pong {
            tokio::time::timeout_at(deadline, ping_pong.ping(h2::Ping::opaque()))
                .await
                .map_err(|_| timed_out())?
                .map_err(|e| {
                    h2_status(&format!("HTTP/2 handshake with {} failed", self.address), e)
                })?;
        }
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender.clone());
        Ok(sender)
    }
}

type ConnectionTask = BoxFuture<'static, Result<(), h2::Error>>;

/// The HTTP/2 handshake over any transport: the request handle, a PING handle, and the
/// connection future to drive.
async fn h2_handshake<IO>(
    builder: h2::client::Builder,
    io: IO,
) -> Result<(SendRequest<Bytes>, Option<h2::PingPong>, ConnectionTask), h2::Error>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // As on the server: what h2 writes during one poll of the connection goes out together
    // after the poll (the preface and SETTINGS with the first poll).
    let (io, flusher) = coalesce(io);
    let (sender, mut connection) = builder.handshake::<_, Bytes>(io).await?;
    let ping_pong = connection.ping_pong();
    let driven = poll_fn(move |cx| {
        let result = Pin::new(&mut connection).poll(cx);
        // A write error is kept and reported by h2's next write.
        let _ = flusher.poll_flush(cx);
        result
    });
    Ok((sender, ping_pong, Box::pin(driven)))
}

/// Per-reference settings read from the reference URL.
#[derive(Debug)]
struct CallSettings {
    application: Option<HeaderValue>,
    send_encoding: Option<Encoding>,
    max_receive: usize,
    max_send: usize,
    user_agent: HeaderValue,
}

/// Invokes a remote service over Triple.
pub(crate) struct TripleInvoker {
    url: Url,
    connection: Arc<Connection>,
    settings: Arc<CallSettings>,
}

impl fmt::Debug for TripleInvoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TripleInvoker")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TripleInvoker {
    pub(crate) fn new(
        url: Url,
        connection: Arc<Connection>,
        config: &TripleConfig,
    ) -> Result<TripleInvoker, Error> {
        let application = match url.param("application") {
            Some(app) if !app.is_empty() => Some(HeaderValue::from_str(app).map_err(|e| {
                Error::config(format!("invalid application name {app:?}")).with_source(e)
            })?),
            _ => None,
        };
        let send_encoding = match url.param("compression") {
            None | Some("") | Some("identity") => None,
            Some("gzip") => Some(Encoding::Gzip),
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("unsupported compression {other:?} (supported: gzip)"),
                ));
            }
        };
        let max_receive = url
            .param_u64("max.message.size")
            .map_or(config.max_receive_message_size, |v| v as usize);
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|e| Error::config("invalid user agent").with_source(e))?;
        Ok(TripleInvoker {
            url,
            connection,
            settings: Arc::new(CallSettings {
                application,
                send_encoding,
                max_receive,
                max_send: config.max_send_message_size,
                user_agent,
            }),
        })
    }

    pub(crate) async fn warm_up(&self) -> Result<(), Error> {
        self.connection.ready().await.map(drop).map_err(|status| {
            Error::new(
                ErrorKind::Io,
                format!("cannot connect to {}", self.connection.address),
            )
            .with_source(status)
        })
    }
}

impl Invoker for TripleInvoker {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        let connection = Arc::clone(&self.connection);
        let settings = Arc::clone(&self.settings);
        Box::pin(async move {
            let deadline = invocation.deadline();
            let call = call(connection, settings, invocation);
            let mut reply = match deadline {
                None => call.await?,
                Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                    .await
                    .unwrap_or_else(|_| Err(deadline_status()))?,
            };
            if deadline.is_some() && matches!(reply.body, Body::Stream(_)) {
                let body = std::mem::replace(
                    &mut reply.body,
                    Body::Unary(Payload::protobuf(Bytes::new())),
                );
                if let Body::Stream(stream) = body {
                    reply.body = Body::Stream(with_deadline(stream, deadline));
                }
            }
            Ok(reply)
        })
    }

    fn is_available(&self) -> bool {
        self.connection.is_connected()
    }
}

fn deadline_status() -> Status {
    Status::deadline_exceeded("deadline exceeded before the call completed")
}

fn build_request(
    connection: &Connection,
    settings: &CallSettings,
    invocation: &Invocation,
    encoding: Option<Encoding>,
) -> Result<Request<()>, Status> {
    let method = invocation.method();
    let target = invocation.target();
    let path = if target.interface() == service_of(method.path) {
        PathAndQuery::from_static(method.path)
    } else {
        PathAndQuery::try_from(format!("/{}/{}", target.interface(), method.name))
            .map_err(|e| Status::internal(format!("invalid request path: {e}")))?
    };
    let uri = Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(connection.authority.clone())
        .path_and_query(path)
        .build()
        .map_err(|e| Status::internal(format!("invalid request URI: {e}")))?;
    let mut request = Request::new(());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let h = request.headers_mut();
    h.insert(CONTENT_TYPE, headers::CONTENT_TYPE_GRPC);
    h.insert(TE, HeaderValue::from_static("trailers"));
    h.insert(USER_AGENT, settings.user_agent.clone());
    h.insert(
        const { HeaderName::from_static(headers::GRPC_ACCEPT_ENCODING) },
        ACCEPT_ENCODING,
    );
    if let Some(encoding) = encoding {
        h.insert(
            const { HeaderName::from_static(headers::GRPC_ENCODING) },
            encoding.header_value(),
        );
    }
    if let Some(deadline) = invocation.deadline() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(deadline_status());
        }
        h.insert(
            const { HeaderName::from_static(headers::GRPC_TIMEOUT) },
            headers::format_timeout(remaining),
        );
    }
    if !target.version().is_empty() {
        h.insert(
            const { HeaderName::from_static(headers::TRI_SERVICE_VERSION) },
            header_value(target.version(), "version")?,
        );
    }
    if !target.group().is_empty() {
        h.insert(
            const { HeaderName::from_static(headers::TRI_SERVICE_GROUP) },
            header_value(target.group(), "group")?,
        );
    }
    if let Some(app) = &settings.application {
        h.insert(
            const { HeaderName::from_static(headers::TRI_CONSUMER_APPNAME) },
            app.clone(),
        );
    }
    headers::append_user_metadata(h, invocation.metadata());
    Ok(request)
}

fn header_value(value: &str, what: &str) -> Result<HeaderValue, Status> {
    HeaderValue::from_str(value).map_err(|_| {
        Status::invalid_argument(format!("{what} {value:?} is not a valid header value"))
    })
}

fn service_of(path: &str) -> &str {
    path.trim_start_matches('/')
        .rsplit_once('/')
        .map_or("", |(service, _)| service)
}

fn h2_status(context: &str, err: h2::Error) -> Status {
    // REFUSED_STREAM (and a GOAWAY that covers the stream) means the server did not process
    // the request.
    let refused = err.reason() == Some(h2::Reason::REFUSED_STREAM)
        || (err.is_go_away() && err.is_remote() && err.reason() == Some(h2::Reason::NO_ERROR));
    let status = h2_status_code(context, err);
    if refused {
        status.with_request_not_sent()
    } else {
        status
    }
}

fn h2_status_code(context: &str, err: h2::Error) -> Status {
    let code = if err.is_io() || err.is_go_away() || err.is_remote() {
        if err.reason() == Some(h2::Reason::CANCEL) {
            Code::Cancelled
        } else {
            Code::Unavailable
        }
    } else {
        Code::Internal
    };
    Status::new(code, format!("{context}: {err}"))
}

async fn call(
    connection: Arc<Connection>,
    settings: Arc<CallSettings>,
    invocation: Invocation,
) -> Result<Reply, Status> {
    // A unary payload that asks for compression gets it even if the reference does not
    // compress by default.
    let encoding = match invocation.body() {
        Body::Unary(p) if p.compression() == Some(true) => Some(Encoding::Gzip),
        _ => settings.send_encoding,
    };
    let request = build_request(&connection, &settings, &invocation, encoding)?;
    let kind = invocation.method().kind;
    let (_, body) = invocation.into_parts();
    // Nothing has been sent if we cannot get a usable connection.
    let mut sender = connection
        .ready()
        .await
        .map_err(Status::with_request_not_sent)?;
    let (response, pump) = match body {
        Body::Unary(payload) => {
            let data = frame::encode(&payload, encoding, settings.max_send)?;
            let (response, mut send) = sender
                .send_request(request, false)
                .map_err(|e| h2_status("failed to send request", e).with_request_not_sent())?;
            send_unary_message(&mut send, data)?;
            (response, None)
        }
        Body::Stream(messages) => {
            let (response, send) = sender
                .send_request(request, false)
                .map_err(|e| h2_status("failed to send request", e).with_request_not_sent())?;
            let pump = tokio::spawn(pump_requests(messages, send, Arc::clone(&settings)));
            (response, Some(AbortOnDrop(pump)))
        }
    };
    if kind == CallKind::BidiStreaming {
        // Return at once: gRPC servers commonly send their headers only with the first reply,
        // which may wait for our first request — sent only after this call returns.
        let stream = PendingResponse {
            response: Some(response),
            inner: None,
            max_receive: settings.max_receive,
            pump,
        };
        return Ok(Reply {
            headers: Metadata::new(),
            body: Body::Stream(Box::pin(stream)),
            trailers: Metadata::new(),
            compress: None,
        });
    }
    let response = response
        .await
        .map_err(|e| h2_status("failed to receive response headers", e))?;
    let (headers, mut stream) = accept_response(
        response,
        settings.max_receive,
        pump,
        kind.server_streaming(),
    )?;
    if kind.server_streaming() {
        return Ok(Reply {
            headers,
            body: Body::Stream(Box::pin(stream)),
            trailers: Metadata::new(),
            compress: None,
        });
    }
    let mut message = None;
    let mut trailers = Metadata::new();
    while let Some(item) = stream.next().await {
        match item? {
            StreamItem::Message(m) if message.is_none() => message = Some(m),
            StreamItem::Message(_) => {
                return Err(Status::internal(
                    "server sent more than one message for a unary call",
                ));
            }
            StreamItem::Trailers(t) => trailers = t,
            StreamItem::Headers(_) => {}
        }
    }
    let message = message
        .ok_or_else(|| Status::internal("server closed the call without sending a message"))?;
    Ok(Reply {
        headers,
        body: Body::Unary(message),
        trailers,
        compress: None,
    })
}

/// Writes the message of a unary call. A server may answer before it reads the request (a
/// trailers-only error, say) and reset the stream, which makes the write fail; then the
/// server's answer, still to be read, is the call's outcome, so the failure is not an error.
/// Any other failure resets the stream (so the server stops waiting) and fails the call.
fn send_unary_message(send: &mut SendStream<Bytes>, data: Bytes) -> Result<(), Status> {
    let Err(err) = send.send_data(data, true) else {
        return Ok(());
    };
    let mut cx = Context::from_waker(std::task::Waker::noop());
    if send.poll_reset(&mut cx).is_ready() {
        return Ok(());
    }
    send.send_reset(h2::Reason::CANCEL);
    Err(h2_status("failed to send request message", err))
}

/// Checks response headers: a trailers-only or non-gRPC answer becomes the call's status
/// (except a trailers-only OK on a `streaming` reply, which is a stream of no messages);
/// otherwise returns the headers and a stream over the body.
fn accept_response(
    response: http::Response<RecvStream>,
    max_receive: usize,
    pump: Option<AbortOnDrop>,
    streaming: bool,
) -> Result<(Metadata, ResponseStream), Status> {
    let (parts, recv) = response.into_parts();
    if recv.is_end_stream() || parts.status != http::StatusCode::OK {
        // gRPC servers (grpcio among them) may answer a stream that has no messages with a
        // trailers-only OK.
        if streaming
            && parts.status == http::StatusCode::OK
            && headers::status_from_headers(&parts.headers).is_some_and(|s| s.code() == Code::Ok)
        {
            let trailers = Metadata::from_headers(parts.headers);
            return Ok((
                Metadata::new(),
                ResponseStream::trailers_only(trailers, pump),
            ));
        }
        return Err(status_of_headers_only(&parts));
    }
    let is_grpc = parts
        .headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if !is_grpc {
        return Err(Status::unknown(format!(
            "response has content-type {:?}, not application/grpc",
            parts.headers.get(CONTENT_TYPE)
        )));
    }
    let encoding =
        Encoding::from_header(parts.headers.get(headers::GRPC_ENCODING)).map_err(|name| {
            Status::internal(format!("server used unsupported grpc-encoding {name:?}"))
        })?;
    let stream = ResponseStream {
        recv: Some(recv),
        decoder: frame::Decoder::new(max_receive, encoding),
        trailers_pending: false,
        trailers_only: None,
        _pump: pump,
    };
    Ok((Metadata::from_headers(parts.headers), stream))
}

/// A bidi reply whose headers have not arrived yet: yields them as
/// [`StreamItem::Headers`], then the messages.
struct PendingResponse {
    response: Option<h2::client::ResponseFuture>,
    inner: Option<ResponseStream>,
    max_receive: usize,
    pump: Option<AbortOnDrop>,
}

impl Stream for PendingResponse {
    type Item = Result<StreamItem, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(response) = this.response.as_mut() {
            let result = match Pin::new(response).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            this.response = None;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    this.pump = None;
                    return Poll::Ready(Some(Err(h2_status(
                        "failed to receive response headers",
                        e,
                    ))));
                }
            };
            return Poll::Ready(Some(
                match accept_response(response, this.max_receive, this.pump.take(), true) {
                    Ok((headers, stream)) => {
                        this.inner = Some(stream);
                        Ok(StreamItem::Headers(headers))
                    }
                    Err(status) => Err(status),
                },
            ));
        }
        match this.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

fn status_of_headers_only(parts: &http::response::Parts) -> Status {
    if let Some(status) = headers::status_from_headers(&parts.headers) {
        if status.code() == Code::Ok {
            return Status::internal("server ended the call with OK but sent no message")
                .with_metadata(status.metadata().clone());
        }
        return status;
    }
    let code = if parts.status == http::StatusCode::OK {
        Code::Unknown
    } else {
        Code::from_http_status(parts.status.as_u16())
    };
    Status::new(
        code,
        format!("server answered HTTP {} without grpc-status", parts.status),
    )
    .with_metadata(Metadata::from_headers(parts.headers.clone()))
}

/// Aborts a spawned task when dropped (the request pump ends with its call).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Streams request messages to the server with flow control, then ends the stream.
async fn pump_requests(
    mut messages: PayloadStream,
    mut send: SendStream<Bytes>,
    settings: Arc<CallSettings>,
) {
    while let Some(item) = messages.next().await {
        let payload = match item {
            Ok(StreamItem::Message(p)) => p,
            Ok(StreamItem::Trailers(_)) => break,
            Ok(StreamItem::Headers(_)) => continue,
            Err(status) => {
                tracing::debug!(%status, "request stream failed; cancelling the call");
                send.send_reset(h2::Reason::CANCEL);
                return;
            }
        };
        let data = match frame::encode(&payload, settings.send_encoding, settings.max_send) {
            Ok(d) => d,
            Err(status) => {
                tracing::warn!(%status, "cannot encode request message; cancelling the call");
                send.send_reset(h2::Reason::CANCEL);
                return;
            }
        };
        send.reserve_capacity(data.len());
        while send.capacity() == 0 {
            match poll_fn(|cx| send.poll_capacity(cx)).await {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
        if send.send_data(data, false).is_err() {
            return;
        }
    }
    let _ = send.send_data(Bytes::new(), true);
}

/// Response messages, then the trailers (or the error status they carry).
struct ResponseStream {
    recv: Option<RecvStream>,
    decoder: frame::Decoder,
    trailers_pending: bool,
    /// The trailers of a trailers-only answer, yielded before the stream ends.
    trailers_only: Option<Metadata>,
    _pump: Option<AbortOnDrop>,
}

impl ResponseStream {
    /// A stream with no messages, ending with `trailers`.
    fn trailers_only(trailers: Metadata, pump: Option<AbortOnDrop>) -> ResponseStream {
        ResponseStream {
            recv: None,
            decoder: frame::Decoder::new(0, None),
            trailers_pending: false,
            trailers_only: Some(trailers),
            _pump: pump,
        }
    }
}

impl Stream for ResponseStream {
    type Item = Result<StreamItem, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(trailers) = this.trailers_only.take() {
            return Poll::Ready(Some(Ok(StreamItem::Trailers(trailers))));
        }
        loop {
            let Some(recv) = this.recv.as_mut() else {
                return Poll::Ready(None);
            };
            if this.trailers_pending {
                let result = match recv.poll_trailers(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => r,
                };
                this.recv = None;
                return Poll::Ready(Some(match result {
                    Ok(Some(trailers)) => match headers::status_from_headers(&trailers) {
                        Some(status) if status.code() == Code::Ok => {
                            Ok(StreamItem::Trailers(Metadata::from_headers(trailers)))
                        }
                        Some(status) => Err(status),
                        None => Err(Status::internal("trailers did not include grpc-status")
                            .with_metadata(Metadata::from_headers(trailers))),
                    },
                    Ok(None) => Err(Status::internal("stream ended without trailers")),
                    Err(e) => Err(h2_status("failed to receive trailers", e)),
                }));
            }
            match this.decoder.next_payload() {
                Ok(Some(m)) => {
                    return Poll::Ready(Some(Ok(StreamItem::Message(m))));
                }
                Ok(None) => {}
                Err(status) => {
                    this.recv = None;
                    return Poll::Ready(Some(Err(status)));
                }
            }
            match recv.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let _ = recv.flow_control().release_capacity(chunk.len());
                    this.decoder.push(chunk);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.recv = None;
                    return Poll::Ready(Some(Err(h2_status("failed to receive response", e))));
                }
                Poll::Ready(None) => {
                    if this.decoder.has_partial() {
                        this.recv = None;
                        return Poll::Ready(Some(Err(Status::internal(
                            "response ended inside a message",
                        ))));
                    }
                    this.trailers_pending = true;
                }
            }
        }
    }
}

/// Wraps a streaming reply so it fails with `DEADLINE_EXCEEDED` at the deadline.
pub(crate) fn with_deadline(stream: PayloadStream, deadline: Option<Instant>) -> PayloadStream {
    match deadline {
        None => stream,
        Some(deadline) => {
            let sleep = Box::pin(tokio::time::sleep_until(deadline.into()));
            Box::pin(DeadlineStream {
                inner: Some(stream),
                sleep,
            })
        }
    }
}

struct DeadlineStream {
    inner: Option<PayloadStream>,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for DeadlineStream {
    type Item = Result<StreamItem, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = inner.as_mut().poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            // Dropping the inner stream resets the HTTP/2 stream (RST_STREAM CANCEL).
            self.inner = None;
            return Poll::Ready(Some(Err(deadline_status())));
        }
        Poll::Pending
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
