//! The Dubbo2 client: one connection per provider address (shared by every reference to it)
//! multiplexing calls by request id, heartbeats when idle, reconnect on demand, the
//! read-only event honoured, and the call logic (body, attachments, deadline, status and
//! exception mapping).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::attachments;
use super::codec::{self, Event, RequestHead, ResponseBody, Serialization};
use super::codes;
use super::config::Dubbo2Config;
use super::frame::{FrameError, FrameReader, Header, OutFrame, ReadEvent, spawn_writer};
use super::{STATUS_CODE_KEY, next_id};
use crate::descriptor::CallKind;
use crate::error::{Error, ErrorKind};
use crate::hessian2::Value;
use crate::invocation::{Body, Invocation, Reply};
use crate::invoker::{BoxFuture, Invoker};
use crate::java::JavaThrowable;
use crate::message::Payload;
use crate::metadata::Metadata;
use crate::status::{Code, Status};
use crate::url::Url;

/// A response frame for a waiting call.
#[derive(Debug)]
struct Incoming {
    header: Header,
    body: Bytes,
}

type Waiter = oneshot::Sender<Result<Incoming, Status>>;

/// Calls waiting for their response on one live connection.
#[derive(Default)]
struct Pending {
    /// Set once the connection is gone: later registrations fail with it.
    closed: Option<Status>,
    calls: HashMap<i64, Waiter>,
}

/// State shared by a live connection's tasks and its calls.
struct Shared {
    address: String,
    pending: Mutex<Pending>,
    read_only: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// Fails every waiting call and every later registration with `status`.
    fn close(&self, status: Status) {
        let calls = {
            let mut pending = self.lock();
            if pending.closed.is_none() {
                pending.closed = Some(status.clone());
            }
            std::mem::take(&mut pending.calls)
        };
        for (_, waiter) in calls {
            let _ = waiter.send(Err(status.clone()));
        }
    }

