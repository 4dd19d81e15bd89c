//! [`Invocation`] (one call on its way to an [`Invoker`](crate::Invoker)) and [`Reply`]
//! (what comes back).

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::descriptor::MethodDescriptor;
use crate::message::{Payload, PayloadStream, StreamItem};
use crate::metadata::Metadata;
use crate::status::Status;

/// Which service instance a call is for: interface name, group and version.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceTarget {
    interface: Cow<'static, str>,
    group: String,
    version: String,
}

impl ServiceTarget {
    /// A target with no group and no version.
    pub fn new(interface: impl Into<Cow<'static, str>>) -> ServiceTarget {
        ServiceTarget {
            interface: interface.into(),
            group: String::new(),
            version: String::new(),
        }
    }

    /// Sets the group (empty = none).
    #[must_use]
    pub fn with_group(mut self, group: impl Into<String>) -> ServiceTarget {
        self.group = group.into();
        self
    }

    /// Sets the version (empty = none).
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> ServiceTarget {
        self.version = version.into();
        self
    }

    /// The interface (service) name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The group, empty when none.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The version, empty when none.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Dubbo's service key `group/interface:version`.
    pub fn service_key(&self) -> String {
        crate::url::service_key(&self.interface, &self.group, &self.version)
    }
}

impl fmt::Debug for ServiceTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceTarget({})", self.service_key())
    }
}

/// A request body: one message or a stream of them.
pub enum Body {
    /// Exactly one message.
    Unary(Payload),
    /// A stream of messages.
    Stream(PayloadStream),
}

impl Body {
    /// Wraps a stream of payloads.
    pub fn stream(stream: PayloadStream) -> Body {
        Body::Stream(stream)
    }

    /// Takes the single message of a unary body. A stream body yields its first message and
    /// must have no second one.
    pub async fn into_unary(self) -> Result<Payload, Status> {
        use futures_util::StreamExt as _;
        match self {
            Body::Unary(p) => Ok(p),
            Body::Stream(mut s) => {
                let mut first = None;
                while let Some(item) = s.next().await {
                    match item? {
                        StreamItem::Message(p) if first.is_none() => first = Some(p),
                        StreamItem::Message(_) => {
                            return Err(Status::internal(
                                "expected one message, received more than one",
                            ));
                        }
                        StreamItem::Trailers(_) => break,
                        StreamItem::Headers(_) => {}
                    }
                }
                first.ok_or_else(|| Status::internal("expected one message, received none"))
            }
        }
    }

    /// Turns the body into a stream (a unary body becomes a one-message stream).
    pub fn into_stream(self) -> PayloadStream {
        match self {
            Body::Stream(s) => s,
            Body::Unary(p) => Box::pin(futures_util::stream::once(std::future::ready(Ok(
                StreamItem::Message(p),
            )))),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Unary(p) => f.debug_tuple("Unary").field(p).finish(),
            Body::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

/// One call on its way to an invoker: what to call, with which metadata and deadline, and the
/// request message(s).
#[derive(Debug)]
pub struct Invocation {
    target: Arc<ServiceTarget>,
    method: &'static MethodDescriptor,
    metadata: Metadata,
    deadline: Option<Instant>,
    remote_addr: Option<SocketAddr>,
    body: Body,
}

impl Invocation {
    /// Creates an invocation.
    pub fn new(
        target: Arc<ServiceTarget>,
        method: &'static MethodDescriptor,
        metadata: Metadata,
        body: Body,
    ) -> Invocation {
        Invocation {
            target,
            method,
            metadata,
            deadline: None,
            remote_addr: None,
            body,
        }
    }

    /// The service instance.
    pub fn target(&self) -> &Arc<ServiceTarget> {
        &self.target
    }

    /// The method.
    pub fn method(&self) -> &'static MethodDescriptor {
        self.method
    }

    /// Request metadata (attachments).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Mutable request metadata.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Sets the deadline.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The peer address (server side).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Sets the peer address.
    pub fn set_remote_addr(&mut self, addr: Option<SocketAddr>) {
        self.remote_addr = addr;
    }

    /// The request body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// A copy for resending, when the body can be replayed (one message); `None` for a
    /// streaming body.
    pub fn try_clone(&self) -> Option<Invocation> {
        let body = match &self.body {
            Body::Unary(payload) => Body::Unary(payload.clone()),
            Body::Stream(_) => return None,
        };
        Some(Invocation {
            target: Arc::clone(&self.target),
            method: self.method,
            metadata: self.metadata.clone(),
            deadline: self.deadline,
            remote_addr: self.remote_addr,
            body,
        })
    }

    /// Splits off the body.
    pub fn into_parts(self) -> (InvocationParts, Body) {
        (
            InvocationParts {
                target: self.target,
                method: self.method,
                metadata: self.metadata,
                deadline: self.deadline,
                remote_addr: self.remote_addr,
            },
            self.body,
        )
    }

    /// Reassembles an invocation.
    pub fn from_parts(parts: InvocationParts, body: Body) -> Invocation {
        Invocation {
            target: parts.target,
            method: parts.method,
            metadata: parts.metadata,
            deadline: parts.deadline,
            remote_addr: parts.remote_addr,
            body,
        }
    }
}

/// Everything in an [`Invocation`] except the body.
#[derive(Debug)]
pub struct InvocationParts {
    /// The service instance.
    pub target: Arc<ServiceTarget>,
    /// The method.
    pub method: &'static MethodDescriptor,
    /// Request metadata.
    pub metadata: Metadata,
    /// Deadline.
    pub deadline: Option<Instant>,
    /// Peer address (server side).
    pub remote_addr: Option<SocketAddr>,
}

/// What an invoker returns: response headers, the reply body, and trailers.
#[derive(Debug)]
pub struct Reply {
    /// Response headers (sent before the first message).
    pub headers: Metadata,
    /// The reply message(s).
    pub body: Body,
    /// Trailers (sent after the last message; a stream may add its own at its end).
    pub trailers: Metadata,
    /// Whether to compress the reply when the peer accepts compression; `None` uses the
    /// server default.
    pub compress: Option<bool>,
}

impl Reply {
    /// A reply with one message and no metadata.
    pub fn unary(payload: Payload) -> Reply {
        Reply {
            headers: Metadata::new(),
            body: Body::Unary(payload),
            trailers: Metadata::new(),
            compress: None,
        }
    }
}
