//! The server-side service abstraction implemented by generated `XxxServer<T>` types, and its
//! adapter to [`Invoker`].

use std::fmt;
use std::sync::Arc;

use crate::descriptor::ServiceDescriptor;
use crate::invocation::{Invocation, Reply};
use crate::invoker::{BoxFuture, Invoker};
use crate::status::Status;
use crate::url::Url;

/// A service implementation that dispatches invocations to user code. Generated servers
/// implement it; hand-written dynamic services may too.
pub trait Service: Send + Sync + 'static {
    /// What the service offers.
    fn descriptor(&self) -> &'static ServiceDescriptor;

    /// Handles one call. `invocation.method()` is one of [`Service::descriptor`]'s methods.
    fn call(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>>;
}

impl<S: Service + ?Sized> Service for Arc<S> {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        (**self).descriptor()
    }
    fn call(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        (**self).call(invocation)
    }
}

/// Adapts a [`Service`] to an [`Invoker`] bound to an export URL.
pub struct ServiceInvoker {
    url: Url,
    service: Arc<dyn Service>,
}

impl ServiceInvoker {
    /// Wraps `service`, to be exported at `url`.
    pub fn new(url: Url, service: Arc<dyn Service>) -> ServiceInvoker {
        ServiceInvoker { url, service }
    }
}

impl fmt::Debug for ServiceInvoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceInvoker")
            .field("url", &self.url)
            .field("service", &self.service.descriptor().name)
            .finish()
    }
}

impl Invoker for ServiceInvoker {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
        self.service.call(invocation)
    }

    fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        Some(self.service.descriptor())
    }
}