    fn complete(&self, id: i64, result: Result<Incoming, Status>) -> bool {
        let waiter = self.lock().calls.remove(&id);
        match waiter {
            Some(w) => {
                let _ = w.send(result);
                true
            }
            None => false,
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Removes a call's waiter when the call ends (or is dropped at its deadline).
struct PendingGuard {
    shared: Arc<Shared>,
    id: i64,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.shared.lock().calls.remove(&self.id);
    }
}

/// One live TCP connection. Dropped (closing the socket) once neither the [`Connection`] nor
/// any call holds it.
struct Channel {
    shared: Arc<Shared>,
    tx: mpsc::Sender<OutFrame>,
    _reader: AbortOnDrop,
    _writer: AbortOnDrop,
}

impl Channel {
    /// Whether new calls may use this connection.
    fn usable(&self) -> bool {
        !self.shared.read_only.load(Ordering::Acquire) && !self.shared.is_closed()
    }

    fn register(
        &self,
        id: i64,
    ) -> Result<(oneshot::Receiver<Result<Incoming, Status>>, PendingGuard), Status> {
        let (tx, rx) = oneshot::channel();
        let mut pending = self.shared.lock();
        if let Some(status) = &pending.closed {
            return Err(status.clone());
        }
        pending.calls.insert(id, tx);
        drop(pending);
        Ok((
            rx,
            PendingGuard {
                shared: Arc::clone(&self.shared),
                id,
            },
        ))
    }

    async fn send(&self, frame: OutFrame) -> Result<(), Status> {
        self.tx.send(frame).await.map_err(|_| {
            Status::unavailable(format!("connection to {} closed", self.shared.address))
        })
    }
}

/// One provider address: the live connection, if any, and how to make a new one.
pub(crate) struct Connection {
    address: String,
    config: Arc<Dubbo2Config>,
    current: Mutex<Option<Arc<Channel>>>,
    connecting: tokio::sync::Mutex<()>,
    closed: AtomicBool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(address: String, config: Arc<Dubbo2Config>) -> Arc<Connection> {
        Arc::new(Connection {
            address,
            config,
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
        })
    }

    fn cached(&self) -> Option<Arc<Channel>> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether a usable connection is established now.
    pub(crate) fn is_connected(&self) -> bool {
        self.cached().is_some_and(|c| c.usable())
    }

    /// Closes for good: calls in flight finish, later calls fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let channel = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(channel);
    }

    /// Forgets the channel whose tasks ended.
    fn forget(&self, shared: &Arc<Shared>) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(&c.shared, shared))
        {
            *current = None;
        }
    }

    /// A usable connection, connecting (once, for every waiting caller) when there is none,
    /// when it closed, or when the provider marked it read-only.
    async fn channel(self: &Arc<Self>) -> Result<Arc<Channel>, Status> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Status::unavailable(format!(
                "client for {} was shut down",
                self.address
            )));
        }
        if let Some(channel) = self.cached().filter(|c| c.usable()) {
            return Ok(channel);
        }
        let _guard = self.connecting.lock().await;
        if let Some(channel) = self.cached().filter(|c| c.usable()) {
            return Ok(channel);
        }
        let channel = self.connect().await?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&channel));
        Ok(channel)
    }

    async fn connect(self: &Arc<Self>) -> Result<Arc<Channel>, Status> {
        let timeout = self.config.connect_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || {
            Status::unavailable(format!(
                "connect to {} timed out after {timeout:?}",
                self.address
            ))
        };
        let tcp = tokio::time::timeout_at(deadline, TcpStream::connect(self.address.as_str()))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| Status::from_io_error(&format!("connect to {}", self.address), e))
            .map_err(|s| Status::unavailable(s.message().to_owned()))?;
        if self.config.tcp_nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let (read, write) = tcp.into_split();
        let (tx, rx) = mpsc::channel(self.config.write_queue.max(1));
        let shared = Arc::new(Shared {
            address: self.address.clone(),
            pending: Mutex::new(Pending::default()),
            read_only: AtomicBool::new(false),
        });
        let writer = spawn_writer(write, rx);
        let reader = tokio::spawn(read_loop(
            read,
            Arc::clone(&shared),
            tx.clone(),
            Arc::clone(&self.config),
            Arc::downgrade(self),
        ));
        let channel = Arc::new(Channel {
            shared,
            tx,
            _reader: AbortOnDrop(reader),
            _writer: AbortOnDrop(writer),
        });
        if self.config.probe_on_connect {
            // One heartbeat round trip proves the peer speaks Dubbo2, so a silent peer fails
            // within the connect timeout instead of hanging the first call.
            let id = next_id();
            let (rx, _guard) = channel.register(id)?;
            channel
                .send(codec::event_frame(
                    self.config.serialization,
                    true,
                    true,
                    id,
                    None,
                ))
                .await?;
            match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(Ok(_))) => {}
                Ok(Ok(Err(status))) => return Err(status),
                Ok(Err(_)) => {
                    return Err(Status::unavailable(format!(
                        "connection to {} closed during the handshake",
                        self.address
                    )));
                }
                Err(_) => {
                    return Err(Status::unavailable(format!(
                        "{} did not answer a heartbeat within {timeout:?}",
                        self.address
                    )));
                }
            }
        }
        tracing::debug!(address = %self.address, "Dubbo2 connection established");
        Ok(channel)
    }
}

