//! Pieces the built-in protocols share: their listeners by address with a routing table
//! each ([`Listeners`]), the [`Exporter`] they hand out, which removes its service from the
//! listener's routing table, and de-duplication of listeners shared by several exported URLs.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, Weak};
use std::time::Duration;

use crate::descriptor::ServiceDescriptor;
use crate::error::Error;
use crate::invocation::ServiceTarget;
use crate::invoker::{Exporter, Invoker};
use crate::transport::Listener;
use crate::url::Url;

/// One exported service.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) id: u64,
    pub(crate) target: Arc<ServiceTarget>,
    pub(crate) invoker: Arc<dyn Invoker>,
    pub(crate) descriptor: &'static ServiceDescriptor,
}

/// Interface name → its exports, hashed with [`NameHasher`].
pub(crate) type RouteMap = HashMap<String, Vec<Route>, BuildHasherDefault<NameHasher>>;

/// The exported services of one listener, by interface name. Each protocol's router
/// resolves requests over it in its own way.
#[derive(Default)]
pub(crate) struct Routes {
    map: RwLock<RouteMap>,
    next_id: AtomicU64,
}

/// The route map's hasher: eight bytes per step (rotate, xor, multiply), unkeyed.
///
/// Every request looks its service up by the name it sent, and std's keyed SipHash costs
/// about 270 instructions for a typical 30-byte interface name, a few percent of a whole
/// Dubbo2 request. Flooding attacks need many colliding keys *inserted*; only exports are
/// inserted here, so a request can at worst pick a name that lands in an occupied bucket and
/// be compared with the few names there.
#[derive(Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Routes {
    /// Adds a service and returns its route id. An export of the same interface that `same`
    /// calls the same export (group and version, as the protocol compares them) is replaced.
    fn add(
        &self,
        target: Arc<ServiceTarget>,
        invoker: Arc<dyn Invoker>,
        descriptor: &'static ServiceDescriptor,
        same: impl Fn(&ServiceTarget, &ServiceTarget) -> bool,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(target.interface().to_owned()).or_default();
        list.retain(|r| !same(&r.target, &target));
        list.push(Route {
            id,
            target,
            invoker,
            descriptor,
        });
        id
    }

    /// Removes the route added as `id`.
    fn remove(&self, id: u64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, list| {
            list.retain(|r| r.id != id);
            !list.is_empty()
        });
    }

    /// The routes, by interface name.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, RouteMap> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// A listener's table of exported services.
pub(crate) trait RouteTable: Default + Send + Sync + 'static {
    /// The services the table holds.
    fn routes(&self) -> &Routes;

    /// Whether two exports of one interface are the same export (a new one replaces the old).
    fn same_export(a: &ServiceTarget, b: &ServiceTarget) -> bool;

    /// Adds an export; the returned id removes it again.
    fn add_export(
        &self,
        target: Arc<ServiceTarget>,
        invoker: Arc<dyn Invoker>,
        descriptor: &'static ServiceDescriptor,
    ) -> u64 {
        self.routes()
            .add(target, invoker, descriptor, Self::same_export)
    }

    /// Removes the export registered as `id` (later calls to it get "not found").
    fn remove_export(&self, id: u64) {
        self.routes().remove(id);
    }
}

/// A listener and the routing table its connections use.
struct ServerEntry<R> {
    listener: Listener,
    router: Arc<R>,
}

/// One protocol instance's listeners, by the address they were asked to bind and by the
/// address they got (so `:0` and the chosen port name the same listener).
pub(crate) struct Listeners<R> {
    servers: tokio::sync::Mutex<HashMap<String, Arc<ServerEntry<R>>>>,
}

