//! [`JavaClient`]: calls any method of a remote Java interface, typed through serde or
//! dynamically through Hessian values and generic invocation (`$invoke`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::jvm;
use crate::call::{Request, Response};
use crate::descriptor::{CallKind, MethodDescriptor};
use crate::error::Error;
use crate::hessian2::{self, Value};
use crate::invocation::{Body, Invocation, Reply, ServiceTarget};
use crate::invoker::Invoker;
use crate::message::Payload;
use crate::protocol::Protocols;
use crate::status::Status;
use crate::url::{IntoUrl, Url, UrlError};

/// The descriptor of generic invocation: `Object $invoke(String, String[], Object[])`.
pub(crate) static GENERIC_INVOKE: MethodDescriptor = MethodDescriptor {
    name: "$invoke",
    path: "$invoke",
    kind: CallKind::Unary,
    index: 0,
    request_class: "(Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;)",
    response_class: "java.lang.Object",
    hessian_request: None,
};

/// The metadata key that makes a Dubbo2 call one-way when set to `false` (Java's `return`
/// attachment).
pub(crate) const RETURN_KEY: &str = "return";

/// Interned descriptors of the Java methods called through [`JavaClient`]: one allocation
/// per distinct (name, parameter types) pair for the life of the process.
fn java_method(name: &str, parameters: &str) -> &'static MethodDescriptor {
    type Table = Mutex<HashMap<(String, String), &'static MethodDescriptor>>;
    static METHODS: OnceLock<Table> = OnceLock::new();
    let table = METHODS.get_or_init(Table::default);
    let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = table.get(&(name.to_owned(), parameters.to_owned())) {
        return m;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let method: &'static MethodDescriptor = Box::leak(Box::new(MethodDescriptor {
        name: leaked,
        path: leaked,
        kind: CallKind::Unary,
        index: 0,
        request_class: Box::leak(format!("({parameters})").into_boxed_str()),
        response_class: "java.lang.Object",
        hessian_request: None,
    }));
    table.insert((name.to_owned(), parameters.to_owned()), method);
    method
}

/// Calls methods of a remote Java interface without generated code, over Dubbo2
/// (`dubbo://`). Cheap to clone; every method takes `&self`.
///
/// - [`call`](Self::call): a typed call — method name, Java parameter types, a tuple of
///   serde arguments — decoding the result into any `DeserializeOwned` type.
/// - [`invoke_generic`](Self::invoke_generic): Dubbo's generic invocation (`$invoke`) with
///   Hessian [`Value`]s, for providers whose types the caller does not have.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use dubbo_runtime::hessian2::Value;
/// use dubbo_runtime::java::JavaClient;
/// use std::time::Duration;
///
/// let demo = JavaClient::builder("dubbo://127.0.0.1:20880")
///     .interface("org.apache.dubbo.sample.DemoService")
///     .version("1.0.0")
///     .timeout(Duration::from_secs(3))
///     .connect()
///     .await?;
/// let hello: String = demo.call("sayHello", &["java.lang.String"], ("world",)).await?;
/// let echoed = demo
///     .invoke_generic("echo", &["java.lang.Object"], vec![Value::Int(42)])
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JavaClient {
    invoker: Arc<dyn Invoker>,
    target: Arc<ServiceTarget>,
    timeout: Option<Duration>,
}

impl fmt::Debug for JavaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JavaClient")
            .field("target", &self.target)
            .field("invoker", &self.invoker)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn arguments_of<A: Serialize>(args: &A, expected: usize) -> Result<Vec<Value>, Status> {
    let value = hessian2::to_value(args)
        .map_err(|e| Status::invalid_argument(format!("cannot encode the arguments: {e}")))?;
    let items = match value {
        Value::List {
            type_name: None,
            items,
        } => items,
        Value::Null if expected == 0 => Vec::new(),
        _ => {
            return Err(Status::invalid_argument(
                "the arguments must serialize as a sequence with one element per parameter \
                 (a tuple: `(x,)` for one parameter, `()` for none)",
            ));
        }
    };
    if items.len() != expected {
        return Err(Status::invalid_argument(format!(
            "{} argument(s) for {expected} parameter type(s)",
            items.len()
        )));
    }
    Ok(items)
}

fn descriptor_of(parameter_types: &[&str]) -> Result<String, Status> {
    jvm::parameter_descriptor(parameter_types).map_err(|e| Status::invalid_argument(e.to_string()))
}

impl JavaClient {
    /// Starts a builder for the provider at `url` (`dubbo://host:port[/interface]`).
    pub fn builder(url: impl IntoUrl) -> JavaClientBuilder {
        JavaClientBuilder {
            url: url.into_url(),
            interface: None,
            version: None,
            group: None,
            timeout: None,
            connect_timeout: None,
            application: None,
            lazy: false,
            protocols: None,
        }
    }