/// Reads frames until the connection ends; answers and sends heartbeats; closes when idle.
async fn read_loop(
    mut read: OwnedReadHalf,
    shared: Arc<Shared>,
    tx: mpsc::Sender<OutFrame>,
    config: Arc<Dubbo2Config>,
    connection: Weak<Connection>,
) {
    let mut reader = FrameReader::new(config.max_payload);
    let heartbeat = config.heartbeat_interval.max(Duration::from_millis(10));
    let idle = config.idle_timeout.max(heartbeat);
    let mut tick = tokio::time::interval(heartbeat.min(idle) / 2);
    let mut last_read = Instant::now();
    let mut last_heartbeat = Instant::now();
    let address = shared.address.clone();
    let end: Status = loop {
        tokio::select! {
            _ = tick.tick() => {
                let quiet = last_read.elapsed();
                if quiet >= idle {
                    tracing::debug!(%address, ?quiet, "no data from the provider; closing");
                    break Status::unavailable(format!(
                        "connection to {address} closed: nothing received for {quiet:?}"
                    ));
                }
                if quiet >= heartbeat && last_heartbeat.elapsed() >= heartbeat {
                    last_heartbeat = Instant::now();
                    let frame = codec::event_frame(config.serialization, true, true, next_id(), None);
                    if tx.send(frame).await.is_err() {
                        break Status::unavailable(format!("connection to {address} closed"));
                    }
                }
            }
            event = reader.read(&mut read) => {
                last_read = Instant::now();
                match event {
                    Ok(Some(ReadEvent::Frame(header, body))) => {
                        on_frame(&shared, &tx, header, body).await;
                    }
                    Ok(Some(ReadEvent::Oversize(header))) => {
                        let status = Status::resource_exhausted(format!(
                            "response of {} bytes from {address} exceeds the payload limit of {} bytes",
                            header.len, config.max_payload
                        ));
                        if !header.is_request() {
                            shared.complete(header.id, Err(status.clone()));
                        }
                        tracing::warn!(%address, ?header, "frame over the payload limit; closing the connection");
                        break Status::unavailable(format!("connection to {address} closed: {}", status.message()));
                    }
                    Ok(None) => {
                        break Status::unavailable(format!("connection to {address} closed by the provider"));
                    }
                    Err(FrameError::Io(e)) => {
                        break Status::unavailable(format!("connection to {address} failed: {e}"));
                    }
                    Err(e) => {
                        tracing::warn!(%address, error = %e, "bad Dubbo2 frame; closing the connection");
                        break Status::unavailable(format!("connection to {address} closed: {e}"));
                    }
                }
            }
        }
    };
    tracing::debug!(%address, status = %end, "Dubbo2 connection ended");
    shared.close(end);
    if let Some(conn) = connection.upgrade() {
        conn.forget(&shared);
    }
}

async fn on_frame(shared: &Shared, tx: &mpsc::Sender<OutFrame>, header: Header, body: Bytes) {
    if !header.is_request() {
        if !shared.complete(header.id, Ok(Incoming { header, body })) {
            // Heartbeat answers and responses to calls that gave up.
            tracing::trace!(address = %shared.address, ?header, "response without a waiting call");
        }
        return;
    }
    let ser = Serialization::from_id(header.serialization()).unwrap_or_default();
    if !header.is_event() {
        tracing::debug!(address = %shared.address, ?header, "ignoring a request from the provider");
        return;
    }
    match codec::decode_event(ser, &body) {
        Event::Heartbeat => {
            if header.is_two_way() {
                let _ = tx
                    .send(codec::event_frame(ser, false, false, header.id, None))
                    .await;
            }
        }
        Event::ReadOnly => {
            tracing::debug!(address = %shared.address, "provider is shutting down (read-only)");
            shared.read_only.store(true, Ordering::Release);
        }
        Event::Writable => shared.read_only.store(false, Ordering::Release),
    }
}

/// Per-reference settings.
#[derive(Debug)]
struct CallSettings {
    serialization: Serialization,
    application: Option<String>,
    max_payload: usize,
}

/// Invokes a remote service over Dubbo2.
pub(crate) struct Dubbo2Invoker {
    url: Url,
    connection: Arc<Connection>,
    settings: Arc<CallSettings>,
    destroyed: AtomicBool,
}

impl fmt::Debug for Dubbo2Invoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dubbo2Invoker")
            .field("url", &self.url)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl Dubbo2Invoker {
    pub(crate) fn new(url: Url, connection: Arc<Connection>) -> Result<Dubbo2Invoker, Error> {
        let config = &connection.config;
        let serialization = match url.param("serialization") {
            None | Some("") => config.serialization,
            Some(name) => name
                .parse()
                .map_err(|e: String| Error::new(ErrorKind::Config, e))?,
        };
        let application = url
            .param("application")
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        let max_payload = config.max_payload;
        Ok(Dubbo2Invoker {
            url,
            settings: Arc::new(CallSettings {
                serialization,
                application,
                max_payload,
            }),
            connection,
            destroyed: AtomicBool::new(false),
        })
    }

    pub(crate) async fn warm_up(&self) -> Result<(), Error> {
        self.connection.channel().await.map(drop).map_err(|status| {
            Error::new(
                ErrorKind::Io,
                format!("cannot connect to {}", self.connection.address),
            )
            .with_source(status)
        })
    }
}

