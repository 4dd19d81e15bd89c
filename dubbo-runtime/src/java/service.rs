//! [`JavaService`]: a Java interface implemented in Rust with async handlers, one per method.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::jvm;
use crate::call::Request;
use crate::descriptor::{CallKind, MethodDescriptor, ServiceDescriptor};
use crate::error::Error;
use crate::hessian2::{self, Value};
use crate::invocation::{Invocation, Reply};
use crate::invoker::BoxFuture;
use crate::message::Payload;
use crate::service::Service;
use crate::status::Status;

type Handler = Arc<dyn Fn(Invocation) -> BoxFuture<'static, Result<Reply, Status>> + Send + Sync>;

/// A Java interface served from Rust, without generated code: one async handler per method,
/// arguments and results as serde types or Hessian [`Value`]s (see the
/// [module docs](super#arguments)). It is a [`Service`], so it is exported like a generated
/// one (`Server::builder().add_service(…)`, or `Protocol::export` of a
/// [`ServiceInvoker`](crate::ServiceInvoker)); Dubbo2 (`dubbo://`) carries its calls.
///
/// Handlers take a [`Request`] of the argument tuple (metadata, deadline and peer address
/// included) and return the result or a [`Status`]; a status made with
/// [`exception_status`](super::exception_status) reaches Java callers as that exception.
///
/// Methods are found by name (overloads are not supported: a name may be added once); the
/// first letter's case is ignored when no exact match exists.
///
/// ```
/// use dubbo_runtime::hessian2::Value;
/// use dubbo_runtime::java::{JavaService, JavaThrowable, exception_status};
/// use dubbo_runtime::{Request, Status};
///
/// let demo = JavaService::builder("org.apache.dubbo.sample.DemoService")
///     .method("sayHello", &["java.lang.String"], |req: Request<(String,)>| async move {
///         let (name,) = req.into_inner();
///         Ok::<_, Status>(format!("Hello {name}"))
///     })
///     .method("echo", &["java.lang.Object"], |req: Request<(Value,)>| async move {
///         Ok::<_, Status>(req.into_inner().0)
///     })
///     .method("fail", &["java.lang.String"], |req: Request<(String,)>| async move {
///         let (message,) = req.into_inner();
///         Err::<(), _>(exception_status(JavaThrowable::new(
///             "java.lang.IllegalStateException",
///             Some(message),
///         )))
///     })
///     .build()
///     .unwrap();
/// # use dubbo_runtime::Service as _;
/// assert_eq!(demo.descriptor().method_names(), "sayHello,echo,fail");
/// ```
#[derive(Clone)]
pub struct JavaService {
    descriptor: &'static ServiceDescriptor,
    handlers: Arc<[Handler]>,
}

impl fmt::Debug for JavaService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JavaService")
            .field("interface", &self.descriptor.name)
            .field("methods", &self.descriptor.method_names())
            .finish()
    }
}

impl JavaService {
    /// Starts describing the Java interface `interface` (its fully-qualified name).
    pub fn builder(interface: impl Into<String>) -> JavaServiceBuilder {
        JavaServiceBuilder {
            interface: interface.into(),
            methods: Vec::new(),
            error: None,
        }
    }
}

impl Service for JavaService {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        self.descriptor
    }

    fn call(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        let index = invocation.method().index;
        // Only this service's own descriptors index its handlers.
        let ours = self
            .descriptor
            .methods
            .get(index)
            .is_some_and(|m| std::ptr::eq(m, invocation.method()));
        match self.handlers.get(index) {
            Some(handler) if ours => handler(invocation),
            _ => crate::codegen::unimplemented(invocation),
        }
    }
}

struct PendingMethod {
    name: String,
    parameters: String,
    parameter_names: String,
    handler: Handler,
}

/// Builds a [`JavaService`].
#[must_use]
pub struct JavaServiceBuilder {
    interface: String,
    methods: Vec<PendingMethod>,
    error: Option<Error>,
}

