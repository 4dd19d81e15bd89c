//! Triple: Dubbo 3's gRPC-compatible protocol over HTTP/2 (`tri://`).
//!
//! On the wire it is gRPC (`application/grpc`, 5-byte message framing, `grpc-status`
//! trailers, `grpc-timeout`, `grpc-encoding`) plus Dubbo's `tri-service-version`,
//! `tri-service-group` and `tri-consumer-appname` headers, so gRPC clients and servers in any
//! language interoperate with it.

mod client;
mod compression;
mod config;
pub mod frame;
mod headers;
mod router;
mod server;

use crate::protocol::routed::Listeners;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use compression::Encoding;
pub use config::TripleConfig;

use crate::error::Error;
use crate::invoker::{BoxFuture, Exporter, Invoker};
use crate::protocol::Protocol;
use crate::transport::Listener;
use crate::url::Url;
use client::{Connection, TripleInvoker};
use router::Router;
use server::{ServerShared, TripleAcceptor};

/// The Triple protocol: exports services on HTTP/2 listeners and refers remote services over
/// multiplexed HTTP/2 connections.
///
/// ```no_run
/// use dubbo_runtime::protocol::Protocols;
/// use dubbo_runtime::triple::{TripleConfig, TripleProtocol};
/// use std::sync::Arc;
/// let protocols = Protocols::new();
/// protocols.register(Arc::new(TripleProtocol::new(
///     TripleConfig::default().max_receive_message_size(8 << 20),
/// )));
/// ```
pub struct TripleProtocol {
    config: Arc<TripleConfig>,
    listeners: Listeners<Router>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl fmt::Debug for TripleProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TripleProtocol")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TripleProtocol {
    /// A protocol instance with these settings.
    pub fn new(config: TripleConfig) -> TripleProtocol {
        TripleProtocol {
            config: Arc::new(config),
            listeners: Listeners::default(),
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &TripleConfig {
        &self.config
    }

    /// A listener at `address` serving `router`'s exports.
    async fn bind(&self, address: String, router: Arc<Router>) -> Result<Listener, Error> {
        #[cfg(feature = "tls")]
        let tls = match &self.config.server_tls {
            Some(tls) => Some(tokio_rustls::TlsAcceptor::from(tls.build()?)),
            None => None,
        };
        let shared = Arc::new(ServerShared {
            router,
            config: Arc::clone(&self.config),
            #[cfg(feature = "tls")]
            tls,
        });
        let listener = Listener::bind(
            &address,
            Arc::new(TripleAcceptor(shared)),
            self.config.tcp_nodelay,
        )
        .await
        .map_err(|e| Error::io(format!("cannot listen on {address}"), e))?;
        tracing::info!(address = %listener.local_addr(), "Triple server listening");
        Ok(listener)
    }

    fn connection(&self, url: &Url) -> Result<Arc<Connection>, Error> {
        let address = url.address();
        let connect_timeout = url
            .param_u64("connect.timeout")
            .map_or(self.config.connect_timeout, Duration::from_millis);
        let tls = self.client_tls_for(url)?;
        let key = if tls.is_some() {
            format!("tls:{address}")
        } else {
            address.clone()
        };
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = connections.get(&key) {
            return Ok(Arc::clone(conn));
        }
        let conn = Connection::new(address, Arc::clone(&self.config), connect_timeout, tls)?;
        connections.insert(key, Arc::clone(&conn));
        Ok(conn)
    }

    #[cfg(feature = "tls")]
    fn client_tls_for(&self, url: &Url) -> Result<Option<client::TlsTarget>, Error> {
        if !crate::tls::url_wants_tls(url) {
            return Ok(None);
        }
        let tls = self.config.client_tls.as_ref().ok_or_else(|| {
            Error::config(format!(
                "{url} asks for TLS but no ClientTlsConfig was configured"
            ))
        })?;
        let tls = tls.build()?;
        let server_name = tls.server_name(url.host())?;
        Ok(Some(client::TlsTarget { tls, server_name }))
    }

    #[cfg(not(feature = "tls"))]
    fn client_tls_for(&self, url: &Url) -> Result<Option<client::TlsTarget>, Error> {
        if matches!(url.protocol(), "tris" | "https" | "grpcs")
            || url.param_bool("tls") == Some(true)
        {
            return Err(Error::config(format!(
                "{url} asks for TLS but dubbo-runtime was built without the tls feature"
            )));
        }
        Ok(None)
    }
}

impl Protocol for TripleProtocol {
    fn schemes(&self) -> &'static [&'static str] {
        &["tri", "grpc", "http", "tris", "grpcs", "https"]
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
            let connection = self.connection(&url)?;
            let lazy = url.param_bool("lazy").unwrap_or(false);
            let invoker = TripleInvoker::new(url, connection, &self.config)?;
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

/// Entry points for fuzzing the Triple parsers (used by `dubbo-runtime/fuzz`); not a stable
/// API.
#[doc(hidden)]
pub mod fuzzing {
    use std::time::Duration;

    use http::{HeaderMap, HeaderValue};

    use crate::Status;

    /// Parses a `grpc-timeout` value.
    pub fn parse_timeout(value: &[u8]) -> Option<Duration> {
        super::headers::parse_timeout(value)
    }

    /// Decodes a `grpc-message` value.
    pub fn decode_message(value: &[u8]) -> String {
        super::headers::decode_message(value)
    }

    /// Encodes a status message for `grpc-message`.
    pub fn encode_message(message: &str) -> HeaderValue {
        super::headers::encode_message(message)
    }

    /// Reads a status from trailers.
    pub fn status_from_headers(headers: &HeaderMap) -> Option<Status> {
        super::headers::status_from_headers(headers)
    }

    /// Whether a `grpc-accept-encoding` value accepts gzip, and how `grpc-encoding` parses.
    pub fn encodings(value: &HeaderValue) -> (bool, bool) {
        (
            super::Encoding::Gzip.accepted_by(Some(value)),
            super::Encoding::from_header(Some(value)).is_ok(),
        )
    }
}
