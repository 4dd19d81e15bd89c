//! Which exported service answers a `/{service}/{method}` request, using the
//! `tri-service-group` / `tri-service-version` headers with Java Dubbo's fallbacks.

use std::fmt;

use crate::invocation::ServiceTarget;
pub(crate) use crate::protocol::routed::Route;
use crate::protocol::routed::{RouteTable, Routes};

/// The exported services of one listener.
#[derive(Default)]
pub(crate) struct Router {
    routes: Routes,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes = self.routes.read();
        f.debug_list()
            .entries(routes.values().flatten().map(|r| r.target.service_key()))
            .finish()
    }
}

impl Router {
    /// Whether no service is exported.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.routes.read().is_empty()
    }

    /// Resolves a request. Exact group and version win. When the caller named no version, the
    /// version `1.0.0` is tried next, and when it named neither group nor version, the only
    /// export of the service (if there is exactly one) answers — so plain gRPC clients reach a
    /// uniquely exported service, as with Java Dubbo.
    pub(crate) fn resolve(&self, service: &str, group: &str, version: &str) -> Option<Route> {
        let routes = self.routes.read();
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

impl RouteTable for Router {
    fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Same group and version.
    fn same_export(a: &ServiceTarget, b: &ServiceTarget) -> bool {
        a.group() == b.group() && a.version() == b.version()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::descriptor::ServiceDescriptor;
    use crate::invocation::Reply;
    use crate::invoker::BoxFuture;
    use crate::invoker::Invoker;
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
        router.add_export(
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
        router.remove_export(a);
        assert!(
            resolved(&router, "", "").is_some(),
            "b replaced a and stays"
        );
        router.remove_export(b);
        assert!(router.is_empty());
    }
}
