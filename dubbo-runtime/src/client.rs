//! The typed client layer under generated `XxxClient` stubs.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::StreamExt as _;

use crate::call::{Request, Response, Streaming};
use crate::descriptor::{MethodDescriptor, ServiceDescriptor};
use crate::error::Error;
use crate::invocation::{Body, Invocation, Reply, ServiceTarget};
use crate::invoker::Invoker;
use crate::message::{Message, Payload, StreamItem};
use crate::protocol::Protocols;
use crate::status::Status;
use crate::url::{IntoUrl, Url, UrlError};

/// Implemented by generated clients so [`ClientBuilder`] can build them.
pub trait ClientStub: Sized {
    /// The service the stub calls.
    const SERVICE: &'static ServiceDescriptor;
    /// Wraps a configured [`Client`].
    fn from_client(client: Client) -> Self;
}

/// A cheap-to-clone handle that makes typed calls through an [`Invoker`]. Generated clients
/// wrap one. All methods take `&self`, so one client can serve many concurrent calls.
#[derive(Clone)]
pub struct Client {
    invoker: Arc<dyn Invoker>,
    target: Arc<ServiceTarget>,
    timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.target)
            .field("invoker", &self.invoker)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Client {
    /// A client calling `target` through `invoker`.
    pub fn new(invoker: Arc<dyn Invoker>, target: ServiceTarget) -> Client {
        Client {
            invoker,
            target: Arc::new(target),
            timeout: None,
        }
    }

    /// Sets the default timeout for calls that do not set their own.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Client {
        self.timeout = timeout;
        self
    }

    /// The invoker calls go through.
    pub fn invoker(&self) -> &Arc<dyn Invoker> {
        &self.invoker
    }

    /// The service instance calls are addressed to.
    pub fn target(&self) -> &ServiceTarget {
        &self.target
    }

    fn invocation<T>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<T>,
        body: impl FnOnce(T, Option<bool>) -> Body,
    ) -> Invocation {
        let (metadata, message, compression, timeout) = request.into_client_parts();
        let mut invocation = Invocation::new(
            Arc::clone(&self.target),
            method,
            metadata,
            body(message, compression),
        );
        if let Some(timeout) = timeout.or(self.timeout) {
            invocation.set_deadline(Some(Instant::now() + timeout));
        }
        invocation
    }

    async fn call(&self, invocation: Invocation) -> Result<Reply, Status> {
        self.invoker.invoke(invocation).await
    }

    /// One request, one reply.
    pub async fn unary<Req: Message, Resp: Message>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status> {
        let invocation = self.invocation(method, request, unary_body);
        let reply = self.call(invocation).await?;
        unary_response(reply).await
    }

    /// One request, a stream of replies.
    pub async fn server_streaming<Req: Message, Resp: Message>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<Req>,
    ) -> Result<Response<Streaming<Resp>>, Status> {
        let invocation = self.invocation(method, request, unary_body);
        let reply = self.call(invocation).await?;
        Ok(streaming_response(reply))
    }

    /// A stream of requests, one reply.
    pub async fn client_streaming<S, Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<S>,
    ) -> Result<Response<Resp>, Status>
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        let invocation = self.invocation(method, request, stream_body);
        let reply = self.call(invocation).await?;
        unary_response(reply).await
    }

    /// Streams both ways.
    pub async fn bidi_streaming<S, Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<S>,
    ) -> Result<Response<Streaming<Resp>>, Status>
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        let invocation = self.invocation(method, request, stream_body);
        let reply = self.call(invocation).await?;
        Ok(streaming_response(reply))
    }
}

fn unary_body<Req: Message>(message: Req, compression: Option<bool>) -> Body {
    Body::Unary(Payload::typed(message).with_compression(compression))
}

fn stream_body<S, Req>(stream: S, _compression: Option<bool>) -> Body
where
    S: Stream<Item = Req> + Send + 'static,
    Req: Message,
{
    Body::Stream(Box::pin(
        stream.map(|m| Ok(StreamItem::Message(Payload::typed(m)))),
    ))
}

async fn unary_response<Resp: Message>(reply: Reply) -> Result<Response<Resp>, Status> {
    let Reply {
        headers,
        body,
        trailers,
        ..
    } = reply;
    let message = body.into_unary().await?.decode::<Resp>()?;
    Ok(Response::from_parts(headers, message, trailers))
}

fn streaming_response<Resp: Message>(reply: Reply) -> Response<Streaming<Resp>> {
    let Reply {
        headers,
        body,
        trailers,
        ..
    } = reply;
    Response::from_parts(headers, Streaming::new(body.into_stream()), trailers)
}

