//! Dubbo's `Protocol`: `export(invoker) -> Exporter`, `refer(url) -> Invoker`, `destroy()`,
//! and a registry of protocols by URL scheme.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{Error, ErrorKind};
use crate::invoker::{BoxFuture, Exporter, Invoker};
use crate::url::Url;

pub(crate) mod routed;

/// A wire protocol (Triple, Dubbo2, …).
pub trait Protocol: fmt::Debug + Send + Sync + 'static {
    /// The URL scheme(s) this protocol serves, e.g. `["tri"]`.
    fn schemes(&self) -> &'static [&'static str];

    /// Exports a local service: starts listening on the invoker URL's address (sharing one
    /// listener among every service exported on the same port) and routes calls to it.
    fn export(&self, invoker: Arc<dyn Invoker>) -> BoxFuture<'_, Result<Arc<dyn Exporter>, Error>>;

    /// Creates an invoker for a remote service. Connects eagerly unless the URL has
    /// `lazy=true`.
    fn refer(&self, url: Url) -> BoxFuture<'_, Result<Arc<dyn Invoker>, Error>>;

    /// Gracefully shuts down: stops accepting, lets in-flight calls finish within the grace
    /// period, then closes every server and client connection.
    fn destroy(&self) -> BoxFuture<'_, ()>;
}

/// Protocols by URL scheme.
///
/// ```
/// use dubbo_runtime::protocol::Protocols;
/// let protocols = Protocols::with_defaults();
/// assert!(protocols.get("tri").is_ok());
/// assert!(protocols.get("dubbo").is_ok());
/// assert!(protocols.get("nope").is_err());
/// ```
#[derive(Clone, Default)]
pub struct Protocols {
    by_scheme: Arc<RwLock<HashMap<String, Arc<dyn Protocol>>>>,
}

impl Protocols {
    /// An empty registry.
    pub fn new() -> Protocols {
        Protocols::default()
    }

    /// A registry with the built-in protocols and default settings.
    pub fn with_defaults() -> Protocols {
        let protocols = Protocols::new();
        protocols.register(Arc::new(crate::triple::TripleProtocol::new(
            crate::triple::TripleConfig::default(),
        )));
        protocols.register(Arc::new(crate::dubbo2::Dubbo2Protocol::new(
            crate::dubbo2::Dubbo2Config::default(),
        )));
        protocols
    }

    /// The process-wide registry used by clients that were not given one.
    pub fn global() -> &'static Protocols {
        static GLOBAL: OnceLock<Protocols> = OnceLock::new();
        GLOBAL.get_or_init(Protocols::with_defaults)
    }

    /// Registers a protocol under each of its schemes, replacing earlier ones.
    pub fn register(&self, protocol: Arc<dyn Protocol>) {
        let mut map = self.by_scheme.write().unwrap_or_else(|e| e.into_inner());
        for scheme in protocol.schemes() {
            map.insert((*scheme).to_owned(), Arc::clone(&protocol));
        }
    }

    /// The protocol for `scheme`.
    pub fn get(&self, scheme: &str) -> Result<Arc<dyn Protocol>, Error> {
        let map = self.by_scheme.read().unwrap_or_else(|e| e.into_inner());
        map.get(scheme).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownProtocol,
                format!("no protocol registered for scheme {scheme:?}"),
            )
        })
    }

    /// Every distinct registered protocol.
    pub fn all(&self) -> Vec<Arc<dyn Protocol>> {
        let map = self.by_scheme.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Arc<dyn Protocol>> = Vec::new();
        for p in map.values() {
            if !out.iter().any(|q| Arc::ptr_eq(p, q)) {
                out.push(Arc::clone(p));
            }
        }
        out
    }

    /// Destroys every registered protocol.
    pub async fn destroy_all(&self) {
        for p in self.all() {
            p.destroy().await;
        }
    }
}

impl fmt::Debug for Protocols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.by_scheme.read().unwrap_or_else(|e| e.into_inner());
        f.debug_set().entries(map.keys()).finish()
    }
}