    /// A client calling `target` through `invoker` (a `dubbo://` reference).
    pub fn new(invoker: Arc<dyn Invoker>, target: ServiceTarget) -> JavaClient {
        JavaClient {
            invoker,
            target: Arc::new(target),
            timeout: None,
        }
    }

    /// Sets the default timeout for calls that do not set their own.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> JavaClient {
        self.timeout = timeout;
        self
    }

    /// The service instance calls are addressed to.
    pub fn target(&self) -> &ServiceTarget {
        &self.target
    }

    /// The invoker calls go through.
    pub fn invoker(&self) -> &Arc<dyn Invoker> {
        &self.invoker
    }

    async fn invoke(
        &self,
        method: &'static MethodDescriptor,
        request: Request<Vec<Value>>,
    ) -> Result<Response<Value>, Status> {
        let (metadata, args, _, timeout) = request.into_client_parts();
        let mut invocation = Invocation::new(
            Arc::clone(&self.target),
            method,
            metadata,
            Body::Unary(Payload::arguments(args)),
        );
        if let Some(timeout) = timeout.or(self.timeout) {
            invocation.set_deadline(Some(Instant::now() + timeout));
        }
        let Reply {
            headers,
            body,
            trailers,
            ..
        } = self.invoker.invoke(invocation).await?;
        let value = body.into_unary().await?.into_hessian().map_err(|payload| {
            Status::internal(format!("expected a Hessian result, got {payload:?}"))
        })?;
        Ok(Response::from_parts(headers, value, trailers))
    }

    /// Calls `method(parameter_types…)` with `args`, a tuple of serde values with one element
    /// per parameter (`(x,)` for one, `()` for none), and decodes the result into `R`
    /// (`Value` takes anything).
    pub async fn call<A, R>(
        &self,
        method: &str,
        parameter_types: &[&str],
        args: A,
    ) -> Result<R, Status>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        self.call_with(method, parameter_types, Request::new(args))
            .await
            .map(Response::into_inner)
    }

    /// [`call`](Self::call) with request metadata (attachments) and a per-call timeout;
    /// returns the response attachments as trailers.
    pub async fn call_with<A, R>(
        &self,
        method: &str,
        parameter_types: &[&str],
        request: Request<A>,
    ) -> Result<Response<R>, Status>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let descriptor = descriptor_of(parameter_types)?;
        let request = match arguments_of(request.get_ref(), parameter_types.len()) {
            Ok(args) => request.map(|_| args),
            Err(status) => return Err(status),
        };
        let response = self
            .invoke(java_method(method, &descriptor), request)
            .await?;
        let (headers, value, trailers, _) = response.into_parts();
        let result = hessian2::from_value::<R>(value).map_err(|e| {
            Status::internal(format!(
                "cannot decode the result of {method} as {}: {e}",
                std::any::type_name::<R>()
            ))
        })?;
        Ok(Response::from_parts(headers, result, trailers))
    }

    /// Sends a one-way call: the provider runs it and sends nothing back. Returns once the
    /// request is queued on the connection.
    pub async fn call_oneway<A: Serialize>(
        &self,
        method: &str,
        parameter_types: &[&str],
        args: A,
    ) -> Result<(), Status> {
        let descriptor = descriptor_of(parameter_types)?;
        let args = arguments_of(&args, parameter_types.len())?;
        let mut request = Request::new(args);
        request
            .metadata_mut()
            .insert(RETURN_KEY, "false")
            .map_err(|e| Status::internal(e.to_string()))?;
        self.invoke(java_method(method, &descriptor), request)
            .await
            .map(drop)
    }

    /// Generic invocation: calls `method(parameter_types…)` through the provider's `$invoke`,
    /// with one Hessian value per argument. POJOs may travel as maps with a `"class"` entry
    /// naming their Java class; Java providers return POJOs as such maps too.
    pub async fn invoke_generic(
        &self,
        method: &str,
        parameter_types: &[&str],
        args: Vec<Value>,
    ) -> Result<Value, Status> {
        self.invoke_generic_with(method, parameter_types, Request::new(args))
            .await
            .map(Response::into_inner)
    }

    /// [`invoke_generic`](Self::invoke_generic) with request metadata and a per-call timeout.
    pub async fn invoke_generic_with(
        &self,
        method: &str,
        parameter_types: &[&str],
        request: Request<Vec<Value>>,
    ) -> Result<Response<Value>, Status> {
        if request.get_ref().len() != parameter_types.len() {
            return Err(Status::invalid_argument(format!(
                "{} argument(s) for {} parameter type(s)",
                request.get_ref().len(),
                parameter_types.len()
            )));
        }
        descriptor_of(parameter_types)?;
        let types = parameter_types
            .iter()
            .map(|t| Value::String(t.trim().to_owned()))
            .collect();
        let mut request = request.map(|args| {
            vec![
                Value::String(method.to_owned()),
                Value::typed_list("[string", types),
                Value::typed_list("[object", args),
            ]
        });
        if !request.metadata().contains_key("generic") {
            request
                .metadata_mut()
                .insert("generic", "true")
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        self.invoke(&GENERIC_INVOKE, request).await
    }
}

