//! Dubbo2: the classic Dubbo protocol over TCP (`dubbo://`), with its 16-byte `0xdabb`
//! frame header and Hessian 2 bodies, as most Dubbo services in production still speak it.
//!
//! - **Frames** (spec §3.1): one TCP connection multiplexes any number of calls by request
//!   id; one-way requests; heartbeats sent after [`Dubbo2Config::heartbeat_interval`] of
//!   silence and answered; idle connections closed; the payload limit
//!   ([`Dubbo2Config::max_payload`], 8 MiB) checked on read and write before allocating.
//! - **Bodies** (§3.4–§3.6): the request is `"2.0.2"`, path, version, method, parameter
//!   descriptor, one value per argument, attachments — all in one Hessian stream. Replies
//!   carry a value, null or an exception, with attachments for peers that read them. The
//!   fastjson serialization (id 6, one JSON text per line, §3.12) works too.
//! - **Services**: generated (proto) services and [`JavaService`](crate::java::JavaService)s
//!   export on `dubbo://` URLs through the same [`Protocol`] API as Triple;
//!   generated clients and [`JavaClient`](crate::java::JavaClient) call `dubbo://`
//!   references. A proto message travels as a Hessian object whose class is the proto's
//!   `java_package` (else its package) plus the message name, with lowerCamelCase fields, so a
//!   Java POJO of the same shape reads it.
//!
//! # Routing and errors
//!
//! The server routes on the body's path and version and the `group` attachment, exactly (the
//! versions `""`, `"0.0.0"` and `"*"` are the same). Method names match with the first
//! letter's case ignored (`sayHello` reaches `SayHello`); `$invoke` (generic invocation) and
//! `$echo` work for every service. What goes wrong around the service is a status byte with
//! a Java-like text: unknown service → 70 (`Not found exported service: …`), unknown method
//! or undecodable request → 40, streaming method → 60, deadline → 31, oversize reply → 25.
//! An error a service returns travels as a Java exception (flag 0/3): the one attached with
//! [`exception_status`](crate::java::exception_status), else a
//! `java.lang.RuntimeException` with the status message; its code goes along in the
//! `grpc-status` response attachment so Rust callers get the original [`Status`](crate::Status) back.
//!
//! On the client, status bytes map to codes per spec §1.8.5 (texts saying "not found" become
//! `UNIMPLEMENTED`, and the byte is kept in the `dubbo2-status` metadata entry); exceptions
//! become `UNKNOWN` (or the code the provider sent) with the decoded
//! [`JavaThrowable`](crate::java::JavaThrowable) as the status's source
//! ([`java_exception`](crate::java::java_exception) returns it).
//!
//! # Metadata and deadlines
//!
//! Request metadata travels as attachments, after `path`, `interface`, `version`, `group`,
//! `timeout` (the time left, in milliseconds, as a decimal string) and
//! `remote.application`; providers see every attachment as metadata and enforce `timeout`.
//! Response attachments become the reply's trailers. The metadata entry `return: false`
//! makes a call one-way (Java's `return` attachment).
//!
//! ```no_run
//! # async fn run(greeter: impl dubbo_runtime::Service) -> Result<(), dubbo_runtime::Error> {
//! use dubbo_runtime::Server;
//! let server = Server::builder()
//!     .add_service(greeter)
//!     .start("dubbo://127.0.0.1:20880")
//!     .await?;
//! # Ok(()) }
//! ```

mod attachments;
mod client;
pub mod codec;
pub mod codes;
mod config;
pub mod frame;
pub mod json;
mod router;
mod server;

use crate::protocol::routed::Listeners;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use codec::Serialization;
pub use config::Dubbo2Config;

use crate::error::Error;
use crate::invoker::{BoxFuture, Exporter, Invoker};
use crate::protocol::Protocol;
use crate::transport::Listener;
use crate::url::Url;
use client::{Connection, Dubbo2Invoker};
use router::Router;
use server::{Dubbo2Acceptor, ServerShared};

/// Response attachment carrying the gRPC code of an error a Rust service returned.
pub const STATUS_CODE_KEY: &str = "grpc-status";
/// Metadata entry holding the status byte of a non-20 response (client side).
pub const DUBBO2_STATUS_KEY: &str = "dubbo2-status";

