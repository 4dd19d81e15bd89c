//! Messages and payloads: how a typed request or reply travels through the protocol layer
//! without being encoded before the protocol (and so the wire format) is known.
//!
//! Generated messages implement [`Message`]. An [`Invocation`](crate::Invocation) carries
//! [`Payload`]s: a typed message not yet encoded, or bytes received from the wire. The protocol
//! encodes typed payloads in its own format; the receiving side decodes into the type it wants.
//! A payload that never leaves the process is handed over without any encoding.

use std::any::Any;
use std::fmt;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;

use crate::metadata::Metadata;
use crate::status::Status;

/// A message that can travel over every protocol the runtime speaks.
///
/// Implemented by generated code (through `dubbo_runtime::codegen::impl_message!`) for every
/// protobuf message, and by the runtime for `()` and the well-known types.
pub trait Message: prost::Message + Default + fmt::Debug + Send + Sync + 'static {
    /// The Java class name this message has when it travels as a Hessian object (Dubbo2).
    const JAVA_CLASS: &'static str;
}

impl Message for () {
    const JAVA_CLASS: &'static str = "com.google.protobuf.Empty";
}

macro_rules! wkt_message {
    ($($ty:ident),* $(,)?) => {
        $(impl Message for prost_types::$ty {
            const JAVA_CLASS: &'static str = concat!("com.google.protobuf.", stringify!($ty));
        })*
    };
}

wkt_message!(
    Any,
    Duration,
    Timestamp,
    FieldMask,
    Struct,
    Value,
    ListValue,
    Api,
    Type,
    Enum,
    SourceContext
);

/// Object-safe view of a [`Message`], used inside [`Payload::Typed`].
pub trait AnyMessage: fmt::Debug + Send + Sync + 'static {
    /// Appends the protobuf encoding to `buf`.
    fn encode_protobuf(&self, buf: &mut BytesMut);
    /// Length of the protobuf encoding.
    fn protobuf_len(&self) -> usize;
    /// The Java class name (see [`Message::JAVA_CLASS`]).
    fn java_class(&self) -> &'static str;
    /// The Rust type name, for error messages.
    fn type_name(&self) -> &'static str;
    /// Upcast for downcasting to the concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// Upcast for inspecting the concrete type.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Message> AnyMessage for T {
    fn encode_protobuf(&self, buf: &mut BytesMut) {
        // `BytesMut` grows as needed, so encoding cannot run out of space.
        let _ = prost::Message::encode(self, buf);
    }
    fn protobuf_len(&self) -> usize {
        prost::Message::encoded_len(self)
    }
    fn java_class(&self) -> &'static str {
        T::JAVA_CLASS
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One message in flight: typed (not yet encoded) or as received from the wire.
pub enum Payload {
    /// A typed message; the protocol encodes it in its own format.
    Typed(Box<dyn AnyMessage>),
    /// A protobuf-encoded message (as received over Triple).
    Protobuf(Bytes),
}

impl Payload {
    /// Wraps a typed message.
    pub fn typed<T: Message>(message: T) -> Payload {
        Payload::Typed(Box::new(message))
    }

    /// Converts the payload into `T`: a typed payload is downcast (no encoding happens),
    /// encoded bytes are decoded.
    pub fn decode<T: Message>(self) -> Result<T, Status> {
        match self {
            Payload::Typed(message) => {
                let name = message.type_name();
                message.into_any().downcast::<T>().map(|b| *b).map_err(|_| {
                    Status::internal(format!(
                        "message type mismatch: expected {}, got {name}",
                        std::any::type_name::<T>()
                    ))
                })
            }
            Payload::Protobuf(bytes) => T::decode(bytes).map_err(|e| {
                Status::internal(format!(
                    "failed to decode {}: {e}",
                    std::any::type_name::<T>()
                ))
            }),
        }
    }

    /// Appends the protobuf encoding to `buf`.
    pub fn encode_protobuf(&self, buf: &mut BytesMut) -> Result<(), Status> {
        match self {
            Payload::Typed(message) => {
                message.encode_protobuf(buf);
                Ok(())
            }
            Payload::Protobuf(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Length of the protobuf encoding.
    pub fn protobuf_len(&self) -> usize {
        match self {
            Payload::Typed(message) => message.protobuf_len(),
            Payload::Protobuf(bytes) => bytes.len(),
        }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Typed(m) => f.debug_tuple("Typed").field(m).finish(),
            Payload::Protobuf(b) => write!(f, "Protobuf({} bytes)", b.len()),
        }
    }
}

/// An item of a message stream: a message, or the trailers that end the stream.
#[derive(Debug)]
pub enum StreamItem {
    /// Response headers that arrive after the call returned (bidi calls return before the
    /// server's headers, which many servers send only with their first message). At most one,
    /// before any message.
    Headers(Metadata),
    /// A message.
    Message(Payload),
    /// Trailing metadata; the stream ends after it.
    Trailers(Metadata),
}

/// A stream of messages; an `Err` item ends the stream with that status.
pub type PayloadStream = Pin<Box<dyn Stream<Item = Result<StreamItem, Status>> + Send + 'static>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Ping {
        #[prost(string, tag = "1")]
        text: String,
    }
    impl Message for Ping {
        const JAVA_CLASS: &'static str = "test.Ping";
    }

    #[test]
    fn typed_payloads_downcast_without_encoding() {
        let payload = Payload::typed(Ping { text: "hi".into() });
        assert_eq!(payload.decode::<Ping>().unwrap().text, "hi");
        let payload = Payload::typed(Ping { text: "hi".into() });
        let err = payload.decode::<()>().unwrap_err();
        assert_eq!(err.code(), crate::Code::Internal);
        assert!(err.message().contains("mismatch"), "{err}");
    }

    #[test]
    fn protobuf_payloads_decode_and_reencode() {
        let mut buf = BytesMut::new();
        Payload::typed(Ping { text: "yo".into() })
            .encode_protobuf(&mut buf)
            .unwrap();
        let bytes = buf.freeze();
        let payload = Payload::Protobuf(bytes.clone());
        assert_eq!(payload.protobuf_len(), bytes.len());
        assert_eq!(payload.decode::<Ping>().unwrap().text, "yo");
        let bad = Payload::Protobuf(Bytes::from_static(&[0x0a, 0x05, b'a']));
        assert_eq!(
            bad.decode::<Ping>().unwrap_err().code(),
            crate::Code::Internal
        );
    }
}