impl Invoker for Dubbo2Invoker {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        if self.destroyed.load(Ordering::Acquire) {
            let status = Status::unavailable(format!("reference to {} was destroyed", self.url))
                .with_request_not_sent();
            return Box::pin(std::future::ready(Err(status)));
        }
        let connection = Arc::clone(&self.connection);
        let settings = Arc::clone(&self.settings);
        Box::pin(async move {
            let deadline = invocation.deadline();
            let work = call(connection, settings, invocation);
            match deadline {
                None => work.await,
                Some(deadline) => tokio::time::timeout_at(deadline.into(), work)
                    .await
                    .unwrap_or_else(|_| Err(deadline_status())),
            }
        })
    }

    /// Connected now, and the provider is not shutting down (read-only), as Java's
    /// `DubboInvoker.isAvailable`.
    fn is_available(&self) -> bool {
        !self.destroyed.load(Ordering::Acquire) && self.connection.is_connected()
    }

    /// Later calls through this reference fail; the connection stays, shared with other
    /// references to the same address (the protocol's `destroy` closes it).
    fn destroy(&self) {
        self.destroyed.store(true, Ordering::Release);
    }
}

fn deadline_status() -> Status {
    Status::deadline_exceeded("deadline exceeded before the provider answered")
}

/// The attachments of a request: the service fields Java sends, then the call's metadata.
fn request_attachments(
    invocation: &crate::invocation::InvocationParts,
    version: &str,
    settings: &CallSettings,
) -> Result<Value, Status> {
    let target = &invocation.target;
    let mut entries: Vec<(Value, Value)> = Vec::with_capacity(6 + invocation.metadata.len());
    entries.push(("path".into(), target.interface().into()));
    entries.push(("interface".into(), target.interface().into()));
    entries.push(("version".into(), version.into()));
    if !target.group().is_empty() {
        entries.push(("group".into(), target.group().into()));
    }
    if let Some(deadline) = invocation.deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(deadline_status());
        }
        // Rounded up: a provider must not see less time than the caller gives.
        let ms = left.as_nanos().div_ceil(1_000_000).max(1);
        entries.push(("timeout".into(), ms.to_string().into()));
    }
    if let Some(app) = &settings.application {
        entries.push(("remote.application".into(), app.as_str().into()));
    }
    let fixed = entries.len();
    let mut user = Vec::new();
    attachments::push_metadata(&invocation.metadata, &mut user);
    for (k, v) in user {
        let key = k.as_str().unwrap_or_default();
        if key == crate::java::RETURN_KEY
            || entries[..fixed]
                .iter()
                .any(|(f, _)| f.as_str() == Some(key))
        {
            continue;
        }
        entries.push((k, v));
    }
    Ok(Value::map(entries))
}

async fn call(
    connection: Arc<Connection>,
    settings: Arc<CallSettings>,
    invocation: Invocation,
) -> Result<Reply, Status> {
    let (parts, body) = invocation.into_parts();
    let method = parts.method;
    if method.kind != CallKind::Unary {
        return Err(Status::unimplemented(format!(
            "{}/{} is a streaming method; Dubbo2 has no streams: call it over Triple (tri://)",
            parts.target.interface(),
            method.name
        )));
    }
    let payload = match body {
        Body::Unary(p) => p,
        Body::Stream(_) => {
            return Err(Status::unimplemented(
                "Dubbo2 has no streams: a unary call needs exactly one request message",
            ));
        }
    };
    let oneway = parts.metadata.get(crate::java::RETURN_KEY) == Some("false");
    let parameter_types = method.parameter_types();
    let expected = crate::java::jvm::count_parameters(&parameter_types)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let version = match parts.target.version() {
        "" => "0.0.0",
        v => v,
    };
    let attachments = request_attachments(&parts, version, &settings)?;
    let method_name = method.wire_name();
    let head = RequestHead {
        path: parts.target.interface(),
        version,
        method: &method_name,
        parameter_types: &parameter_types,
    };
    let id = next_id();
    let frame = codec::encode_request(
        settings.serialization,
        id,
        !oneway,
        head,
        expected,
        &payload,
        &attachments,
        settings.max_payload,
    )?;
    drop((payload, attachments));
    // Until the frame is queued nothing reached the provider: a retry elsewhere is safe.
    let channel = connection
        .channel()
        .await
        .map_err(Status::with_request_not_sent)?;
    if oneway {
        channel
            .send(frame)
            .await
            .map_err(Status::with_request_not_sent)?;
        return Ok(Reply::unary(Payload::hessian(Value::Null)));
    }
    let (rx, _guard) = channel
        .register(id)
        .map_err(Status::with_request_not_sent)?;
    channel
        .send(frame)
        .await
        .map_err(Status::with_request_not_sent)?;
    let incoming = rx.await.map_err(|_| {
        Status::unavailable(format!("connection to {} closed", connection.address))
    })??;
    drop(channel);
    reply_of(incoming, settings.serialization)
}