/// Request ids: one process-wide counter, as Java does.
pub(crate) fn next_id() -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The Dubbo2 protocol: exports services on TCP listeners and refers remote services over
/// shared, multiplexed connections.
///
/// ```no_run
/// use dubbo_runtime::dubbo2::{Dubbo2Config, Dubbo2Protocol};
/// use dubbo_runtime::protocol::Protocols;
/// use std::sync::Arc;
/// let protocols = Protocols::with_defaults();
/// protocols.register(Arc::new(Dubbo2Protocol::new(
///     Dubbo2Config::default().max_payload(16 << 20),
/// )));
/// ```
pub struct Dubbo2Protocol {
    config: Arc<Dubbo2Config>,
    listeners: Listeners<Router>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl fmt::Debug for Dubbo2Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dubbo2Protocol")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Dubbo2Protocol {
    /// A protocol instance with these settings.
    pub fn new(config: Dubbo2Config) -> Dubbo2Protocol {
        Dubbo2Protocol {
            config: Arc::new(config),
            listeners: Listeners::default(),
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Dubbo2Config {
        &self.config
    }

    /// A listener at `address` serving `router`'s exports.
    async fn bind(&self, address: String, router: Arc<Router>) -> Result<Listener, Error> {
        let shared = Arc::new(ServerShared {
            router,
            config: Arc::clone(&self.config),
            port: OnceLock::new(),
        });
        let listener = Listener::bind(
            &address,
            Arc::new(Dubbo2Acceptor(Arc::clone(&shared))),
            self.config.tcp_nodelay,
        )
        .await
        .map_err(|e| Error::io(format!("cannot listen on {address}"), e))?;
        let _ = shared.port.set(listener.local_addr().port());
        tracing::info!(address = %listener.local_addr(), "Dubbo2 server listening");
        Ok(listener)
    }

    /// The shared connection to `url`'s address (created on first use; its settings come
    /// from the first reference URL).
    fn connection(&self, url: &Url) -> Arc<Connection> {
        let address = url.address();
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = connections.get(&address) {
            return Arc::clone(conn);
        }
        let mut config = (*self.config).clone();
        if let Some(ms) = url.param_u64("connect.timeout") {
            config.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = url.param_u64("heartbeat").filter(|ms| *ms > 0) {
            config.heartbeat_interval = Duration::from_millis(ms);
            config.idle_timeout = config.idle_timeout.max(config.heartbeat_interval * 3);
        }
        if let Some(ms) = url.param_u64("heartbeat.timeout").filter(|ms| *ms > 0) {
            config.idle_timeout = Duration::from_millis(ms);
        }
        if let Some(bytes) = url.param_u64("payload").filter(|b| *b > 0) {
            config.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(Ok(s)) = url.param("serialization").map(str::parse::<Serialization>) {
            config.serialization = s;
        }
        let conn = Connection::new(address.clone(), Arc::new(config));
        connections.insert(address, Arc::clone(&conn));
        conn
    }
}

impl Protocol for Dubbo2Protocol {
    fn schemes(&self) -> &'static [&'static str] {
        &["dubbo"]
    }

    fn export(&self, invoker: Arc<dyn Invoker>) -> BoxFuture<'_, Result<Arc<dyn Exporter>, Error>> {
        Box::pin(
            self.listeners
                .export(invoker, |address, router| self.bind(address, router)),
        )
    }

    fn refer(&self, url: Url) -> BoxFuture<'_, Result<Arc<dyn Invoker>, Error>> {
        Box::pin(async move {
            if url.port() == 0 {
                return Err(Error::config(format!("cannot refer {url}: no port")));
            }
            let connection = self.connection(&url);
            let lazy = url.param_bool("lazy").unwrap_or(false);
            let invoker = Dubbo2Invoker::new(url, connection)?;
            if !lazy {
                invoker.warm_up().await?;
            }
            Ok(Arc::new(invoker) as Arc<dyn Invoker>)
        })
    }

    fn destroy(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.listeners.shutdown(self.config.grace_period).await;
            let connections: Vec<Arc<Connection>> = self
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
                .map(|(_, c)| c)
                .collect();
            for conn in connections {
                conn.close();
            }
        })
    }
}

/// Entry points for fuzzing the Dubbo2 parsers; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use super::codec::{self, Serialization};
    use super::frame::{FrameReader, ReadEvent};

    /// Splits `bytes` into frames and decodes every body as a request, a response and an
    /// event, in both serializations. Must never panic.
    pub fn frames(bytes: &[u8]) {
        let mut reader = FrameReader::new(1 << 20);
        reader.push(bytes);
        while let Ok(Some(ReadEvent::Frame(header, body))) = reader.next_frame() {
            for ser in [Serialization::Hessian2, Serialization::Fastjson] {
                let _ = codec::decode_request(ser, &body);
                let _ = codec::decode_response(ser, header.status, &body);
                let _ = codec::decode_event(ser, &body);
            }
        }
    }

    /// Decodes `bytes` as a request body and a response body in both serializations.
    pub fn bodies(bytes: &[u8]) {
        for ser in [Serialization::Hessian2, Serialization::Fastjson] {
            let _ = codec::decode_request(ser, bytes);
            for status in [20, 70] {
                let _ = codec::decode_response(ser, status, bytes);
            }
        }
    }
}
