//! Which exported service answers a `/{service}/{method}` request, using the
//! `tri-service-group` / `tri-service-version` headers with Java Dubbo's fallbacks.

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

/// The exported services of one listener.
#[derive(Default)]
pub(crate) struct Router {
    routes: RwLock<HashMap<String, Vec<Route>>>,
    next_id: AtomicU64,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        f.debug_list()
            .entries(routes.values().flatten().map(|r| r.target.service_key()))
            .finish()
    }
}

impl Router {
    /// Adds a service; returns its route id (for [`Router::remove`]). A service exported
    /// again under the same group and version replaces the earlier export.
    pub(crate) fn add(
        &self,
        target: Arc<ServiceTarget>,
        invoker: Arc<dyn Invoker>,
        descriptor: &'static ServiceDescriptor,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let list = routes.entry(target.interface().to_owned()).or_default();
        list.retain(|r| {
            !(r.target.group() == target.group() && r.target.version() == target.version())
        });
        list.push(Route {
            id,
            target,
            invoker,
            descriptor,
        });
        id
    }

    /// Removes a route added by [`Router::add`].
    pub(crate) fn remove(&self, id: u64) {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.retain(|_, list| {
            list.retain(|r| r.id != id);
            !list.is_empty()
        });
    }

    /// Whether no service is exported.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Resolves a request. Exact group and version win. When the caller named no version, the
    /// version `1.0.0` is tried next, and when it named neither group nor version, the only
    /// export of the service (if there is exactly one) answers — so plain gRPC clients reach a
    /// uniquely exported service, as with Java Dubbo.
    pub(crate) fn resolve(&self, service: &str, group: &str, version: &str) -> Option<Route> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let list = routes.get(service)?;
        let find = |g: &str, v: &str| {
            list.iter()
                .find(|r| r.target.group() == g && r.target.version() == v)
                .cloned()
        };
        if let Some(route) = find(group, version) {
            return Some(route);
        }
        if version.is_empty() {
            if let Some(route) = find(group, "1.0.0") {
                return Some(route);
            }
            let mut in_group = list
                .iter()
                .filter(|r| group.is_empty() || r.target.group() == group);
            if let (Some(only), None) = (in_group.next(), in_group.next()) {
                return Some(only.clone());
            }
        }
        None
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
    use crate::invocation::Reply;
    use crate::invoker::BoxFuture;
    use crate::{Invocation, Status, Url};

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
            Arc::new(Nop(Url::new("tri", "h", 1))),
            &DESC,
        )
    }

    fn resolved(router: &Router, group: &str, version: &str) -> Option<String> {
        router
            .resolve("pkg.Svc", group, version)
            .map(|r| r.target.service_key())
    }

    #[test]
    fn exact_then_java_fallbacks() {
        let router = Router::default();
        add(&router, "g1", "1.0.0");
        assert_eq!(
            resolved(&router, "g1", "1.0.0").as_deref(),
            Some("g1/pkg.Svc:1.0.0")
        );
        // Unique export answers callers that name nothing.
        assert_eq!(
            resolved(&router, "", "").as_deref(),
            Some("g1/pkg.Svc:1.0.0")
        );
        // Version 1.0.0 is the default version.
        assert_eq!(
            resolved(&router, "g1", "").as_deref(),
            Some("g1/pkg.Svc:1.0.0")
        );
        // An explicit mismatch is not found.
        assert_eq!(resolved(&router, "g1", "2.0.0"), None);
        assert_eq!(resolved(&router, "g2", ""), None);
        add(&router, "g2", "2.0.0");
        assert_eq!(resolved(&router, "", ""), None, "ambiguous");
        assert_eq!(
            resolved(&router, "g2", "").as_deref(),
            Some("g2/pkg.Svc:2.0.0")
        );
        assert!(router.resolve("other.Svc", "", "").is_none());
    }

    #[test]
    fn remove_and_replace() {
        let router = Router::default();
        let a = add(&router, "", "");
        let b = add(&router, "", "");
        assert_ne!(a, b);
        router.remove(a);
        assert!(
            resolved(&router, "", "").is_some(),
            "b replaced a and stays"
        );
        router.remove(b);
        assert!(router.is_empty());
    }
}
