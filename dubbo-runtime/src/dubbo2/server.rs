//! The Dubbo2 server: one task per connection reads frames, runs each request's first poll
//! right there (most calls finish in it), and writes every reply produced by one read in a
//! single write. A request that has to wait moves to its own task and sends its reply back
//! to the connection. Heartbeats are answered, idle connections closed, and on shutdown the
//! read-only event is sent, then in-flight calls drain.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, mpsc};

use super::attachments;
use super::codec::{
    self, Arguments, Attachments, DUBBO_VERSION, Event, Outcome, RequestBody, ResponseAttachments,
    ResponseError, Serialization,
};
use super::codes;
use super::config::Dubbo2Config;
use super::frame::{FrameError, FrameReader, Header, OutFrame, ReadEvent};
use super::router::{Route, Router, normalize_version};
use super::{STATUS_CODE_KEY, next_id};
use crate::descriptor::{CallKind, MethodDescriptor};
use crate::hessian2::{self, Value};
use crate::invocation::{Body, Invocation, Reply, ServiceTarget};
use crate::invoker::BoxFuture;
use crate::message::Payload;
use crate::status::Status;
use crate::transport::{ConnectionHandler, ShutdownSignal};

/// After the read-only event, how long a connection with nothing in flight stays open for
/// requests the consumer sent before it saw the event.
const DRAIN_LINGER: Duration = Duration::from_millis(100);

/// How long a closing connection tries to send the replies it still holds.
const FINAL_FLUSH: Duration = Duration::from_secs(1);

/// An empty reply buffer larger than this is given back to the allocator.
const KEEP_BUFFER: usize = 256 * 1024;

/// Replies to at least this many requests of one read go out before the rest run.
const EARLY_FLUSH_MIN: usize = 4;

/// Reads that bring more requests than this (a client that keeps many in flight, busy
/// anyway) answer them in one write: an early write would only add a system call.
const EARLY_FLUSH_MAX_BATCH: usize = 32;

/// The parameter descriptor of generic calls.
const GENERIC_PARAMETERS: &str = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;";

/// Shared by every connection of one listener.
#[derive(Debug)]
pub(crate) struct ServerShared {
    pub(crate) router: Arc<Router>,
    pub(crate) config: Arc<Dubbo2Config>,
    /// The bound port (for Java-style service keys in error messages).
    pub(crate) port: OnceLock<u16>,
}

/// The connection handler of one Dubbo2 listener.
#[derive(Debug, Clone)]
pub(crate) struct Dubbo2Acceptor(pub(crate) Arc<ServerShared>);

impl ConnectionHandler for Dubbo2Acceptor {
    fn handle(
        &self,
        stream: TcpStream,
        remote: SocketAddr,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<'static, ()> {
        Box::pin(serve_connection(
            stream,
            remote,
            Arc::clone(&self.0),
            shutdown,
        ))
    }
}

/// One accepted connection, as request handlers see it.
struct Conn {
    shared: Arc<ServerShared>,
    remote: SocketAddr,
    local: Option<SocketAddr>,
    /// Replies of requests that finished on their own task.
    tx: mpsc::Sender<OutFrame>,
    in_flight: InFlight,
}

/// Requests of one connection running on their own task (a slow handler must not stall the
/// connection; like Java, such a task runs to completion even if its connection closes,
/// and its reply is then dropped).
struct InFlight {
    count: AtomicUsize,
    /// At this many, the connection is not read until some finish.
    limit: usize,
    /// Notified when the count drops to zero or below the limit.
    changed: Notify,
}

impl InFlight {
    fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    fn is_full(&self) -> bool {
        self.count.load(Ordering::Acquire) >= self.limit
    }
}

/// Counts one request task for as long as it lives.
struct InFlightGuard(Arc<Conn>);

impl InFlightGuard {
    fn new(conn: Arc<Conn>) -> InFlightGuard {
        conn.in_flight.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(conn)
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let in_flight = &self.0.in_flight;
        let before = in_flight.count.fetch_sub(1, Ordering::AcqRel);
        if before == 1 || before == in_flight.limit {
            in_flight.changed.notify_one();
        }
    }
}

/// Replies waiting for the socket, and its write half. Only the connection task writes.
struct Outbox {
    write: OwnedWriteHalf,
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    written: usize,
}