fn reply_of(incoming: Incoming, sent: Serialization) -> Result<Reply, Status> {
    let Incoming { header, body } = incoming;
    let ser = Serialization::from_id(header.serialization()).unwrap_or(sent);
    let decoded = codec::decode_response(ser, header.status, &body)
        .map_err(|e| Status::internal(format!("cannot decode the response: {e}")))?;
    match decoded {
        ResponseBody::Value(value, entries) => Ok(Reply {
            headers: Metadata::new(),
            body: Body::Unary(Payload::hessian(value)),
            trailers: attachments::to_metadata(&entries),
            compress: None,
        }),
        ResponseBody::Exception(value, entries) => Err(exception_status(&value, &entries)),
        ResponseBody::Error(status, text) => {
            let mut s = Status::new(codes::to_code(status, &text), text);
            let _ = s
                .metadata_mut()
                .insert(super::DUBBO2_STATUS_KEY, &status.to_string());
            Err(s)
        }
    }
}

/// The status of an exception response: the code our providers send along, else one derived
/// from the exception; the message is the exception's (with its class when the peer sent no
/// code, as Java prints it); the exception is the status's source.
fn exception_status(value: &Value, entries: &[(Value, Value)]) -> Status {
    let mut metadata = attachments::to_metadata(entries);
    let sent_code = metadata
        .remove(STATUS_CODE_KEY)
        .map(|c| Code::from_bytes(c.as_bytes()))
        .map(|c| if c == Code::Ok { Code::Unknown } else { c });
    let throwable = JavaThrowable::from_value(value).unwrap_or_else(|| {
        JavaThrowable::new(
            "java.lang.Throwable",
            Some(format!("unrecognised exception value {value:?}")),
        )
    });
    let (code, message) = match sent_code {
        Some(code) => (
            code,
            throwable
                .message()
                .map_or_else(|| throwable.class_name.clone(), str::to_owned),
        ),
        None => (crate::java::code_of(&throwable), throwable.to_string()),
    };
    Status::new(code, message)
        .with_metadata(metadata)
        .with_source(throwable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_keep_class_message_and_code() {
        let t = JavaThrowable::new("java.lang.IllegalStateException", Some("bad".into()));
        let value = crate::hessian2::to_value(&t).unwrap();
        let s = exception_status(&value, &[]);
        assert_eq!(s.code(), Code::Unknown);
        assert_eq!(s.message(), "java.lang.IllegalStateException: bad");
        let thrown = crate::java::java_exception(&s).unwrap();
        assert_eq!(thrown.class_name, "java.lang.IllegalStateException");
        let entries = vec![
            (STATUS_CODE_KEY.into(), "5".into()),
            ("x-trailer".into(), "done".into()),
        ];
        let s = exception_status(&value, &entries);
        assert_eq!(s.code(), Code::NotFound);
        assert_eq!(s.message(), "bad");
        assert_eq!(s.metadata().get("x-trailer"), Some("done"));
        assert!(!s.metadata().contains_key(STATUS_CODE_KEY));
        let s = exception_status(&Value::Int(3), &[]);
        assert_eq!(
            crate::java::java_exception(&s).unwrap().class_name,
            "java.lang.Throwable"
        );
    }
}