impl fmt::Debug for JavaServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JavaServiceBuilder")
            .field("interface", &self.interface)
            .field(
                "methods",
                &self.methods.iter().map(|m| &m.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Decodes the argument list into `A` (a tuple, `Vec<Value>`, …); `()` takes no arguments.
fn decode_arguments<A: DeserializeOwned>(args: Vec<Value>) -> Result<A, hessian2::Error> {
    if args.is_empty() {
        if let Ok(a) = hessian2::from_value::<A>(Value::list(Vec::new())) {
            return Ok(a);
        }
        return hessian2::from_value::<A>(Value::Null);
    }
    hessian2::from_value::<A>(Value::list(args))
}

impl JavaServiceBuilder {
    /// Adds the method `name(parameter_types…)`. Types are Java names (`java.lang.String`,
    /// `int`, `byte[]`, `com.foo.User`); calls whose arguments do not decode into `A` fail
    /// with `INVALID_ARGUMENT`.
    pub fn method<A, R, F, Fut>(
        mut self,
        name: impl Into<String>,
        parameter_types: &[&str],
        handler: F,
    ) -> JavaServiceBuilder
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(Request<A>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Status>> + Send + 'static,
    {
        let name = name.into();
        let parameters = match jvm::parameter_descriptor(parameter_types) {
            Ok(p) => p,
            Err(e) => {
                self.error.get_or_insert_with(|| {
                    Error::config(format!("method {name} of {}", self.interface)).with_source(e)
                });
                return self;
            }
        };
        let parameter_names = parameter_types.join(", ");
        let handler = Arc::new(handler);
        let label: Arc<str> = format!("{name}({parameter_names})").into();
        let erased: Handler = Arc::new(move |invocation: Invocation| {
            let handler = Arc::clone(&handler);
            let label = Arc::clone(&label);
            Box::pin(async move {
                let (parts, body) = invocation.into_parts();
                let payload = body.into_unary().await?;
                let args = payload.into_arguments().map_err(|_| {
                    Status::unimplemented(format!(
                        "{label} is a Java method: it takes Hessian arguments (Dubbo2, dubbo://)"
                    ))
                })?;
                let args: A = decode_arguments(args).map_err(|e| {
                    Status::invalid_argument(format!("cannot decode the arguments of {label}: {e}"))
                })?;
                let request = Request::from_server_parts(
                    parts.metadata,
                    args,
                    None,
                    parts.deadline,
                    parts.remote_addr,
                );
                let result = handler(request).await?;
                let value = hessian2::to_value(&result).map_err(|e| {
                    Status::internal(format!("cannot encode the result of {label}: {e}"))
                })?;
                Ok(Reply::unary(Payload::hessian(value)))
            }) as BoxFuture<'static, Result<Reply, Status>>
        });
        self.methods.push(PendingMethod {
            name,
            parameters,
            parameter_names,
            handler: erased,
        });
        self
    }

    /// Builds the service. Fails on an invalid parameter type or a method name added twice.
    ///
    /// The service descriptor is allocated once here and lives for the rest of the process
    /// (descriptors are `&'static`); build services once, at startup.
    pub fn build(self) -> Result<JavaService, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        if self.interface.is_empty() {
            return Err(Error::config("a Java service needs an interface name"));
        }
        let mut seen = HashSet::new();
        for m in &self.methods {
            if m.name.is_empty() {
                return Err(Error::config(format!(
                    "{}: empty method name",
                    self.interface
                )));
            }
            if !seen.insert(m.name.as_str()) {
                return Err(Error::config(format!(
                    "{}: method {} added twice (overloads are not supported)",
                    self.interface, m.name
                )));
            }
        }
        let interface: &'static str = Box::leak(self.interface.into_boxed_str());
        let mut handlers = Vec::with_capacity(self.methods.len());
        let mut methods = Vec::with_capacity(self.methods.len());
        for (index, m) in self.methods.into_iter().enumerate() {
            tracing::trace!(interface, method = %m.name, parameters = %m.parameter_names, "Java method");
            let name: &'static str = Box::leak(m.name.into_boxed_str());
            methods.push(MethodDescriptor {
                name,
                path: Box::leak(format!("/{interface}/{name}").into_boxed_str()),
                kind: CallKind::Unary,
                index,
                request_class: Box::leak(format!("({})", m.parameters).into_boxed_str()),
                response_class: "java.lang.Object",
                hessian_request: None,
            });
            handlers.push(m.handler);
        }
        let descriptor: &'static ServiceDescriptor = Box::leak(Box::new(ServiceDescriptor {
            name: interface,
            methods: Box::leak(methods.into_boxed_slice()),
        }));
        Ok(JavaService {
            descriptor,
            handlers: handlers.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::{Body, ServiceTarget};
    use crate::metadata::Metadata;
    use crate::status::Code;

    fn service() -> JavaService {
        JavaService::builder("demo.Calc")
            .method(
                "add",
                &["int", "int"],
                |req: Request<(i32, i32)>| async move {
                    let (a, b) = req.into_inner();
                    Ok::<_, Status>(a + b)
                },
            )
            .method("ping", &[], |_req: Request<()>| async move {
                Ok::<_, Status>("pong")
            })
            .method(
                "all",
                &["java.lang.Object"],
                |req: Request<Vec<Value>>| async move { Ok::<_, Status>(req.into_inner().len()) },
            )
            .build()
            .unwrap()
    }

    async fn call(svc: &JavaService, method: &str, payload: Payload) -> Result<Value, Status> {
        let method = svc.descriptor().method(method).unwrap();
        let invocation = Invocation::new(
            Arc::new(ServiceTarget::new("demo.Calc")),
            method,
            Metadata::new(),
            Body::Unary(payload),
        );
        let reply = svc.call(invocation).await?;
        Ok(reply
            .body
            .into_unary()
            .await
            .unwrap()
            .into_hessian()
            .unwrap())
    }

    #[tokio::test]
    async fn handlers_take_argument_tuples() {
        let svc = service();
        let m = svc.descriptor().method("add").unwrap();
        assert_eq!(m.parameter_types(), "II");
        assert!(m.is_java_method());
        let sum = call(
            &svc,
            "add",
            Payload::arguments(vec![Value::Int(2), Value::Int(3)]),
        )
        .await
        .unwrap();
        assert_eq!(sum, Value::Int(5));
        let pong = call(&svc, "Ping", Payload::arguments(vec![]))
            .await
            .unwrap();
        assert_eq!(pong.as_str(), Some("pong"));
        let n = call(
            &svc,
            "all",
            Payload::arguments(vec![Value::Null, Value::Null]),
        )
        .await
        .unwrap();
        assert_eq!(n.as_i64(), Some(2));
        let err = call(&svc, "add", Payload::arguments(vec![Value::from("x")]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err}");
        let err = call(&svc, "add", Payload::typed(())).await.unwrap_err();
        assert_eq!(err.code(), Code::Unimplemented, "{err}");
    }

    #[test]
    fn builder_rejects_bad_types_and_duplicates() {
        let ok = |_: Request<()>| async { Ok::<_, Status>(()) };
        assert!(
            JavaService::builder("x.Y")
                .method("a", &["not a type"], ok)
                .build()
                .is_err()
        );
        assert!(
            JavaService::builder("x.Y")
                .method("a", &[], ok)
                .method("a", &["int"], ok)
                .build()
                .is_err()
        );
        assert!(JavaService::builder("").build().is_err());
    }
}
