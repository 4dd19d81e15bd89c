//! The high-level server: add services, export them on a URL, serve until a signal.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::invoker::Exporter;
use crate::protocol::Protocols;
use crate::service::{Service, ServiceInvoker};
use crate::triple::{TripleConfig, TripleProtocol};
use crate::url::{IntoUrl, Url};

/// Entry point: `Server::builder()`.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Starts building a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }
}

/// Per-service export options: Dubbo version and group.
///
/// ```
/// use dubbo_runtime::ServiceOptions;
/// let options = ServiceOptions::new().version("1.0.0").group("blue");
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ServiceOptions {
    version: Option<String>,
    group: Option<String>,
}

impl ServiceOptions {
    /// No version, no group.
    pub fn new() -> ServiceOptions {
        ServiceOptions::default()
    }

    /// The service version.
    pub fn version(mut self, version: impl Into<String>) -> ServiceOptions {
        self.version = Some(version.into()).filter(|v: &String| !v.is_empty());
        self
    }

    /// The service group.
    pub fn group(mut self, group: impl Into<String>) -> ServiceOptions {
        self.group = Some(group.into()).filter(|g: &String| !g.is_empty());
        self
    }
}

/// Builds and runs a server.
///
/// ```no_run
/// # use dubbo_runtime::{Server, ServiceOptions};
/// # async fn run(greeter: impl dubbo_runtime::Service) -> Result<(), dubbo_runtime::Error> {
/// Server::builder()
///     .application("greeter-provider")
///     .add_service_with(greeter, ServiceOptions::new().version("1.0.0"))
///     .serve("tri://0.0.0.0:50051") // until SIGINT/SIGTERM, then graceful shutdown
///     .await
/// # }
/// ```
#[must_use]
pub struct ServerBuilder {
    services: Vec<(Arc<dyn Service>, ServiceOptions)>,
    triple: TripleConfig,
    dubbo2: crate::dubbo2::Dubbo2Config,
    protocols: Option<Protocols>,
    application: Option<String>,
    registries: Vec<String>,
    advertise_host: Option<String>,
    offline_wait: Duration,
    params: Vec<(String, String)>,
}

impl Default for ServerBuilder {
    fn default() -> ServerBuilder {
        ServerBuilder {
            services: Vec::new(),
            triple: TripleConfig::default(),
            dubbo2: crate::dubbo2::Dubbo2Config::default(),
            protocols: None,
            application: None,
            registries: Vec::new(),
            advertise_host: None,
            offline_wait: Duration::from_secs(2),
            params: Vec::new(),
        }
    }
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field(
                "services",
                &self
                    .services
                    .iter()
                    .map(|(s, _)| s.descriptor().name)
                    .collect::<Vec<_>>(),
            )
            .field("triple", &self.triple)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Adds a service with no version or group.
    pub fn add_service(self, service: impl Service) -> ServerBuilder {
        self.add_service_with(service, ServiceOptions::default())
    }

    /// Adds a service with a version and/or group.
    pub fn add_service_with(
        mut self,
        service: impl Service,
        options: ServiceOptions,
    ) -> ServerBuilder {
        self.services.push((Arc::new(service), options));
        self
    }

    /// Triple settings (limits, HTTP/2 parameters, grace period).
    pub fn triple_config(mut self, config: TripleConfig) -> ServerBuilder {
        self.triple = config;
        self
    }

    /// Dubbo2 settings (payload limit, heartbeats, grace period) for `dubbo://` URLs.
    pub fn dubbo2_config(mut self, config: crate::dubbo2::Dubbo2Config) -> ServerBuilder {
        self.dubbo2 = config;
        self
    }