impl Outbox {
    fn push(&mut self, frame: &OutFrame) {
        self.buf.extend_from_slice(&frame.header);
        self.buf.extend_from_slice(&frame.body);
    }

    fn unsent(&self) -> usize {
        self.buf.len() - self.written
    }

    /// Writes as much as the socket takes right now. An error means the connection is
    /// broken.
    fn try_flush(&mut self) -> io::Result<()> {
        while self.written < self.buf.len() {
            match self.write.try_write(&self.buf[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        self.written = 0;
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends what is left (bounded by [`FINAL_FLUSH`]) and closes the write side.
    async fn close(mut self) {
        let drain = async {
            loop {
                self.try_flush()?;
                if self.unsent() == 0 {
                    return io::Result::Ok(());
                }
                self.write.writable().await?;
            }
        };
        if let Ok(Ok(())) = tokio::time::timeout(FINAL_FLUSH, drain).await {
            let _ = self.write.shutdown().await;
        }
    }
}

/// What to do after a read.
enum Next {
    Continue,
    Close,
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    shared: Arc<ServerShared>,
    shutdown: ShutdownSignal,
) {
    let config = Arc::clone(&shared.config);
    let local = stream.local_addr().ok();
    let (mut read, write) = stream.into_split();
    let (tx, mut rx) = mpsc::channel(config.write_queue.max(1));
    let mut outbox = Outbox {
        write,
        buf: Vec::new(),
        written: 0,
    };
    let conn = Arc::new(Conn {
        shared,
        remote,
        local,
        tx,
        in_flight: InFlight {
            count: AtomicUsize::new(0),
            limit: config.max_concurrent_requests.max(1),
            changed: Notify::new(),
        },
    });
    let max_unsent = config.max_unsent_bytes.max(1);
    let mut reader = FrameReader::new(config.max_payload);
    let mut last_read = Instant::now();
    let idle = config.idle_timeout.max(Duration::from_millis(10));
    let mut idle_check = tokio::time::interval(idle / 4);
    let mut shutdown = pin!(shutdown.watch());
    let mut draining: Option<Instant> = None;
    // Requests handled from the previous read (see the early flush below).
    let mut last_batch = 0usize;
    loop {
        let linger_until = draining.map(|since| since.max(last_read) + DRAIN_LINGER);
        let unsent = outbox.unsent();
        tokio::select! {
            () = &mut shutdown, if draining.is_none() => {
                tracing::debug!(%remote, "shutting down: sending the read-only event");
                outbox.push(&codec::event_frame(
                    Serialization::Hessian2, true, false, next_id(), Some("R"),
                ));
                draining = Some(Instant::now());
            }
            _ = idle_check.tick() => {
                // Java closes channels with nothing read for three heartbeats; a connection
                // whose calls are still running is not idle.
                if last_read.elapsed() >= idle && conn.in_flight.is_empty() {
                    tracing::debug!(%remote, ?idle, "closing idle Dubbo2 connection");
                    break;
                }
            }
            () = conn.in_flight.changed.notified(),
                if conn.in_flight.is_full() || (draining.is_some() && !conn.in_flight.is_empty()) => {}
            () = sleep_until(linger_until), if linger_until.is_some() && conn.in_flight.is_empty() => {
                break;
            }
            Some(frame) = rx.recv() => {
                outbox.push(&frame);
                while let Ok(frame) = rx.try_recv() {
                    outbox.push(&frame);
                }
            }
            ready = outbox.write.writable(), if unsent > 0 => {
                if ready.is_err() {
                    break;
                }
            }
            event = reader.read(&mut read), if !conn.in_flight.is_full() && unsent < max_unsent => {
                last_read = Instant::now();
                let mut next = on_read(&conn, &mut outbox, event);
                // Every request already buffered runs now (up to the in-flight limit), so
                // their replies share a write. The replies to the first half of what the
                // previous read brought go out early, so the client (often parked, waiting
                // for them) can send more while the rest run: the connection stays busy
                // instead of both sides sleeping and waking once per batch.
                let early = if last_batch <= EARLY_FLUSH_MAX_BATCH {
                    (last_batch / 2).max(EARLY_FLUSH_MIN)
                } else {
                    usize::MAX
                };
                let mut handled = 1;
                while matches!(next, Next::Continue) && !conn.in_flight.is_full() {
                    if handled == early
                        && let Err(e) = outbox.try_flush()
                    {
                        tracing::debug!(%remote, error = %e, "Dubbo2 write failed");
                        return;
                    }
                    match reader.next_frame() {
                        Ok(None) => break,
                        event => next = on_read(&conn, &mut outbox, event),
                    }
                    handled += 1;
                }
                last_batch = handled;
                if let Next::Close = next {
                    break;
                }
            }
        }
        if let Err(e) = outbox.try_flush() {
            tracing::debug!(%remote, error = %e, "Dubbo2 write failed");
            return;
        }
    }
    while let Ok(frame) = rx.try_recv() {
        outbox.push(&frame);
    }
    drop(conn);
    outbox.close().await;
}

/// Handles one read result; replies go to `outbox`.
fn on_read(
    conn: &Arc<Conn>,
    outbox: &mut Outbox,
    event: Result<Option<ReadEvent>, FrameError>,
) -> Next {
    let remote = conn.remote;
    match event {
        Ok(Some(ReadEvent::Frame(header, body))) => {
            on_frame(conn, outbox, header, body);
            Next::Continue
        }
        Ok(Some(ReadEvent::Oversize(header))) => {
            let max = conn.shared.config.max_payload;
            tracing::warn!(%remote, ?header, max, "frame over the payload limit; closing the connection");
            if header.is_request() && header.is_two_way() {
                let message = format!(
                    "Data length too large: {}, max payload: {max}, channel: {}",
                    header.len,
                    conn.channel()
                );
                outbox.push(&codec::encode_error(
                    ser_or_default(&header),
                    header.id,
                    codes::BAD_REQUEST,
                    &message,
                ));
            }
            Next::Close
        }
        Ok(None) => Next::Close,
        Err(FrameError::Io(e)) => {
            tracing::debug!(%remote, error = %e, "Dubbo2 connection read failed");
            Next::Close
        }
        Err(e) => {
            tracing::warn!(%remote, error = %e, "bad Dubbo2 frame; closing the connection");
            Next::Close
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

fn ser_or_default(header: &Header) -> Serialization {
    Serialization::from_id(header.serialization()).unwrap_or_default()
}

impl Conn {
    fn channel(&self) -> String {
        let local = self.local.map_or_else(|| "?".to_owned(), |l| l.to_string());
        format!("consumer: /{} --> provider: /{local}", self.remote)
    }
}

fn on_frame(conn: &Arc<Conn>, outbox: &mut Outbox, header: Header, body: Bytes) {
    if !header.is_request() {
        // Answers to events we never send, or stray responses: nothing to do.
        tracing::trace!(remote = %conn.remote, ?header, "ignoring a response frame");
        return;
    }
    if header.is_event() {
        let ser = ser_or_default(&header);
        match codec::decode_event(ser, &body) {
            Event::Heartbeat if header.is_two_way() => {
                outbox.push(&codec::event_frame(ser, false, false, header.id, None));
            }
            event => tracing::trace!(remote = %conn.remote, ?event, "event"),
        }
        return;
    }
    let two_way = header.is_two_way();
    // Decoding, routing and the handler's first poll run right here, with a no-op waker:
    // most calls finish in it. A call that has to wait moves to its own task, which polls
    // it again at once and registers a real waker.
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match start(conn, &header, &body) {
            Started::Done(frame) => Ok(frame),
            Started::Running(mut running) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                match running.call.as_mut().poll(&mut cx) {
                    Poll::Ready(result) => Ok(running.encode(conn, header.id, result)),
                    Poll::Pending => Err(running),
                }
            }
        }
    }));
    match first {
        Ok(Ok(frame)) => {
            if two_way {
                outbox.push(&frame);
            }
        }
        Ok(Err(running)) => {
            let guard = InFlightGuard::new(Arc::clone(conn));
            tokio::spawn(async move {
                let conn = &guard.0;
                let finished = std::panic::AssertUnwindSafe(running.finish(conn, header.id));
                let frame = match finished.catch_unwind().await {
                    Ok(frame) => frame,
                    Err(_) => panicked(conn, &header),
                };
                if two_way {
                    // A closed channel means the connection is gone: nobody is left to answer.
                    let _ = conn.tx.send(frame).await;
                }
            });
        }
        Err(_) => {
            let frame = panicked(conn, &header);
            if two_way {
                outbox.push(&frame);
            }
        }
    }
}

/// The reply to a request whose handler panicked (the connection and other calls go on).
fn panicked(conn: &Conn, header: &Header) -> OutFrame {
    tracing::error!(remote = %conn.remote, id = header.id, "a Dubbo2 call handler panicked");
    codec::encode_error(
        ser_or_default(header),
        header.id,
        codes::SERVER_ERROR,
        "the service panicked while handling the request",
    )
}

/// How a request ended, before encoding. Short-lived (returned once per request), so the
/// large `Reply` is not boxed: an allocation per call would cost more than the move.
#[allow(clippy::large_enum_variant)]
enum Answer {
    /// The service replied.
    Reply(Reply),
    /// The service failed: sent as an exception.
    Failed(Status),
    /// The request failed before or around the service: a status byte and its text.
    Error(u8, String),
}

/// A request that has been decoded and routed.
enum Started {
    /// Answered without running a handler (bad requests, unknown services, `$echo`).
    Done(OutFrame),
    /// A handler is running.
    Running(Running),
}

/// A handler's call in progress, and what encoding its reply needs.
struct Running {
    call: BoxFuture<'static, Result<Reply, Status>>,
    deadline: Option<Instant>,
    /// The caller's `timeout` attachment, for the timeout message.
    timeout: Duration,
    target: Arc<ServiceTarget>,
    method: &'static MethodDescriptor,
    ser: Serialization,
    with_attachments: bool,
}

impl Running {
    /// Runs the call to its end or its deadline (the handler future is then dropped).
    async fn finish(mut self, conn: &Conn, id: i64) -> OutFrame {
        let result = match self.deadline {
            None => (&mut self.call).await,
            Some(deadline) => {
                match tokio::time::timeout_at(deadline.into(), &mut self.call).await {
                    Ok(result) => result,
                    Err(_) => {
                        let message = format!(
                            "Waiting server-side response timeout: {}.{} did not finish within \
                             the caller's timeout of {} ms, channel: {}",
                            self.target.interface(),
                            self.method.name,
                            self.timeout.as_millis(),
                            conn.channel()
                        );
                        return codec::encode_error(self.ser, id, codes::SERVER_TIMEOUT, &message);
                    }
                }
            }
        };
        self.encode(conn, id, result)
    }

    fn encode(&self, conn: &Conn, id: i64, result: Result<Reply, Status>) -> OutFrame {
        let answer = match result {
            Ok(reply) => Answer::Reply(reply),
            Err(status) => Answer::Failed(status),
        };
        encode_answer(conn, self.ser, id, answer, self.with_attachments)
    }
}

/// Decodes and routes a request and starts its handler.
fn start(conn: &Conn, header: &Header, body: &[u8]) -> Started {
    let id = header.id;
    let Some(ser) = Serialization::from_id(header.serialization()) else {
        let message = format!(
            "Unexpected serialization id:{} received from network, please check if the peer \
             send the right id.",
            header.serialization()
        );
        let frame = codec::encode_error(Serialization::Hessian2, id, codes::BAD_REQUEST, &message);
        return Started::Done(frame);
    };
    let request = match codec::decode_request(ser, body) {
        Ok(request) => request,
        Err(e) => {
            tracing::debug!(remote = %conn.remote, error = %e, "undecodable Dubbo2 request");
            let message = format!("Fail to decode request due to: {e}");
            return Started::Done(codec::encode_error(ser, id, codes::BAD_REQUEST, &message));
        }
    };
    let with_attachments = codec::supports_response_attachments(&request.dubbo_version);
    match dispatch(conn, request) {
        Dispatched::Answer(answer) => {
            Started::Done(encode_answer(conn, ser, id, answer, with_attachments))
        }
        Dispatched::Call(call) => Started::Running(Running {
            call: call.call,
            deadline: call.deadline,
            timeout: call.timeout,
            target: call.target,
            method: call.method,
            ser,
            with_attachments,
        }),
    }
}

fn not_found_service(conn: &Conn, request: &RequestBody<'_>, group: &str) -> String {
    let port = conn.shared.port.get().copied().unwrap_or(0);
    let key = |g: &str, path: &str, v: &str| {
        let mut k = crate::url::service_key(path, g, normalize_version(v));
        k.push_str(&format!(":{port}"));
        k
    };
    let exported: Vec<String> = conn
        .shared
        .router
        .keys()
        .into_iter()
        .map(|k| format!("{k}:{port}"))
        .collect();
    format!(
        "Not found exported service: {} in [{}], may be version or group mismatch , channel: {}, \
         message:RpcInvocation [methodName={}, parameterTypesDesc={}]",
        key(group, &request.path, &request.version),
        exported.join(", "),
        conn.channel(),
        request.method,
        request.parameter_types,
    )
}

/// What routing a request gave.
enum Dispatched {
    /// An answer without a handler.
    Answer(Answer),
    /// The handler's call, started.
    Call(Call),
}

/// A started handler call.
struct Call {
    call: BoxFuture<'static, Result<Reply, Status>>,
    deadline: Option<Instant>,
    timeout: Duration,
    target: Arc<ServiceTarget>,
    method: &'static MethodDescriptor,
}

impl Dispatched {
    fn error(status: u8, message: String) -> Dispatched {
        Dispatched::Answer(Answer::Error(status, message))
    }
}

fn dispatch(conn: &Conn, request: RequestBody<'_>) -> Dispatched {
    let group = request.attachment("group").unwrap_or("");
    let Some(route) = conn
        .shared
        .router
        .resolve(&request.path, group, &request.version)
    else {
        let message = not_found_service(conn, &request, group);
        tracing::debug!(remote = %conn.remote, %message, "unknown service");
        return Dispatched::error(codes::SERVICE_ERROR, message);
    };
    let RequestBody {
        path,
        method: method_name,
        parameter_types,
        args,
        attachments,
        ..
    } = request;
    let mut name = &*method_name;
    let descriptor = route.descriptor;
    let mut args = match args {
        Arguments::Values(values) => values,
        Arguments::Encoded(bytes) => {
            // The typed request straight from its bytes; anything that decoder cannot take
            // goes to the service as values (which is where a type mismatch is reported).
            if let Some(method) = descriptor.method(name)
                && method.kind == CallKind::Unary
                && let Some(decode) = method.hessian_request
                && let Ok(payload) = decode(bytes)
            {
                return Dispatched::Call(invoke(conn, &route, method, payload, &attachments));
            }
            match Arguments::Encoded(bytes).into_values() {
                Ok(values) => values,
                Err(e) => {
                    return Dispatched::error(
                        codes::BAD_REQUEST,
                        format!("Fail to decode request due to: {e}"),
                    );
                }
            }
        }
    };
    if name == "$echo" && args.len() == 1 && descriptor.method(name).is_none() {
        let value = args.pop().unwrap_or_default();
        return Dispatched::Answer(Answer::Reply(Reply::unary(Payload::hessian(value))));
    }
    let generic_name;
    if (name == "$invoke" || name == "$invokeAsync")
        && parameter_types == GENERIC_PARAMETERS
        && descriptor.method(name).is_none()
    {
        match unwrap_generic(std::mem::take(&mut args)) {
            Ok((n, a)) => {
                generic_name = n;
                name = generic_name.as_str();
                args = a;
            }
            Err(message) => {
                return Dispatched::error(
                    codes::BAD_REQUEST,
                    format!("Fail to decode request due to: {message}"),
                );
            }
        }
    }
    let Some(method) = descriptor.method(name) else {
        return Dispatched::error(
            codes::BAD_REQUEST,
            format!(
                "Fail to decode request due to: java.lang.IllegalArgumentException: Service not \
                 found:{path}, {name}"
            ),
        );
    };
    if method.kind != CallKind::Unary {
        return Dispatched::error(
            codes::from_code(crate::Code::Unimplemented),
            streaming_message(method, &path),
        );
    }
    let payload = Payload::arguments(args);
    Dispatched::Call(invoke(conn, &route, method, payload, &attachments))
}

fn streaming_message(method: &MethodDescriptor, service: &str) -> String {
    format!(
        "{service}/{} is a {} method; Dubbo2 has no streams: call it over Triple (tri://)",
        method.name,
        match method.kind {
            CallKind::ServerStreaming => "server-streaming",
            CallKind::ClientStreaming => "client-streaming",
            _ => "bidi-streaming",
        }
    )
}

/// `$invoke(String method, String[] types, Object[] args)` → the real method and arguments.
fn unwrap_generic(args: Vec<Value>) -> Result<(String, Vec<Value>), String> {
    let mut it = args.into_iter();
    let name = match it.next() {
        Some(Value::String(s)) => s,
        other => return Err(format!("generic call without a method name: {other:?}")),
    };
    let _types = it.next();
    let args = match it.next() {
        Some(Value::List { items, .. }) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => return Err(format!("generic call arguments must be a list: {other:?}")),
    };
    Ok((name, args))
}

/// Starts the handler of a routed unary call.
fn invoke(
    conn: &Conn,
    route: &Route,
    method: &'static MethodDescriptor,
    payload: Payload,
    attachments: &Attachments<'_>,
) -> Call {
    let received = Instant::now();
    let timeout = attachments::timeout(attachments);
    let metadata = attachments::request_metadata(attachments);
    let mut invocation = Invocation::new(
        Arc::clone(&route.target),
        method,
        metadata,
        Body::Unary(payload),
    );
    let deadline = timeout.map(|t| received + t);
    invocation.set_deadline(deadline);
    invocation.set_remote_addr(Some(conn.remote));
    Call {
        call: route.invoker.invoke(invocation),
        deadline,
        timeout: timeout.unwrap_or_default(),
        target: Arc::clone(&route.target),
        method,
    }
}

fn encode_answer(
    conn: &Conn,
    ser: Serialization,
    id: i64,
    answer: Answer,
    with_attachments: bool,
) -> OutFrame {
    let max = conn.shared.config.max_payload;
    let mut entries = Vec::new();
    let result = match answer {
        Answer::Error(status, message) => return codec::encode_error(ser, id, status, &message),
        Answer::Reply(reply) => {
            let Reply {
                headers,
                body,
                trailers,
                ..
            } = reply;
            let payload = match body {
                Body::Unary(p) => p,
                Body::Stream(_) => {
                    return codec::encode_error(
                        ser,
                        id,
                        codes::BAD_RESPONSE,
                        "the service answered a unary call with a stream",
                    );
                }
            };
            let outcome = Outcome::Value(&payload);
            if !with_attachments {
                codec::encode_response(ser, id, outcome, ResponseAttachments::None, max)
            } else if headers.is_empty() && trailers.is_empty() {
                let pairs = ResponseAttachments::Pairs(&[("dubbo", DUBBO_VERSION)]);
                codec::encode_response(ser, id, outcome, pairs, max)
            } else {
                attachments::push_metadata(&headers, &mut entries);
                attachments::push_metadata(&trailers, &mut entries);
                entries.push(("dubbo".into(), DUBBO_VERSION.into()));
                let map = Value::map(std::mem::take(&mut entries));
                codec::encode_response(ser, id, outcome, ResponseAttachments::Map(&map), max)
            }
        }
        Answer::Failed(status) => {
            tracing::debug!(remote = %conn.remote, %status, "call failed");
            let throwable = crate::java::throwable_of(&status);
            let exception = match hessian2::to_value(&throwable) {
                Ok(v) => v,
                Err(e) => {
                    return codec::encode_error(
                        ser,
                        id,
                        codes::BAD_RESPONSE,
                        &format!("cannot encode the exception {throwable}: {e}"),
                    );
                }
            };
            if with_attachments {
                attachments::push_metadata(status.metadata(), &mut entries);
                entries.push((STATUS_CODE_KEY.into(), status.code().as_str_number().into()));
                entries.push(("dubbo".into(), DUBBO_VERSION.into()));
            }
            let map = Value::map(std::mem::take(&mut entries));
            let attachments = if with_attachments {
                ResponseAttachments::Map(&map)
            } else {
                ResponseAttachments::None
            };
            codec::encode_response(ser, id, Outcome::Exception(&exception), attachments, max)
        }
    };
    match result {
        Ok(frame) => frame,
        Err(ResponseError::TooLarge(len)) => {
            let message = format!(
                "Data length too large: {len}, max payload: {max}, channel: {}",
                conn.channel()
            );
            tracing::warn!(remote = %conn.remote, %message, "reply over the payload limit");
            codec::encode_error(ser, id, codes::SERIALIZATION_ERROR, &message)
        }
        Err(ResponseError::Encode(status)) => {
            tracing::warn!(remote = %conn.remote, %status, "cannot encode the reply");
            codec::encode_error(ser, id, codes::BAD_RESPONSE, status.message())
        }
    }
}
