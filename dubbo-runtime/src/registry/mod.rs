//! Service registries: providers register their URLs, consumers subscribe and get the live
//! list of matching providers.
//!
//! - [`ZookeeperRegistry`] uses the ZooKeeper layout of Java and Go Dubbo
//!   (`/dubbo/{interface}/providers/{URL-encoded URL}`), so mixed fleets discover each other.
//! - [`StaticRegistry`] serves a fixed list of URLs, for use without ZooKeeper.
//!
//! [`connect`] picks the implementation from a registry URL (`zookeeper://host:port`).

mod matching;
mod static_registry;
#[cfg(feature = "zookeeper")]
mod zookeeper;

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

use crate::error::{Error, ErrorKind};
use crate::invoker::BoxFuture;
use crate::url::Url;

pub use matching::{consumer_url, is_match, provider_url};
pub use static_registry::StaticRegistry;
#[cfg(feature = "zookeeper")]
pub use zookeeper::ZookeeperRegistry;

/// A registry of provider and consumer URLs.
pub trait Registry: fmt::Debug + Send + Sync + 'static {
    /// The registry's own URL.
    fn url(&self) -> &Url;

    /// Registers a provider (or consumer) URL. It stays registered until
    /// [`unregister`](Registry::unregister) or [`destroy`](Registry::destroy), across
    /// reconnections.
    fn register(&self, url: Url) -> BoxFuture<'_, Result<(), Error>>;

    /// Removes a registration.
    fn unregister(&self, url: Url) -> BoxFuture<'_, Result<(), Error>>;

    /// Watches the providers matching `consumer` (interface, group, version, …). The returned
    /// subscription holds the current list and is updated on every change; dropping it (or
    /// [`Registry::unsubscribe`]) stops watching.
    fn subscribe(&self, consumer: Url) -> BoxFuture<'_, Result<Subscription, Error>>;

    /// Stops a subscription.
    fn unsubscribe(&self, subscription: Subscription) {
        drop(subscription);
    }

    /// Unregisters everything this registry registered and closes it.
    fn destroy(&self) -> BoxFuture<'_, ()>;
}

/// A live view of the providers matching a consumer.
#[derive(Debug)]
pub struct Subscription {
    rx: watch::Receiver<Arc<Vec<Url>>>,
    _stop: Option<StopOnDrop>,
}

/// Runs a cleanup when dropped (ends a subscription's watch task).
pub(crate) struct StopOnDrop(pub(crate) Option<Box<dyn FnOnce() + Send + Sync>>);

impl fmt::Debug for StopOnDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StopOnDrop")
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            stop();
        }
    }
}

impl Subscription {
    pub(crate) fn new(
        mut rx: watch::Receiver<Arc<Vec<Url>>>,
        stop: Option<StopOnDrop>,
    ) -> Subscription {
        // What is there now is the starting point; `changed` reports what comes after it.
        let _ = rx.borrow_and_update();
        Subscription { rx, _stop: stop }
    }

    /// The providers right now.
    pub fn current(&self) -> Arc<Vec<Url>> {
        Arc::clone(&self.rx.borrow())
    }

    /// Waits for the next change and returns the new list; an error once the registry is
    /// gone.
    pub async fn changed(&mut self) -> Result<Arc<Vec<Url>>, Error> {
        self.rx
            .changed()
            .await
            .map_err(|_| Error::new(ErrorKind::Closed, "the registry was destroyed"))?;
        Ok(self.current())
    }

    /// Waits (up to `timeout`) until at least one provider is listed.
    pub async fn wait_for_providers(&mut self, timeout: std::time::Duration) -> bool {
        let wait = self.rx.wait_for(|providers| !providers.is_empty());
        matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_)))
    }
}

/// Connects to the registry a URL names: `zookeeper://host:port[?backup=host2:port2,…]`.
/// References and servers in one process share a registry (one ZooKeeper session) per URL
/// while any of them is alive.
pub async fn connect(url: &Url) -> Result<Arc<dyn Registry>, Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, Weak};
    static LIVE: OnceLock<Mutex<HashMap<String, Weak<dyn Registry>>>> = OnceLock::new();
    let key = url.to_string();
    let live = LIVE.get_or_init(Mutex::default);
    if let Some(registry) = live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .and_then(Weak::upgrade)
    {
        return Ok(registry);
    }
    let registry = connect_new(url).await?;
    let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
    live.retain(|_, weak| weak.strong_count() > 0);
    live.insert(key, Arc::downgrade(&registry));
    Ok(registry)
}

async fn connect_new(url: &Url) -> Result<Arc<dyn Registry>, Error> {
    match url.protocol() {
        #[cfg(feature = "zookeeper")]
        "zookeeper" => Ok(Arc::new(ZookeeperRegistry::connect(url.clone()).await?)),
        other => Err(Error::new(
            ErrorKind::UnknownProtocol,
            format!("no registry implementation for {other:?} (supported: zookeeper)"),
        )),
    }
}

/// Whether `scheme` names a registry rather than a protocol.
pub fn is_registry_scheme(scheme: &str) -> bool {
    matches!(scheme, "zookeeper" | "registry")
}

/// The address other hosts can reach this one at: the local end of a UDP socket "connected"
/// towards a public address (no packet is sent), else `127.0.0.1`.
pub fn local_host() -> String {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| {
            socket.connect("8.8.8.8:80")?;
            socket.local_addr()
        })
        .map(|addr| addr.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string())
}

/// `host` unless it is a wildcard bind address, in which case [`local_host`].
pub fn advertised_host(host: &str) -> String {
    match host {
        "" | "0.0.0.0" | "::" | "[::]" => local_host(),
        other => other.to_owned(),
    }
}
