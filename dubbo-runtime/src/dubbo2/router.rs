//! Which exported service answers a Dubbo2 request: path and version from the body, group
//! from the `group` attachment, matched exactly as Java's `DubboProtocol.getInvoker` does
//! (`""`, `"0.0.0"` and `"*"` all mean "no version").

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::descriptor::ServiceDescriptor;
use crate::invocation::ServiceTarget;
use crate::invoker::Invoker;

/// One exported service.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) id: u64,
    pub(crate) target: Arc<ServiceTarget>,
    pub(crate) invoker: Arc<dyn Invoker>,
    pub(crate) descriptor: &'static ServiceDescriptor,
}

/// The normalized version: `""` for none.
pub(crate) fn normalize_version(version: &str) -> &str {
    match version {
        "0.0.0" | "*" => "",
        v => v,
    }
}

/// The exported services of one listener.
#[derive(Default)]
pub(crate) struct Router {
    routes: RwLock<HashMap<String, Vec<Route>>>,
    next_id: AtomicU64,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

impl Router {
    /// Adds a service; returns its id. An export with the same group and version replaces
    /// the earlier one.
    pub(crate) fn add(
        &self,
        target: Arc<ServiceTarget>,
        invoker: Arc<dyn Invoker>,
        descriptor: &'static ServiceDescriptor,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let list = routes.entry(target.interface().to_owned()).or_default();
        let version = normalize_version(target.version());
        list.retain(|r| {
            !(r.target.group() == target.group()
                && normalize_version(r.target.version()) == version)
        });
        list.push(Route {
            id,
            target,
            invoker,
            descriptor,
        });
        id
    }

    /// Removes a route.
    pub(crate) fn remove(&self, id: u64) {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.retain(|_, list| {
            list.retain(|r| r.id != id);
            !list.is_empty()
        });
    }

    /// The service exported under exactly this path, group and version.
    pub(crate) fn resolve(&self, path: &str, group: &str, version: &str) -> Option<Route> {
        let version = normalize_version(version);
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        routes
            .get(path)?
            .iter()
            .find(|r| r.target.group() == group && normalize_version(r.target.version()) == version)
            .cloned()
    }

    /// Service keys of every export (`group/path:version`), sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<String> = routes
            .values()
            .flatten()
            .map(|r| r.target.service_key())
            .collect();
        keys.sort();
        keys
    }
}

impl crate::protocol::routed::RouteTable for Router {
    fn add_export(
        &self,
        target: Arc<ServiceTarget>,
        invoker: Arc<dyn Invoker>,
        descriptor: &'static ServiceDescriptor,
    ) -> u64 {
        self.add(target, invoker, descriptor)
    }

    fn remove_export(&self, id: u64) {
        self.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::{Invocation, Reply};
    use crate::invoker::BoxFuture;
    use crate::{Status, Url};

    #[derive(Debug)]
    struct Nop(Url);
    impl Invoker for Nop {
        fn url(&self) -> &Url {
            &self.0
        }
        fn invoke(&self, _: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
            Box::pin(async { Err(Status::internal("nop")) })
        }
    }

    static DESC: ServiceDescriptor = ServiceDescriptor {
        name: "pkg.Svc",
        methods: &[],
    };

    fn add(router: &Router, group: &str, version: &str) -> u64 {
        let target = ServiceTarget::new("pkg.Svc")
            .with_group(group)
            .with_version(version);
        router.add(
            Arc::new(target),
            Arc::new(Nop(Url::new("dubbo", "h", 1))),
            &DESC,
        )
    }

    #[test]
    fn exact_match_with_equivalent_empty_versions() {
        let router = Router::default();
        let a = add(&router, "", "");
        add(&router, "g", "1.0.0");
        for v in ["", "0.0.0", "*"] {
            assert!(router.resolve("pkg.Svc", "", v).is_some(), "{v:?}");
        }
        assert!(router.resolve("pkg.Svc", "g", "1.0.0").is_some());
        assert!(router.resolve("pkg.Svc", "", "1.0.0").is_none());
        assert!(router.resolve("pkg.Svc", "g", "").is_none());
        assert!(router.resolve("other", "", "").is_none());
        assert_eq!(router.keys(), ["g/pkg.Svc:1.0.0", "pkg.Svc"]);
        // Re-export under an equivalent version replaces.
        let b = add(&router, "", "0.0.0");
        assert_eq!(router.keys().len(), 2);
        router.remove(a);
        assert_eq!(router.resolve("pkg.Svc", "", "").map(|r| r.id), Some(b));
        router.remove(b);
        assert_eq!(router.keys(), ["g/pkg.Svc:1.0.0"]);
    }
}
