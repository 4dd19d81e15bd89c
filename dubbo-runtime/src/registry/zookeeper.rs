//! ZooKeeper registry with the layout Java and Go Dubbo use:
//!
//! ```text
//! /dubbo/{URL-encoded interface}/providers/{URL-encoded provider URL}   (ephemeral)
//! /dubbo/{URL-encoded interface}/consumers/{URL-encoded consumer URL}   (ephemeral)
//! ```
//!
//! The root is `/` + the registry URL's `group` parameter (default `dubbo`). Node names are
//! encoded like Java's `URLEncoder` and decoded leniently (Go's `QueryEscape` too). An existing
//! node is deleted and created again (a restart within the old session's lifetime). After a
//! session expiry a new session is made and every registration and subscription is restored.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use zookeeper_client as zk;

use super::{Registry, StopOnDrop, Subscription, is_match};
use crate::error::{Error, ErrorKind};
use crate::invoker::BoxFuture;
use crate::url::{self, Url};

/// A registry backed by a ZooKeeper ensemble.
///
/// URL parameters: `backup=host:port,…` (more servers), `group` (root node, default `dubbo`),
/// `session` (session timeout in ms, default 60000), `timeout` (connect timeout in ms,
/// default 5000).
pub struct ZookeeperRegistry {
    url: Url,
    shared: Arc<Shared>,
}

struct Shared {
    cluster: String,
    root: String,
    session_timeout: Duration,
    connect_timeout: Duration,
    /// The live session; `None` while reconnecting or after destroy.
    client: watch::Sender<Option<zk::Client>>,
    registered: Mutex<Vec<Url>>,
    closed: AtomicBool,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for ZookeeperRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZookeeperRegistry")
            .field("cluster", &self.shared.cluster)
            .field("root", &self.shared.root)
            .finish_non_exhaustive()
    }
}

fn zk_error(context: impl Into<String>, err: zk::Error) -> Error {
    Error::new(ErrorKind::Io, context).with_source(err)
}

fn persistent() -> zk::CreateOptions<'static> {
    zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all())
}

fn ephemeral() -> zk::CreateOptions<'static> {
    zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all())
}

impl Shared {
    fn service_path(&self, interface: &str) -> String {
        format!("{}/{}", self.root, url::encode(interface))
    }

    fn category_of(url: &Url) -> &'static str {
        let consumer = url.protocol() == "consumer"
            || url.param("side") == Some("consumer")
            || url.param("category") == Some("consumers");
        if consumer { "consumers" } else { "providers" }
    }

    fn node_path(&self, url: &Url) -> (String, String) {
        let dir = format!(
            "{}/{}",
            self.service_path(url.interface()),
            Shared::category_of(url)
        );
        let node = format!("{dir}/{}", url::encode(&url.to_string()));
        (dir, node)
    }

    async fn connect_session(&self) -> Result<zk::Client, Error> {
        let connect = zk::Client::connector()
            .with_session_timeout(self.session_timeout)
            .with_connection_timeout(self.connect_timeout)
            .connect(&self.cluster);
        match tokio::time::timeout(self.connect_timeout + Duration::from_secs(1), connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(err)) => Err(zk_error(
                format!("cannot connect to ZooKeeper at {}", self.cluster),
                err,
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("connecting to ZooKeeper at {} timed out", self.cluster),
            )),
        }
    }

    /// Waits for a live session (or `None` once destroyed).
    async fn live_client(&self) -> Option<zk::Client> {
        let mut rx = self.client.subscribe();
        loop {
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            if let Some(client) = rx.borrow_and_update().clone() {
                return Some(client);
            }
            if rx.changed().await.is_err() {
                return None;
            }
        }
    }

    async fn create_node(client: &zk::Client, url: &Url, shared: &Shared) -> Result<(), Error> {
        let (dir, node) = shared.node_path(url);
        client
            .mkdir(&dir, &persistent())
            .await
            .map_err(|e| zk_error(format!("cannot create {dir}"), e))?;
        let data = url.host().as_bytes().to_vec();
        match client.create(&node, &data, &ephemeral()).await {
            Ok(_) => Ok(()),
            Err(zk::Error::NodeExists) => {
                // Left over from an earlier session of ours (a restart within its timeout):
                // replace it so it belongs to this session.
                match client.delete(&node, None).await {
                    Ok(()) | Err(zk::Error::NoNode) => {}
                    Err(e) => return Err(zk_error(format!("cannot replace {node}"), e)),
                }
                client
                    .create(&node, &data, &ephemeral())
                    .await
                    .map(drop)
                    .map_err(|e| zk_error(format!("cannot create {node}"), e))
            }
            Err(e) => Err(zk_error(format!("cannot create {node}"), e)),
        }
    }

    /// Restores every registration on a new session.
    async fn reregister(&self, client: &zk::Client) {
        let urls = self
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for url in urls {
            if let Err(err) = Shared::create_node(client, &url, self).await {
                tracing::warn!(%url, error = %err, "re-registration failed");
            }
        }
    }
}

