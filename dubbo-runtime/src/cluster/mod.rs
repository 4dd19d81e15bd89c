//! Cluster fault tolerance: one [`Invoker`] over many providers.
//!
//! A [`ClusterInvoker`] lists providers from a [`Directory`], picks one with a
//! [`loadbalance::LoadBalance`], and handles failures with a strategy chosen by
//! the reference URL parameter `cluster`:
//!
//! | `cluster=` | behaviour |
//! |---|---|
//! | `failover` (default) | retry on another provider, `retries` times (default 2) — only when the request certainly did not run, or for any error when the method is idempotent (`idempotent=true` or `<method>.idempotent=true`) |
//! | `failfast` | one attempt |
//! | `failsafe` | errors become an empty (default) reply, logged |
//! | `failback` | like failsafe, and the call is retried in the background (`failback.retries`, default 3; `failback.interval` ms, default 5000) |
//! | `forking` | `forks` providers (default 2) in parallel, first success wins |
//! | `broadcast` | every provider; fails if any fails |
//!
//! Parameters may be set per method as `<method>.<key>` (e.g. `SayHello.retries=0`).

mod directory;
pub mod loadbalance;
mod provider;
pub mod stats;
mod strategy;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use directory::Directory;
pub use provider::{DEFAULT_WARMUP_MS, DEFAULT_WEIGHT, Provider};
pub use strategy::Strategy;

use crate::error::Error;
use crate::invocation::{Invocation, Reply};
use crate::invoker::{BoxFuture, Invoker};
use crate::status::Status;
use crate::url::Url;
use loadbalance::LoadBalance;

/// Calls one of many providers with failover and load balancing.
pub struct ClusterInvoker {
    url: Url,
    directory: Arc<Directory>,
    strategy: Strategy,
    balancers: Mutex<HashMap<&'static str, Arc<dyn LoadBalance>>>,
    fixed_balancer: Option<Arc<dyn LoadBalance>>,
}

impl fmt::Debug for ClusterInvoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterInvoker")
            .field("url", &self.url)
            .field("strategy", &self.strategy)
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

/// A parameter for `method`: `<method>.<key>`, else `<key>`.
pub(crate) fn method_param<'a>(url: &'a Url, method: &str, key: &str) -> Option<&'a str> {
    url.param(&format!("{method}.{key}"))
        .or_else(|| url.param(key))
        .filter(|v| !v.is_empty())
}

fn balancer_for(url: &Url, method: &str) -> Result<Arc<dyn LoadBalance>, Error> {
    let name = method_param(url, method, "loadbalance").unwrap_or("random");
    if name == "consistenthash"
        && let Some(key) = method_param(url, method, "hash.attachment")
    {
        return Ok(Arc::new(loadbalance::ConsistentHash::on_attachment(key)));
    }
    loadbalance::by_name(name).ok_or_else(|| Error::config(format!("unknown loadbalance {name:?}")))
}

impl ClusterInvoker {
    /// A cluster over `directory`, configured by the directory's reference URL parameters
    /// (`cluster`, `loadbalance`, `retries`, …).
    pub fn new(directory: Directory) -> Result<ClusterInvoker, Error> {
        let url = directory.reference().clone();
        let strategy = Strategy::from_url(&url)?;
        // Validate the reference-level balancer now; per-method ones resolve on first use.
        balancer_for(&url, "")?;
        Ok(ClusterInvoker {
            url,
            directory: Arc::new(directory),
            strategy,
            balancers: Mutex::new(HashMap::new()),
            fixed_balancer: None,
        })
    }

    /// A cluster with an explicit strategy and balancer (tests, custom setups).
    pub fn with(
        directory: Directory,
        strategy: Strategy,
        balancer: Arc<dyn LoadBalance>,
    ) -> ClusterInvoker {
        ClusterInvoker {
            url: directory.reference().clone(),
            directory: Arc::new(directory),
            strategy,
            balancers: Mutex::new(HashMap::new()),
            fixed_balancer: Some(balancer),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    fn balancer(&self, method: &'static str) -> Arc<dyn LoadBalance> {
        if let Some(b) = &self.fixed_balancer {
            return Arc::clone(b);
        }
        let mut balancers = self.balancers.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(balancers.entry(method).or_insert_with(|| {
            balancer_for(&self.url, method)
                .unwrap_or_else(|_| Arc::new(loadbalance::WeightedRandom::default()))
        }))
    }
}

impl Invoker for ClusterInvoker {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        let method = invocation.method().name;
        let context = strategy::Context {
            directory: Arc::clone(&self.directory),
            balancer: self.balancer(method),
            retries: method_param(&self.url, method, "retries")
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
            idempotent: method_param(&self.url, method, "idempotent") == Some("true"),
            forks: method_param(&self.url, method, "forks")
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
            failback_retries: method_param(&self.url, method, "failback.retries")
                .and_then(|v| v.parse().ok())
                .unwrap_or(3),
            failback_interval: Duration::from_millis(
                method_param(&self.url, method, "failback.interval")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(5000),
            ),
        };
        Box::pin(self.strategy.run(context, invocation))
    }

    fn is_available(&self) -> bool {
        self.directory
            .list()
            .iter()
            .any(|p| p.invoker().is_available())
    }

    fn destroy(&self) {
        for p in self.directory.list().iter() {
            p.invoker().destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancers_are_chosen_per_reference_and_per_method() {
        let url = Url::parse(
            "consumer://h/svc?loadbalance=roundrobin&SayHello.loadbalance=leastactive\
             &Lookup.loadbalance=consistenthash&Lookup.hash.attachment=x-user",
        )
        .unwrap();
        assert!(format!("{:?}", balancer_for(&url, "Other").unwrap()).starts_with("RoundRobin"));
        assert!(
            format!("{:?}", balancer_for(&url, "SayHello").unwrap()).starts_with("LeastActive")
        );
        let lookup = format!("{:?}", balancer_for(&url, "Lookup").unwrap());
        assert!(lookup.contains("x-user"), "{lookup}");
        let bad = Url::parse("consumer://h/svc?loadbalance=fastest").unwrap();
        assert!(balancer_for(&bad, "").is_err());
        assert!(ClusterInvoker::new(Directory::fixed(Vec::new())).is_ok());
    }
}
