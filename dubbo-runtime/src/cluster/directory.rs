//! The live provider list of one reference: follows a registry subscription, keeps one
//! invoker per provider (connections are shared per address by the protocols) and keeps each
//! provider's statistics across updates.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::provider::Provider;
use crate::error::Error;
use crate::protocol::Protocols;
use crate::registry::{Registry, Subscription};
use crate::url::Url;

/// Reference parameters that also apply to each provider connection.
const INHERITED: &[&str] = &[
    "application",
    "connect.timeout",
    "compression",
    "max.message.size",
    "tls",
];

/// The providers a reference can call.
pub struct Directory {
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
    _registry: Option<Arc<dyn Registry>>,
}

struct Shared {
    reference: Url,
    protocols: Protocols,
    providers: RwLock<Arc<Vec<Provider>>>,
    changes: watch::Sender<usize>,
}

impl fmt::Debug for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Directory")
            .field("reference", &self.shared.reference)
            .field("providers", &self.list())
            .finish()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Shared {
    fn set(&self, providers: Vec<Provider>) {
        let count = providers.len();
        *self.providers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(providers);
        self.changes.send_replace(count);
    }

    fn current(&self) -> Arc<Vec<Provider>> {
        Arc::clone(&self.providers.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Rebuilds the list for `urls`, reusing invokers and statistics of known providers.
    async fn refresh(&self, urls: &[Url]) {
        let current = self.current();
        let mut next = Vec::with_capacity(urls.len());
        for url in urls {
            if let Some(same) = current.iter().find(|p| p.url() == url) {
                next.push(same.clone());
                continue;
            }
            let mut target = url.clone();
            for key in INHERITED {
                if let Some(value) = self.reference.param(key) {
                    target.set_param(*key, value);
                }
            }
            target.set_param("lazy", "true");
            let protocol = match self.protocols.get(url.protocol()) {
                Ok(p) => p,
                Err(err) => {
                    tracing::warn!(%url, error = %err, "skipping a provider with an unsupported protocol");
                    continue;
                }
            };
            let invoker = match protocol.refer(target).await {
                Ok(invoker) => invoker,
                Err(err) => {
                    tracing::warn!(%url, error = %err, "skipping a provider that cannot be referred");
                    continue;
                }
            };
            let provider = Provider::new(url.clone(), invoker);
            // The same address and path as before (a re-registration with new parameters)
            // keeps its statistics.
            let provider = match current.iter().find(|p| p.key() == provider.key()) {
                Some(old) => Provider::with_stats(
                    url.clone(),
                    Arc::clone(provider.invoker()),
                    Arc::clone(old.stats()),
                ),
                None => provider,
            };
            next.push(provider);
        }
        for gone in current
            .iter()
            .filter(|p| !next.iter().any(|n| n.url() == p.url()))
        {
            tracing::info!(provider = %gone.url().address(), "provider left");
            gone.invoker().destroy();
        }
        self.set(next);
    }
}

impl Directory {
    /// A directory following `subscription` (providers from `registry`). Provider invokers
    /// are made by `protocols` and inherit connection settings from `reference`.
    pub async fn subscribe(
        registry: Arc<dyn Registry>,
        mut subscription: Subscription,
        reference: Url,
        protocols: Protocols,
    ) -> Result<Directory, Error> {
        let (changes, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            reference,
            protocols,
            providers: RwLock::new(Arc::new(Vec::new())),
            changes,
        });
        shared.refresh(&subscription.current()).await;
        let task_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok(urls) = subscription.changed().await {
                task_shared.refresh(&urls).await;
            }
        });
        Ok(Directory {
            shared,
            task: Some(task),
            _registry: Some(registry),
        })
    }

    /// A directory with a fixed provider list.
    pub fn fixed(providers: Vec<Provider>) -> Directory {
        let (changes, _) = watch::channel(providers.len());
        Directory {
            shared: Arc::new(Shared {
                reference: Url::new("static", "", 0),
                protocols: Protocols::new(),
                providers: RwLock::new(Arc::new(providers)),
                changes,
            }),
            task: None,
            _registry: None,
        }
    }

    /// The providers now.
    pub fn list(&self) -> Arc<Vec<Provider>> {
        self.shared.current()
    }

    /// The reference URL (cluster and balancing parameters).
    pub fn reference(&self) -> &Url {
        &self.shared.reference
    }

    /// Waits up to `timeout` until at least one provider is listed.
    pub async fn wait_for_providers(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.changes.subscribe();
        let wait = rx.wait_for(|count| *count > 0);
        matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_)))
    }
}