/// Builds a generated client: where to connect and how to call.
///
/// ```no_run
/// # use dubbo_runtime::client::{ClientBuilder, ClientStub, Client};
/// # use dubbo_runtime::descriptor::ServiceDescriptor;
/// # struct GreeterClient(Client);
/// # static SERVICE: ServiceDescriptor = ServiceDescriptor { name: "x.Greeter", methods: &[] };
/// # impl ClientStub for GreeterClient {
/// #     const SERVICE: &'static ServiceDescriptor = &SERVICE;
/// #     fn from_client(c: Client) -> Self { GreeterClient(c) }
/// # }
/// # async fn run() -> Result<(), dubbo_runtime::Error> {
/// use std::time::Duration;
/// let client: GreeterClient = ClientBuilder::new("tri://127.0.0.1:50051")
///     .version("1.0.0")
///     .group("blue")
///     .timeout(Duration::from_secs(3))
///     .application("my-consumer")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ClientBuilder<C> {
    url: Result<Url, UrlError>,
    version: Option<String>,
    group: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    application: Option<String>,
    compression: Option<String>,
    max_message_size: Option<usize>,
    lazy: bool,
    check: bool,
    params: Vec<(String, String)>,
    providers: Option<Vec<Url>>,
    protocols: Option<Protocols>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ClientTlsConfig>,
    _stub: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("version", &self.version)
            .field("group", &self.group)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<C: ClientStub> ClientBuilder<C> {
    /// Starts a builder for the provider (or registry) at `url`.
    pub fn new(url: impl IntoUrl) -> ClientBuilder<C> {
        ClientBuilder {
            url: url.into_url(),
            version: None,
            group: None,
            timeout: None,
            connect_timeout: None,
            application: None,
            compression: None,
            max_message_size: None,
            lazy: false,
            check: true,
            params: Vec::new(),
            providers: None,
            protocols: None,
            #[cfg(feature = "tls")]
            tls: None,
            _stub: PhantomData,
        }
    }

    /// The service version to call (`tri-service-version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The service group to call (`tri-service-group`).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Default timeout for each call (none by default; a call's own timeout wins).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long connecting may take before calls fail with `UNAVAILABLE` (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// This consumer's application name (`tri-consumer-appname`).
    pub fn application(mut self, name: impl Into<String>) -> Self {
        self.application = Some(name.into());
        self
    }

    /// Compress request messages with `gzip`.
    pub fn send_gzip(mut self) -> Self {
        self.compression = Some("gzip".to_owned());
        self
    }

    /// Largest reply message accepted (default 4 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Calls any of these providers (a static list, no registry needed), with load
    /// balancing and failover like registry-discovered providers. The builder's own URL is
    /// then not used.
    pub fn providers(mut self, urls: impl IntoIterator<Item = Url>) -> Self {
        self.providers = Some(urls.into_iter().collect());
        self
    }

    /// Fault-tolerance strategy: `failover` (default), `failfast`, `failsafe`, `failback`,
    /// `forking`, `broadcast` (see [`cluster`](crate::cluster)).
    pub fn cluster(self, strategy: &str) -> Self {
        self.param("cluster", strategy)
    }

    /// Load balancer: `random` (default), `roundrobin`, `leastactive`, `consistenthash`,
    /// `p2c`, `shortestresponse`.
    pub fn loadbalance(self, name: &str) -> Self {
        self.param("loadbalance", name)
    }

    /// How many other providers failover tries after a failure (default 2).
    pub fn retries(self, retries: u32) -> Self {
        self.param("retries", retries.to_string())
    }

    /// Marks `method` idempotent (or every method with `"*"`): failover then retries it after
    /// any error, not only when the request certainly did not run.
    pub fn idempotent(self, method: &str) -> Self {
        if method == "*" {
            self.param("idempotent", "true")
        } else {
            self.param(format!("{method}.idempotent"), "true")
        }
    }

    /// Only use providers speaking this protocol (`tri` or `dubbo`) from a registry.
    pub fn protocol(self, name: &str) -> Self {
        self.param("protocol", name)
    }

    /// Whether `connect` fails when a registry lists no provider (default true).
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }

    /// Sets any reference URL parameter (Dubbo-style, e.g. `SayHello.retries=0`).
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Do not connect until the first call.
    pub fn lazy(mut self) -> Self {
        self.lazy = true;
        self
    }

    /// TLS settings (trusted CAs, client identity for mTLS, server-name override). The URL
    /// selects TLS: `tris://host:port` (or `tls=true`). Ignored when
    /// [`protocols`](Self::protocols) is set: configure TLS in that protocol's `TripleConfig`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::ClientTlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Use these protocol instances instead of the process-wide defaults.
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.protocols = Some(protocols);
        self
    }

    fn registry_mode(&self) -> Result<bool, Error> {
        Ok(self.providers.is_some()
            || crate::registry::is_registry_scheme(self.url.clone()?.protocol()))
    }

    fn apply_options(&self, url: &mut Url) {
        if let Some(v) = &self.version {
            url.set_param("version", v.clone());
        }
        if let Some(g) = &self.group {
            url.set_param("group", g.clone());
        }
        if let Some(t) = self.timeout {
            url.set_param("timeout", t.as_millis().to_string());
        }
        if let Some(t) = self.connect_timeout {
            url.set_param("connect.timeout", t.as_millis().to_string());
        }
        if let Some(a) = &self.application {
            url.set_param("application", a.clone());
        }
        if let Some(c) = &self.compression {
            url.set_param("compression", c.clone());
        }
        if let Some(m) = self.max_message_size {
            url.set_param("max.message.size", m.to_string());
        }
        if self.lazy {
            url.set_param("lazy", "true");
        }
        for (k, v) in &self.params {
            url.set_param(k.clone(), v.clone());
        }
    }

    /// The reference URL: for a direct provider, the provider URL handed to the protocol's
    /// `refer`; with a registry or provider list, the `consumer://` URL that subscribes (and
    /// carries the cluster parameters). Every builder option is a parameter.
    pub fn reference_url(&self) -> Result<Url, Error> {
        let service = C::SERVICE;
        if self.registry_mode()? {
            let host = crate::registry::local_host();
            let mut url = crate::registry::consumer_url(
                &host,
                service.name,
                self.group.as_deref().unwrap_or(""),
                self.version.as_deref().unwrap_or(""),
                self.application.as_deref().unwrap_or(""),
                &service.method_names(),
            );
            self.apply_options(&mut url);
            return Ok(url);
        }
        let mut url = self.url.clone()?;
        if url.path().is_empty() {
            url.set_path(service.name);
        }
        // A path in the URL names the remote interface (it may differ from the IDL name).
        if url.param("interface").is_none_or(str::is_empty) {
            let interface = url.path().to_owned();
            url.set_param("interface", interface);
        }
        url.set_param("methods", service.method_names());
        url.set_param("side", "consumer");
        self.apply_options(&mut url);
        Ok(url)
    }

    /// Builds a cluster invoker over a registry (or the static provider list).
    async fn cluster_invoker(
        &self,
        reference: &Url,
        protocols: Protocols,
    ) -> Result<Arc<dyn Invoker>, Error> {
        use crate::registry::{Registry, StaticRegistry};
        let (registry, register): (Arc<dyn Registry>, bool) = match &self.providers {
            Some(urls) => (Arc::new(StaticRegistry::new(urls.clone())), false),
            None => (crate::registry::connect(&self.url.clone()?).await?, true),
        };
        if register
            && reference.param("register") != Some("false")
            && let Err(err) = registry.register(reference.clone()).await
        {
            tracing::warn!(error = %err, "could not register the consumer");
        }
        let subscription = registry.subscribe(reference.clone()).await?;
        let directory = crate::cluster::Directory::subscribe(
            Arc::clone(&registry),
            subscription,
            reference.clone(),
            protocols,
        )
        .await?;
        let wait = self.connect_timeout.unwrap_or(Duration::from_secs(3));
        if self.check && directory.list().is_empty() && !directory.wait_for_providers(wait).await {
            return Err(Error::new(
                crate::error::ErrorKind::NoProvider,
                format!(
                    "no provider of {} in {}",
                    crate::url::service_key(
                        reference.interface(),
                        reference.group(),
                        reference.version()
                    ),
                    registry.url()
                ),
            ));
        }
        Ok(Arc::new(crate::cluster::ClusterInvoker::new(directory)?))
    }

    /// Protocol instances this builder needs for itself (TLS settings), if any.
    fn own_protocols(&self) -> Option<Protocols> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let protocols = Protocols::new();
            protocols.register(std::sync::Arc::new(crate::triple::TripleProtocol::new(
                crate::triple::TripleConfig::default().client_tls(tls.clone()),
            )));
            return Some(protocols);
        }
        None
    }

    /// Connects (unless [`lazy`](Self::lazy)) and returns the client.
    pub async fn connect(self) -> Result<C, Error> {
        let url = self.reference_url()?;
        let protocols = match (&self.protocols, self.own_protocols()) {
            (Some(p), _) => p.clone(),
            (None, Some(own)) => own,
            (None, None) => Protocols::global().clone(),
        };
        let target = ServiceTarget::new(url.interface().to_owned())
            .with_group(url.group().to_owned())
            .with_version(url.version().to_owned());
        let invoker = if self.registry_mode()? {
            self.cluster_invoker(&url, protocols).await?
        } else {
            protocols.get(url.protocol())?.refer(url).await?
        };
        Ok(C::from_client(
            Client::new(invoker, target).with_timeout(self.timeout),
        ))
    }
}