impl<R> Default for Listeners<R> {
    fn default() -> Self {
        Listeners {
            servers: tokio::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl<R: RouteTable> Listeners<R> {
    /// Exports `invoker` at its URL's address, binding a listener there with `bind` (given
    /// the address and the new routing table) unless one exists already.
    pub(crate) async fn export<F, Fut>(
        &self,
        invoker: Arc<dyn Invoker>,
        bind: F,
    ) -> Result<Arc<dyn Exporter>, Error>
    where
        F: FnOnce(String, Arc<R>) -> Fut,
        Fut: Future<Output = Result<Listener, Error>>,
    {
        let url = invoker.url().clone();
        let descriptor = invoker.descriptor().ok_or_else(|| {
            Error::config(format!(
                "cannot export {url}: the invoker has no service descriptor"
            ))
        })?;
        if url.port() == 0 && url.host().is_empty() {
            return Err(Error::config(format!("cannot export {url}: no address")));
        }
        let entry = self.entry_for(&url, bind).await?;
        let port = entry.listener.local_addr().port();
        let target = ServiceTarget::new(url.interface().to_owned())
            .with_group(url.group().to_owned())
            .with_version(url.version().to_owned());
        let id = entry
            .router
            .add_export(Arc::new(target), Arc::clone(&invoker), descriptor);
        let mut exported = url;
        let host = exported.host().to_owned();
        exported.set_address(host, port);
        Ok(
            Arc::new(RoutedExporter::new(exported, invoker, &entry.router, id))
                as Arc<dyn Exporter>,
        )
    }

    async fn entry_for<F, Fut>(&self, url: &Url, bind: F) -> Result<Arc<ServerEntry<R>>, Error>
    where
        F: FnOnce(String, Arc<R>) -> Fut,
        Fut: Future<Output = Result<Listener, Error>>,
    {
        let address = url.address();
        let mut servers = self.servers.lock().await;
        if let Some(entry) = servers.get(&address) {
            return Ok(Arc::clone(entry));
        }
        let router = Arc::new(R::default());
        let listener = bind(address.clone(), Arc::clone(&router)).await?;
        let mut actual = url.clone();
        actual.set_address(url.host(), listener.local_addr().port());
        let entry = Arc::new(ServerEntry { listener, router });
        servers.insert(address, Arc::clone(&entry));
        servers.insert(actual.address(), Arc::clone(&entry));
        Ok(entry)
    }

    /// Shuts every listener down (each once), letting calls in flight finish within `grace`.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        let entries = distinct(self.servers.lock().await.drain().map(|(_, e)| e));
        futures_util::future::join_all(entries.iter().map(|e| e.listener.shutdown(grace))).await;
    }
}

/// The exporter of one service on a shared listener.
pub(crate) struct RoutedExporter<R: RouteTable> {
    url: Url,
    invoker: Arc<dyn Invoker>,
    table: Weak<R>,
    id: u64,
}

impl<R: RouteTable> RoutedExporter<R> {
    /// The export `id` of `invoker` in `table`, reachable at `url`.
    pub(crate) fn new(url: Url, invoker: Arc<dyn Invoker>, table: &Arc<R>, id: u64) -> Self {
        RoutedExporter {
            url,
            invoker,
            table: Arc::downgrade(table),
            id,
        }
    }
}

impl<R: RouteTable> fmt::Debug for RoutedExporter<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<R: RouteTable> Exporter for RoutedExporter<R> {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoker(&self) -> &Arc<dyn Invoker> {
        &self.invoker
    }

    fn unexport(&self) {
        if let Some(table) = self.table.upgrade() {
            table.remove_export(self.id);
        }
    }
}

/// The distinct entries of `entries` (several URLs may share one listener).
fn distinct<T>(entries: impl IntoIterator<Item = Arc<T>>) -> Vec<Arc<T>> {
    let mut unique: Vec<Arc<T>> = Vec::new();
    for entry in entries {
        if !unique.iter().any(|e| Arc::ptr_eq(e, &entry)) {
            unique.push(entry);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_one_of_each_shared_entry() {
        let a = Arc::new(1);
        let b = Arc::new(1);
        let got = distinct([Arc::clone(&a), Arc::clone(&b), Arc::clone(&a)]);
        assert_eq!(got.len(), 2);
        assert!(Arc::ptr_eq(&got[0], &a) && Arc::ptr_eq(&got[1], &b));
    }

    fn name_hash(name: &str) -> u64 {
        use std::hash::BuildHasher;
        BuildHasherDefault::<NameHasher>::default().hash_one(name)
    }

    #[test]
    fn name_hasher_separates_names_and_the_map_finds_them() {
        // Tails of every length, names that differ only in a padding zero, a common prefix.
        let mut names: Vec<String> = (0..300)
            .map(|i| format!("org.apache.dubbo.sample.Svc{i}"))
            .collect();
        names.extend(["a", "a\0", "a\0\0\0\0\0\0\0", ""].map(String::from));
        names.extend((0..20).map(|n| "x".repeat(n + 1)));
        let mut hashes: Vec<u64> = names.iter().map(|n| name_hash(n)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), names.len(), "no two names share a hash");

        let mut map: HashMap<String, usize, BuildHasherDefault<NameHasher>> = HashMap::default();
        for (i, n) in names.iter().enumerate() {
            map.insert(n.clone(), i);
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(map.get(n.as_str()), Some(&i));
        }
        assert_eq!(map.get("org.apache.dubbo.sample.Svc300"), None);
    }
}