/// Replaces expired sessions and restores registrations; subscription loops pick up the new
/// session on their own.
async fn supervise(shared: Arc<Shared>, first: zk::Client) {
    let mut client = first;
    loop {
        let mut states = client.state_watcher();
        loop {
            let state = states.changed().await;
            if shared.closed.load(Ordering::Acquire) {
                return;
            }
            match state {
                zk::SessionState::Expired
                | zk::SessionState::Closed
                | zk::SessionState::AuthFailed => break,
                zk::SessionState::Disconnected => {
                    tracing::debug!(cluster = %shared.cluster, "ZooKeeper disconnected; the client reconnects")
                }
                _ => {}
            }
        }
        tracing::warn!(cluster = %shared.cluster, "ZooKeeper session ended; starting a new one");
        let _ = shared.client.send_replace(None);
        let mut backoff = Duration::from_millis(100);
        client = loop {
            if shared.closed.load(Ordering::Acquire) {
                return;
            }
            match shared.connect_session().await {
                Ok(client) => break client,
                Err(err) => {
                    tracing::warn!(error = %err, "ZooKeeper reconnect failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        shared.reregister(&client).await;
        let _ = shared.client.send_replace(Some(client.clone()));
    }
}

/// Keeps `tx` equal to the matching providers under `path`, across sessions.
async fn watch_providers(
    shared: Arc<Shared>,
    path: String,
    consumer: Url,
    tx: watch::Sender<Arc<Vec<Url>>>,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    let mut ready = ready;
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(client) = shared.live_client().await else {
            return;
        };
        if let Err(err) = client.mkdir(&path, &persistent()).await {
            tracing::debug!(%path, error = %err, "cannot create providers node");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        }
        match client.get_and_watch_children(&path).await {
            Ok((children, _stat, watcher)) => {
                backoff = Duration::from_millis(50);
                let mut providers: Vec<Url> = children
                    .iter()
                    .filter_map(|child| {
                        let decoded = url::decode(child);
                        match Url::parse(&decoded) {
                            Ok(url) => Some(url),
                            Err(err) => {
                                tracing::debug!(node = %child, error = %err, "skipping an unparsable provider node");
                                None
                            }
                        }
                    })
                    .filter(|p| is_match(&consumer, p))
                    .collect();
                providers.sort_by_key(|u| u.to_string());
                tx.send_if_modified(|current| {
                    if **current == providers {
                        false
                    } else {
                        *current = Arc::new(providers);
                        true
                    }
                });
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                if tx.is_closed() {
                    return;
                }
                let event = watcher.changed().await;
                tracing::trace!(?event, %path, "providers changed");
            }
            Err(err) => {
                tracing::debug!(%path, error = %err, "cannot list providers");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

impl ZookeeperRegistry {
    /// Connects to the ensemble a `zookeeper://` URL names.
    pub async fn connect(url: Url) -> Result<ZookeeperRegistry, Error> {
        if url.port() == 0 {
            return Err(Error::config(format!(
                "{url}: ZooKeeper address needs a port"
            )));
        }
        let mut cluster = url.address();
        if let Some(backup) = url.param("backup").filter(|b| !b.is_empty()) {
            cluster.push(',');
            cluster.push_str(backup);
        }
        let group = url.param_or("group", "dubbo");
        let root = format!("/{}", group.trim_matches('/'));
        let session_timeout = Duration::from_millis(url.param_u64("session").unwrap_or(60_000));
        let connect_timeout = Duration::from_millis(url.param_u64("timeout").unwrap_or(5_000));
        let (client_tx, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            cluster,
            root,
            session_timeout,
            connect_timeout,
            client: client_tx,
            registered: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            supervisor: Mutex::new(None),
        });
        let client = shared.connect_session().await?;
        let _ = shared.client.send_replace(Some(client.clone()));
        let supervisor = tokio::spawn(supervise(Arc::clone(&shared), client));
        *shared.supervisor.lock().unwrap_or_else(|e| e.into_inner()) = Some(supervisor);
        Ok(ZookeeperRegistry { url, shared })
    }
}

impl Drop for ZookeeperRegistry {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        if let Some(task) = self
            .shared
            .supervisor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
        let _ = self.shared.client.send_replace(None);
    }
}

impl Registry for ZookeeperRegistry {
    fn url(&self) -> &Url {
        &self.url
    }

    fn register(&self, url: Url) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            if url.interface().is_empty() {
                return Err(Error::config(format!(
                    "cannot register {url}: no interface"
                )));
            }
            let client = self
                .shared
                .live_client()
                .await
                .ok_or_else(|| Error::new(ErrorKind::Closed, "registry destroyed"))?;
            {
                let mut registered = self
                    .shared
                    .registered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if !registered.contains(&url) {
                    registered.push(url.clone());
                }
            }
            Shared::create_node(&client, &url, &self.shared).await
        })
    }

    fn unregister(&self, url: Url) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            self.shared
                .registered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|u| u != &url);
            let Some(client) = self.shared.client.borrow().clone() else {
                return Ok(());
            };
            let (_, node) = self.shared.node_path(&url);
            match client.delete(&node, None).await {
                Ok(()) | Err(zk::Error::NoNode) => Ok(()),
                Err(e) => Err(zk_error(format!("cannot delete {node}"), e)),
            }
        })
    }

    fn subscribe(&self, consumer: Url) -> BoxFuture<'_, Result<Subscription, Error>> {
        Box::pin(async move {
            let interface = consumer.interface();
            if interface.is_empty() || interface == "*" {
                return Err(Error::config(
                    "subscribing to every interface (*) is not supported",
                ));
            }
            let path = format!("{}/providers", self.shared.service_path(interface));
            let (tx, rx) = watch::channel(Arc::new(Vec::new()));
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            let task = tokio::spawn(watch_providers(
                Arc::clone(&self.shared),
                path,
                consumer,
                tx,
                Some(ready_tx),
            ));
            // The first listing is part of subscribing; later ones arrive as changes.
            let _ = tokio::time::timeout(self.shared.connect_timeout, ready_rx).await;
            let stop = StopOnDrop(Some(Box::new(move || task.abort())));
            Ok(Subscription::new(rx, Some(stop)))
        })
    }

    fn destroy(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let urls: Vec<Url> = std::mem::take(
                &mut *self
                    .shared
                    .registered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            let client = self.shared.client.borrow().clone();
            if let Some(client) = client {
                for url in urls {
                    let (_, node) = self.shared.node_path(&url);
                    if let Err(err) = client.delete(&node, None).await
                        && !matches!(err, zk::Error::NoNode)
                    {
                        tracing::warn!(%node, error = %err, "cannot unregister on destroy");
                    }
                }
            }
            self.shared.closed.store(true, Ordering::Release);
            if let Some(task) = self
                .shared
                .supervisor
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                task.abort();
            }
            let _ = self.shared.client.send_replace(None);
        })
    }
}
