//! Which exported service answers a Dubbo2 request: path and version from the body, group
//! from the `group` attachment, matched exactly as Java's `DubboProtocol.getInvoker` does
//! (`""`, `"0.0.0"` and `"*"` all mean "no version").

use std::fmt;

use crate::invocation::ServiceTarget;
pub(crate) use crate::protocol::routed::Route;
use crate::protocol::routed::{RouteTable, Routes};

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
    routes: Routes,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

impl Router {
    /// The service exported under exactly this path, group and version.
    pub(crate) fn resolve(&self, path: &str, group: &str, version: &str) -> Option<Route> {
        let version = normalize_version(version);
        let routes = self.routes.read();
        routes
            .get(path)?
            .iter()
            .find(|r| r.target.group() == group && normalize_version(r.target.version()) == version)
            .cloned()
    }

    /// Service keys of every export (`group/path:version`), sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        let routes = self.routes.read();
        let mut keys: Vec<String> = routes
            .values()
            .flatten()
            .map(|r| r.target.service_key())
            .collect();
        keys.sort();
        keys
    }
}

impl RouteTable for Router {
    fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Same group and version, `""`, `"0.0.0"` and `"*"` being the same (no) version.
    fn same_export(a: &ServiceTarget, b: &ServiceTarget) -> bool {
        a.group() == b.group() && normalize_version(a.version()) == normalize_version(b.version())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::descriptor::ServiceDescriptor;
    use crate::invocation::{Invocation, Reply};
    use crate::invoker::BoxFuture;
    use crate::invoker::Invoker;
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
        router.add_export(
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
        router.remove_export(a);
        assert_eq!(router.resolve("pkg.Svc", "", "").map(|r| r.id), Some(b));
        router.remove_export(b);
        assert_eq!(router.keys(), ["g/pkg.Svc:1.0.0"]);
    }
}