    /// Serves TLS (and mTLS when `tls` has a client CA). Same as setting
    /// [`TripleConfig::server_tls`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::ServerTlsConfig) -> ServerBuilder {
        self.triple.server_tls = Some(tls);
        self
    }

    /// The provider's application name (sent to registries).
    pub fn application(mut self, name: impl Into<String>) -> ServerBuilder {
        self.application = Some(name.into());
        self
    }

    /// Registers every exported service in this registry (`zookeeper://host:port`); on
    /// shutdown the registrations go first, then the server waits
    /// [`offline_wait`](Self::offline_wait) for consumers to notice before draining.
    pub fn registry(mut self, url: impl Into<String>) -> ServerBuilder {
        self.registries.push(url.into());
        self
    }

    /// The host to register (default: the bind host, or this machine's address when binding
    /// a wildcard address).
    pub fn advertise_host(mut self, host: impl Into<String>) -> ServerBuilder {
        self.advertise_host = Some(host.into());
        self
    }

    /// How long to keep serving after unregistering, before draining (default 2 s).
    pub fn offline_wait(mut self, wait: Duration) -> ServerBuilder {
        self.offline_wait = wait;
        self
    }

    /// Adds a parameter to every registered provider URL (e.g. `weight`, `warmup`,
    /// `timeout`, `loadbalance`).
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> ServerBuilder {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Uses these protocol instances instead of fresh ones built from this builder's settings.
    pub fn protocols(mut self, protocols: Protocols) -> ServerBuilder {
        self.protocols = Some(protocols);
        self
    }

    /// Exports every service on `url` (`tri://127.0.0.1:0`, or `dubbo://…` for Dubbo2) and
    /// returns at once.
    pub async fn start(self, url: impl IntoUrl) -> Result<ServerHandle, Error> {
        let mut base = url.into_url()?;
        if self.services.is_empty() {
            return Err(Error::config("no services were added to the server"));
        }
        let protocols = self.protocols.unwrap_or_else(|| {
            let protocols = Protocols::new();
            protocols.register(Arc::new(TripleProtocol::new(self.triple)));
            protocols.register(Arc::new(crate::dubbo2::Dubbo2Protocol::new(self.dubbo2)));
            protocols
        });
        let protocol = protocols.get(base.protocol())?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut exporters = Vec::with_capacity(self.services.len());
        for (service, options) in self.services {
            let descriptor = service.descriptor();
            let mut url = base.clone().with_path(descriptor.name);
            url.set_param("interface", descriptor.name);
            url.set_param("methods", descriptor.method_names());
            url.set_param("side", "provider");
            url.set_param("dubbo", "2.0.2");
            url.set_param("release", env!("CARGO_PKG_VERSION"));
            url.set_param("timestamp", timestamp.to_string());
            if let Some(app) = &self.application {
                url.set_param("application", app.clone());
            }
            if let Some(v) = &options.version {
                url.set_param("version", v.clone());
            }
            if let Some(g) = &options.group {
                url.set_param("group", g.clone());
            }
            for (k, v) in &self.params {
                url.set_param(k.clone(), v.clone());
            }
            let invoker = Arc::new(ServiceInvoker::new(url, service));
            let exporter = match protocol.export(invoker).await {
                Ok(e) => e,
                Err(err) => {
                    protocols.destroy_all().await;
                    return Err(err);
                }
            };
            // Later services share the listener the first one bound (port 0 resolved).
            let host = base.host().to_owned();
            base.set_address(host, exporter.url().port());
            exporters.push(exporter);
        }
        let local_addr = resolve_local(&base)?;
        let host = self
            .advertise_host
            .clone()
            .unwrap_or_else(|| crate::registry::advertised_host(base.host()));
        let mut registrations: Vec<(Arc<dyn crate::registry::Registry>, Url)> = Vec::new();
        for registry_url in &self.registries {
            let registry = match crate::registry::connect(&Url::parse(registry_url)?).await {
                Ok(r) => r,
                Err(err) => {
                    protocols.destroy_all().await;
                    return Err(err);
                }
            };
            for exporter in &exporters {
                let mut url = crate::registry::provider_url(exporter.url());
                let port = url.port();
                url.set_address(host.clone(), port);
                if let Err(err) = registry.register(url.clone()).await {
                    for (r, u) in &registrations {
                        let _ = r.unregister(u.clone()).await;
                    }
                    protocols.destroy_all().await;
                    return Err(err);
                }
                tracing::info!(%url, "registered");
                registrations.push((Arc::clone(&registry), url));
            }
        }
        Ok(ServerHandle {
            exporters,
            protocols,
            url: base,
            local_addr,
            registrations,
            offline_wait: self.offline_wait,
        })
    }

    /// Exports every service and serves until `signal` resolves, then shuts down gracefully.
    pub async fn serve_with_shutdown(
        self,
        url: impl IntoUrl,
        signal: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let handle = self.start(url).await?;
        signal.await;
        handle.shutdown().await;
        Ok(())
    }

    /// Exports every service and serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn serve(self, url: impl IntoUrl) -> Result<(), Error> {
        self.serve_with_shutdown(url, async {
            let signal = crate::shutdown::signal().await;
            tracing::info!(%signal, "shutting down");
        })
        .await
    }
}

fn resolve_local(url: &Url) -> Result<SocketAddr, Error> {
    use std::net::ToSocketAddrs as _;
    (url.host(), url.port())
        .to_socket_addrs()
        .map_err(|e| Error::io(format!("cannot resolve {}", url.address()), e))?
        .next()
        .ok_or_else(|| Error::config(format!("{} resolves to no address", url.address())))
}

/// A running server.
pub struct ServerHandle {
    exporters: Vec<Arc<dyn Exporter>>,
    protocols: Protocols,
    url: Url,
    local_addr: SocketAddr,
    registrations: Vec<(Arc<dyn crate::registry::Registry>, Url)>,
    offline_wait: Duration,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("url", &self.url)
            .field("exporters", &self.exporters)
            .finish()
    }
}

impl ServerHandle {
    /// The bound address (with the real port when port 0 was requested).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL with the bound port.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// One exporter per service, in the order the services were added.
    pub fn exporters(&self) -> &[Arc<dyn Exporter>] {
        &self.exporters
    }

    /// The protocol instances serving.
    pub fn protocols(&self) -> &Protocols {
        &self.protocols
    }

    /// The provider URLs registered in registries.
    pub fn registered_urls(&self) -> Vec<Url> {
        self.registrations.iter().map(|(_, u)| u.clone()).collect()
    }

    /// Graceful offline: unregister from registries, keep serving for the offline wait so
    /// consumers notice, then stop accepting, GOAWAY, let in-flight calls finish within the
    /// grace period, and close.
    pub async fn shutdown(self) {
        if !self.registrations.is_empty() {
            for (registry, url) in &self.registrations {
                if let Err(err) = registry.unregister(url.clone()).await {
                    tracing::warn!(%url, error = %err, "unregister failed");
                }
            }
            tracing::info!(wait = ?self.offline_wait, "unregistered; waiting for consumers to notice");
            tokio::time::sleep(self.offline_wait).await;
        }
        self.protocols.destroy_all().await;
    }
}
