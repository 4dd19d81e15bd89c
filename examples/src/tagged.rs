//! A Greeter that says which provider answered: the contract [`GreeterService`] plus the
//! response header `x-served-by: NAME` (used by the registry examples and tests).

use dubbo_runtime::{BoxStream, Request, Response, Status, Streaming};

use crate::greeter::{Greeter, HelloReply, HelloRequest};
use crate::greeter_service::GreeterService;

/// The header naming the provider.
pub const SERVED_BY: &str = "x-served-by";

/// [`GreeterService`] tagged with a provider name.
#[derive(Debug, Clone)]
pub struct TaggedGreeter {
    name: String,
}

impl TaggedGreeter {
    /// A greeter answering as `name`.
    pub fn new(name: impl Into<String>) -> TaggedGreeter {
        TaggedGreeter { name: name.into() }
    }

    fn tag<T>(&self, mut response: Response<T>) -> Response<T> {
        let _ = response.metadata_mut().insert(SERVED_BY, &self.name);
        response
    }
}

impl Greeter for TaggedGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        GreeterService.say_hello(request).await.map(|r| self.tag(r))
    }

    async fn say_hello_server_stream(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        GreeterService
            .say_hello_server_stream(request)
            .await
            .map(|r| self.tag(r))
    }

    async fn say_hello_client_stream(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<HelloReply>, Status> {
        GreeterService
            .say_hello_client_stream(request)
            .await
            .map(|r| self.tag(r))
    }

    async fn say_hello_bidi(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<BoxStream<HelloReply>>, Status> {
        GreeterService
            .say_hello_bidi(request)
            .await
            .map(|r| self.tag(r))
    }
}
