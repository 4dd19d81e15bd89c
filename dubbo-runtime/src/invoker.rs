//! The [`Invoker`] and [`Exporter`] abstractions of Dubbo's Protocol layer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::descriptor::ServiceDescriptor;
use crate::invocation::{Invocation, Reply};
use crate::status::Status;
use crate::url::Url;

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can execute invocations: a remote provider (client side) or a local service
/// implementation (server side). Object-safe: use it as `Arc<dyn Invoker>`.
pub trait Invoker: fmt::Debug + Send + Sync + 'static {
    /// The URL describing this invoker (address, service, parameters).
    fn url(&self) -> &Url;

    /// Executes one call.
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>>;

    /// Whether the invoker can take calls now.
    fn is_available(&self) -> bool {
        true
    }

    /// Releases resources; later calls fail.
    fn destroy(&self) {}

    /// The service this invoker implements, when it is a local service. Protocols need it to
    /// export the invoker (to resolve methods and their call shapes).
    fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        None
    }
}

/// A handle to one exported service.
pub trait Exporter: fmt::Debug + Send + Sync {
    /// The URL the service is reachable at (with the bound port filled in).
    fn url(&self) -> &Url;

    /// The exported invoker.
    fn invoker(&self) -> &Arc<dyn Invoker>;

    /// Stops routing calls to this service: later calls get `UNIMPLEMENTED`.
    fn unexport(&self);
}