/// Builds a [`JavaClient`]: where to connect and how to call.
///
/// ```no_run
/// # async fn run() -> Result<(), dubbo_runtime::Error> {
/// use dubbo_runtime::java::JavaClient;
/// use std::time::Duration;
/// let client = JavaClient::builder("dubbo://127.0.0.1:20880/org.apache.dubbo.sample.DemoService")
///     .version("1.0.0")
///     .group("blue")
///     .timeout(Duration::from_secs(3))
///     .application("my-consumer")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct JavaClientBuilder {
    url: Result<Url, UrlError>,
    interface: Option<String>,
    version: Option<String>,
    group: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    application: Option<String>,
    lazy: bool,
    protocols: Option<Protocols>,
}

impl fmt::Debug for JavaClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JavaClientBuilder")
            .field("url", &self.url)
            .field("interface", &self.interface)
            .field("version", &self.version)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl JavaClientBuilder {
    /// The Java interface to call (default: the URL's path).
    pub fn interface(mut self, interface: impl Into<String>) -> Self {
        self.interface = Some(interface.into());
        self
    }

    /// The service version to call.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The service group to call.
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

    /// This consumer's application name (the `remote.application` attachment).
    pub fn application(mut self, name: impl Into<String>) -> Self {
        self.application = Some(name.into());
        self
    }

    /// Do not connect until the first call.
    pub fn lazy(mut self) -> Self {
        self.lazy = true;
        self
    }

    /// Use these protocol instances instead of the process-wide defaults.
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.protocols = Some(protocols);
        self
    }

    /// The URL handed to the protocol's `refer`, with every option as a parameter.
    pub fn reference_url(&self) -> Result<Url, Error> {
        let mut url = self.url.clone()?;
        if let Some(interface) = &self.interface {
            url.set_path(interface.clone());
            url.set_param("interface", interface.clone());
        }
        if url.interface().is_empty() {
            return Err(Error::config(format!(
                "{url}: no interface (set it in the URL path or with .interface())"
            )));
        }
        let interface = url.interface().to_owned();
        url.set_param("interface", interface);
        url.set_param("side", "consumer");
        for (key, value) in [
            ("version", &self.version),
            ("group", &self.group),
            ("application", &self.application),
        ] {
            if let Some(v) = value {
                url.set_param(key, v.clone());
            }
        }
        if let Some(t) = self.timeout {
            url.set_param("timeout", t.as_millis().to_string());
        }
        if let Some(t) = self.connect_timeout {
            url.set_param("connect.timeout", t.as_millis().to_string());
        }
        if self.lazy {
            url.set_param("lazy", "true");
        }
        Ok(url)
    }

    /// Connects (unless [`lazy`](Self::lazy)) and returns the client.
    pub async fn connect(self) -> Result<JavaClient, Error> {
        let url = self.reference_url()?;
        let protocols = self
            .protocols
            .clone()
            .unwrap_or_else(|| Protocols::global().clone());
        let protocol = protocols.get(url.protocol())?;
        let target = ServiceTarget::new(url.interface().to_owned())
            .with_group(url.group().to_owned())
            .with_version(url.version().to_owned());
        let invoker = protocol.refer(url).await?;
        Ok(JavaClient::new(invoker, target).with_timeout(self.timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_methods_are_interned() {
        let a = java_method("sayHello", "Ljava/lang/String;");
        let b = java_method("sayHello", "Ljava/lang/String;");
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.parameter_types(), "Ljava/lang/String;");
        assert_eq!(a.wire_name(), "sayHello");
        let c = java_method("sayHello", "I");
        assert!(!std::ptr::eq(a, c));
        assert_eq!(
            GENERIC_INVOKE.parameter_types(),
            "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"
        );
    }

    #[test]
    fn arguments_must_be_a_sequence_of_the_right_length() {
        assert_eq!(
            arguments_of(&("a", 1), 2).unwrap(),
            vec![Value::from("a"), Value::Int(1)]
        );
        assert!(arguments_of(&("a",), 2).is_err());
        assert!(arguments_of(&"a", 1).is_err());
        assert_eq!(arguments_of(&(), 0).unwrap(), Vec::<Value>::new());
        assert_eq!(arguments_of(&Vec::<i32>::new(), 0).unwrap().len(), 0);
    }
}
