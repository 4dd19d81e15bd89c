//! The runtime of Apache Dubbo in Rust.
//!
//! - **Protocols**: Triple (gRPC-compatible, over HTTP/2) behind Dubbo's
//!   `Protocol { export, refer, destroy }` lifecycle.
//! - **Typed calls**: generated clients and server traits (see `dubbo-build`) sit on
//!   [`Client`] and [`Service`]; the four call shapes unary, server-streaming,
//!   client-streaming and bidi-streaming.
//! - **Servers**: [`Server::builder()`] exports services on a URL and shuts down gracefully on
//!   SIGINT/SIGTERM.
//!
//! ```no_run
//! # use dubbo_runtime::{Server, Service};
//! # async fn run(my_service: impl Service) -> Result<(), dubbo_runtime::Error> {
//! Server::builder()
//!     .add_service(my_service)
//!     .serve("tri://127.0.0.1:50051")
//!     .await
//! # }
//! ```
#![warn(missing_docs)]

mod call;
pub mod client;
pub mod cluster;
pub mod codegen;
pub mod descriptor;
pub mod dubbo2;
mod error;
mod invocation;
mod invoker;
pub mod java;
pub mod message;
pub mod metadata;
pub mod protocol;
pub mod registry;
mod server;
mod service;
pub mod shutdown;
mod status;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
pub mod triple;
pub mod url;

/// The Hessian 2 codec (from `dubbo-hessian2`).
pub use dubbo_hessian2 as hessian2;

pub use call::{BoxStream, IntoRequest, IntoStreamingRequest, Request, Response, Streaming};
pub use client::{Client, ClientBuilder};
pub use error::{Error, ErrorKind};
pub use invocation::{Body, Invocation, InvocationParts, Reply, ServiceTarget};
pub use invoker::{BoxFuture, Exporter, Invoker};
pub use message::{Message, Payload};
pub use metadata::Metadata;
pub use protocol::{Protocol, Protocols};
pub use server::{Server, ServerBuilder, ServerHandle, ServiceOptions};
pub use service::{Service, ServiceInvoker};
pub use status::{Code, Status};
pub use url::Url;
