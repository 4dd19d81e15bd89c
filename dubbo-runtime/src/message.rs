//! Messages and payloads: how a typed request or reply travels through the protocol layer
//! without being encoded before the protocol (and so the wire format) is known.
//!
//! Generated messages implement [`Message`]. An [`Invocation`](crate::Invocation) carries
//! [`Payload`]s: a typed message not yet encoded, protobuf bytes received over Triple, a
//! Hessian value received over Dubbo2, or the Hessian argument list of a Java method call
//! ([`Payload::arguments`]). The protocol encodes typed payloads in its own format; the
//! receiving side decodes into the type it wants. A payload that never leaves the process is
//! handed over without any encoding.
//!
//! # Arguments of Java methods
//!
//! A Dubbo2 request carries one Hessian value per declared parameter. A generated (proto)
//! method has exactly one, which the Dubbo2 server reads straight into the method's request
//! type ([`MethodDescriptor::hessian_request`](crate::descriptor::MethodDescriptor::hessian_request)),
//! so the service gets a typed payload. Otherwise — Java-interface services
//! ([`JavaService`](crate::java::JavaService)), or an argument that does not read as the
//! declared type — the server hands the values over as [`Payload::arguments`]:
//! [`Payload::decode`] accepts a one-element argument list (and reports a mismatch), and Java
//! services take the whole list with [`Payload::into_arguments`]. On the client side a payload of any kind is written as the
//! call's arguments by [`Payload::encode_hessian_arguments`]: a typed message or a single
//! Hessian value is one argument, an argument list is one argument per element.

use std::any::Any;
use std::fmt;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use dubbo_hessian2::{Encoder, Value};
use futures_core::Stream;

use crate::metadata::Metadata;
use crate::status::Status;

/// A message that can travel over every protocol the runtime speaks.
///
/// Implemented by generated code (through `dubbo_runtime::codegen::impl_message!`) for every
/// protobuf message, and by the runtime for `()` and the well-known types.
pub trait Message: prost::Message + Clone + Default + fmt::Debug + Send + Sync + 'static {
    /// The Java class name this message has when it travels as a Hessian object (Dubbo2).
    const JAVA_CLASS: &'static str;

    /// Writes the message as a Hessian object (Dubbo2). The default says it cannot.
    fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
        let _ = encoder;
        Err(no_hessian::<Self>())
    }

    /// Reads the message from a Hessian value (Dubbo2). The default says it cannot.
    fn decode_hessian(value: Value) -> Result<Self, Status> {
        let _ = value;
        Err(no_hessian::<Self>())
    }

    /// Reads the message from the bytes of one Hessian value that defines every class it
    /// uses (a Dubbo2 request's only argument). The default decodes a [`Value`] and hands
    /// it to [`Message::decode_hessian`]; generated messages read the bytes directly.
    fn decode_hessian_bytes(bytes: &[u8]) -> Result<Self, Status> {
        let value = dubbo_hessian2::Decoder::new(bytes)
            .read_value()
            .map_err(|e| hessian_status("cannot decode the Hessian value", e))?;
        Self::decode_hessian(value)
    }
}

fn no_hessian<T>() -> Status {
    Status::unimplemented(format!(
        "{} has no Hessian mapping (generated with hessian support off)",
        std::any::type_name::<T>()
    ))
}

/// Maps a Hessian error to a status.
pub(crate) fn hessian_status(context: &str, err: dubbo_hessian2::Error) -> Status {
    Status::internal(format!("{context}: {err}"))
}

/// Writes `value` through serde as a Hessian value (used by `impl_message!`).
#[doc(hidden)]
pub fn encode_hessian_serde<T: serde::Serialize>(
    value: &T,
    encoder: &mut Encoder,
) -> Result<(), Status> {
    encoder.serialize(value).map_err(|e| {
        hessian_status(
            &format!("cannot encode {} as Hessian", std::any::type_name::<T>()),
            e,
        )
    })
}

/// Reads `T` through serde from the bytes of one Hessian value, without building a
/// [`Value`] first where it can (used by `impl_message!`).
#[doc(hidden)]
pub fn decode_hessian_serde_bytes<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, Status> {
    dubbo_hessian2::from_slice(bytes).map_err(|e| {
        hessian_status(
            &format!("cannot decode {} from Hessian", std::any::type_name::<T>()),
            e,
        )
    })
}

/// Reads `T` through serde from a Hessian value (used by `impl_message!`).
#[doc(hidden)]
pub fn decode_hessian_serde<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Status> {
    dubbo_hessian2::from_value(value).map_err(|e| {
        hessian_status(
            &format!("cannot decode {} from Hessian", std::any::type_name::<T>()),
            e,
        )
    })
}

impl Message for () {
    const JAVA_CLASS: &'static str = "com.google.protobuf.Empty";

    fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
        encoder.write_null();
        Ok(())
    }

    fn decode_hessian(_value: Value) -> Result<Self, Status> {
        Ok(())
    }
}

struct Wkt<'a, T>(&'a T);

impl<T: crate::codegen::serde_wkt::Wkt> serde::Serialize for Wkt<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_wkt(s)
    }
}

struct WktOwned<T>(T);

impl<'de, T: crate::codegen::serde_wkt::Wkt> serde::Deserialize<'de> for WktOwned<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_wkt(d).map(WktOwned)
    }
}

macro_rules! wkt_message {
    ($($ty:ident),* $(,)?) => {
        $(impl Message for prost_types::$ty {
            const JAVA_CLASS: &'static str = concat!("com.google.protobuf.", stringify!($ty));

            fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
                encode_hessian_serde(&Wkt(self), encoder)
            }

            fn decode_hessian(value: Value) -> Result<Self, Status> {
                decode_hessian_serde::<WktOwned<Self>>(value).map(|w| w.0)
            }
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

/// Object-safe view of a [`Message`], used inside a typed [`Payload`].
pub trait AnyMessage: fmt::Debug + Send + Sync + 'static {
    /// Appends the protobuf encoding to `buf`.
    fn encode_protobuf(&self, buf: &mut BytesMut);
    /// Length of the protobuf encoding.
    fn protobuf_len(&self) -> usize;
    /// Writes the message as a Hessian value.
    fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status>;
    /// The Java class name (see [`Message::JAVA_CLASS`]).
    fn java_class(&self) -> &'static str;
    /// The Rust type name, for error messages.
    fn type_name(&self) -> &'static str;
    /// Upcast for downcasting to the concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// Upcast for inspecting the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// A boxed copy (cluster retries resend a request).
    fn clone_box(&self) -> Box<dyn AnyMessage>;
}

impl<T: Message> AnyMessage for T {
    fn encode_protobuf(&self, buf: &mut BytesMut) {
        // `BytesMut` grows as needed, so encoding cannot run out of space.
        let _ = prost::Message::encode(self, buf);
    }
    fn protobuf_len(&self) -> usize {
        prost::Message::encoded_len(self)
    }
    fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
        Message::encode_hessian(self, encoder)
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
    fn clone_box(&self) -> Box<dyn AnyMessage> {
        Box::new(self.clone())
    }
}

enum Repr {
    Typed(Box<dyn AnyMessage>),
    Protobuf(Bytes),
    Hessian(Value),
    Arguments(Vec<Value>),
}

impl Clone for Repr {
    fn clone(&self) -> Repr {
        match self {
            Repr::Typed(m) => Repr::Typed(m.clone_box()),
            Repr::Protobuf(b) => Repr::Protobuf(b.clone()),
            Repr::Hessian(v) => Repr::Hessian(v.clone()),
            Repr::Arguments(a) => Repr::Arguments(a.clone()),
        }
    }
}

/// One message in flight: typed (not yet encoded), or as received from the wire (protobuf
/// bytes over Triple, a Hessian value or a Java method's argument list over Dubbo2).
///
/// It also carries a compression flag: on a payload to send, `Some(false)` keeps it
/// uncompressed even when the call compresses (`Some(true)` asks for compression where the
/// call allows it); on a received payload, whether its frame was compressed.
#[derive(Clone)]
pub struct Payload {
    repr: Repr,
    compression: Option<bool>,
}

impl Payload {
    /// Wraps a typed message.
    pub fn typed<T: Message>(message: T) -> Payload {
        Payload {
            repr: Repr::Typed(Box::new(message)),
            compression: None,
        }
    }

    /// Wraps protobuf-encoded bytes.
    pub fn protobuf(bytes: Bytes) -> Payload {
        Payload {
            repr: Repr::Protobuf(bytes),
            compression: None,
        }
    }

    /// Wraps a Hessian value.
    pub fn hessian(value: Value) -> Payload {
        Payload {
            repr: Repr::Hessian(value),
            compression: None,
        }
    }

    /// Wraps the arguments of a Java method call, one Hessian value per declared parameter
    /// (see the [module docs](self#arguments-of-java-methods)).
    ///
    /// ```
    /// use dubbo_runtime::Payload;
    /// use dubbo_runtime::hessian2::Value;
    /// let payload = Payload::arguments(vec![Value::from("world"), Value::Int(3)]);
    /// assert_eq!(payload.as_arguments().map(<[Value]>::len), Some(2));
    /// let args = payload.into_arguments().unwrap();
    /// assert_eq!(args[0].as_str(), Some("world"));
    /// ```
    pub fn arguments(values: Vec<Value>) -> Payload {
        Payload {
            repr: Repr::Arguments(values),
            compression: None,
        }
    }

    /// Sets the compression flag (see the type docs).
    #[must_use]
    pub fn with_compression(mut self, compression: Option<bool>) -> Payload {
        self.compression = compression;
        self
    }

    /// The compression flag (see the type docs).
    pub fn compression(&self) -> Option<bool> {
        self.compression
    }

    /// The typed message, if this payload is one.
    pub fn as_typed(&self) -> Option<&dyn AnyMessage> {
        match &self.repr {
            Repr::Typed(m) => Some(&**m),
            _ => None,
        }
    }

    /// The protobuf bytes, if this payload was received as protobuf.
    pub fn as_protobuf(&self) -> Option<&Bytes> {
        match &self.repr {
            Repr::Protobuf(b) => Some(b),
            _ => None,
        }
    }

    /// The Hessian value, if this payload was received as Hessian.
    pub fn as_hessian(&self) -> Option<&Value> {
        match &self.repr {
            Repr::Hessian(v) => Some(v),
            _ => None,
        }
    }

    /// Takes the Hessian value out, if this payload is one (a one-element argument list
    /// counts as that element).
    pub fn into_hessian(self) -> Result<Value, Payload> {
        match self.repr {
            Repr::Hessian(v) => Ok(v),
            Repr::Arguments(mut args) if args.len() == 1 => Ok(args.remove(0)),
            repr => Err(Payload {
                repr,
                compression: self.compression,
            }),
        }
    }

    /// The argument list, if this payload is one.
    pub fn as_arguments(&self) -> Option<&[Value]> {
        match &self.repr {
            Repr::Arguments(args) => Some(args),
            _ => None,
        }
    }

    /// Takes the Java call arguments out: an argument list as is, a single Hessian value as a
    /// one-element list. Typed messages and protobuf bytes are returned unchanged as `Err`.
    pub fn into_arguments(self) -> Result<Vec<Value>, Payload> {
        match self.repr {
            Repr::Arguments(args) => Ok(args),
            Repr::Hessian(v) => Ok(vec![v]),
            repr => Err(Payload {
                repr,
                compression: self.compression,
            }),
        }
    }

    /// How many Java call arguments this payload writes (see
    /// [`encode_hessian_arguments`](Self::encode_hessian_arguments)).
    pub fn argument_count(&self) -> usize {
        match &self.repr {
            Repr::Arguments(args) => args.len(),
            _ => 1,
        }
    }

    /// Writes the payload as the arguments of a Java method call, sharing `encoder`'s tables
    /// with the rest of the body: one argument for a typed message or a Hessian value, one per
    /// element for an argument list. Returns the number of arguments written.
    pub fn encode_hessian_arguments(&self, encoder: &mut Encoder) -> Result<usize, Status> {
        match &self.repr {
            Repr::Arguments(args) => {
                for arg in args {
                    encoder
                        .write_value(arg)
                        .map_err(|e| hessian_status("cannot encode argument", e))?;
                }
                Ok(args.len())
            }
            _ => self.encode_hessian(encoder).map(|()| 1),
        }
    }

    /// Converts the payload into `T`: a typed payload is downcast (no encoding happens),
    /// encoded payloads are decoded.
    pub fn decode<T: Message>(self) -> Result<T, Status> {
        match self.repr {
            Repr::Typed(message) => {
                let name = message.type_name();
                message.into_any().downcast::<T>().map(|b| *b).map_err(|_| {
                    Status::internal(format!(
                        "message type mismatch: expected {}, got {name}",
                        std::any::type_name::<T>()
                    ))
                })
            }
            Repr::Protobuf(bytes) => T::decode(bytes).map_err(|e| {
                Status::internal(format!(
                    "failed to decode {}: {e}",
                    std::any::type_name::<T>()
                ))
            }),
            Repr::Hessian(value) => T::decode_hessian(value),
            Repr::Arguments(mut args) => {
                if args.len() != 1 {
                    return Err(Status::invalid_argument(format!(
                        "expected one argument of type {}, received {}",
                        T::JAVA_CLASS,
                        args.len()
                    )));
                }
                T::decode_hessian(args.remove(0))
            }
        }
    }

    /// Appends the protobuf encoding to `buf`.
    pub fn encode_protobuf(&self, buf: &mut BytesMut) -> Result<(), Status> {
        match &self.repr {
            Repr::Typed(message) => {
                message.encode_protobuf(buf);
                Ok(())
            }
            Repr::Protobuf(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
            Repr::Hessian(_) | Repr::Arguments(_) => Err(Status::internal(
                "a Hessian value cannot be sent as protobuf; decode it into a message first",
            )),
        }
    }

    /// Length of the protobuf encoding (0 for a Hessian value).
    pub fn protobuf_len(&self) -> usize {
        match &self.repr {
            Repr::Typed(message) => message.protobuf_len(),
            Repr::Protobuf(bytes) => bytes.len(),
            Repr::Hessian(_) | Repr::Arguments(_) => 0,
        }
    }

    /// Writes the payload as a Hessian value.
    pub fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
        match &self.repr {
            Repr::Typed(message) => message.encode_hessian(encoder),
            Repr::Hessian(value) => encoder
                .write_value(value)
                .map_err(|e| hessian_status("cannot encode Hessian value", e)),
            Repr::Protobuf(_) => Err(Status::internal(
                "protobuf bytes cannot be sent as Hessian; decode them into a message first",
            )),
            Repr::Arguments(_) => Err(Status::internal(
                "an argument list is not one Hessian value; write it with encode_hessian_arguments",
            )),
        }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Typed(m) => f.debug_tuple("Typed").field(m).finish()?,
            Repr::Protobuf(b) => write!(f, "Protobuf({} bytes)", b.len())?,
            Repr::Hessian(v) => f.debug_tuple("Hessian").field(v).finish()?,
            Repr::Arguments(a) => f.debug_tuple("Arguments").field(a).finish()?,
        }
        if let Some(c) = self.compression {
            write!(f, " compression={c}")?;
        }
        Ok(())
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

    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    #[serde(rename = "test.Ping", default)]
    struct Ping {
        #[prost(string, tag = "1")]
        text: String,
    }
    impl Message for Ping {
        const JAVA_CLASS: &'static str = "test.Ping";
        fn encode_hessian(&self, encoder: &mut Encoder) -> Result<(), Status> {
            encode_hessian_serde(self, encoder)
        }
        fn decode_hessian(value: Value) -> Result<Self, Status> {
            decode_hessian_serde(value)
        }
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
        let payload = Payload::protobuf(bytes.clone()).with_compression(Some(true));
        assert_eq!(payload.protobuf_len(), bytes.len());
        assert_eq!(payload.compression(), Some(true));
        assert_eq!(payload.decode::<Ping>().unwrap().text, "yo");
        let bad = Payload::protobuf(Bytes::from_static(&[0x0a, 0x05, b'a']));
        assert_eq!(
            bad.decode::<Ping>().unwrap_err().code(),
            crate::Code::Internal
        );
    }

    #[test]
    fn hessian_payloads_round_trip_through_serde() {
        let mut encoder = Encoder::new();
        Payload::typed(Ping { text: "h".into() })
            .encode_hessian(&mut encoder)
            .unwrap();
        let value = dubbo_hessian2::Decoder::new(encoder.as_bytes())
            .read_value()
            .unwrap();
        assert_eq!(value.class_name(), Some("test.Ping"));
        let ping = Payload::hessian(value).decode::<Ping>().unwrap();
        assert_eq!(ping.text, "h");
        // Protobuf bytes cannot become Hessian without a type.
        let err = Payload::protobuf(Bytes::new())
            .encode_hessian(&mut Encoder::new())
            .unwrap_err();
        assert_eq!(err.code(), crate::Code::Internal);
    }

    #[test]
    fn argument_lists_decode_as_one_message_and_encode_per_element() {
        let mut encoder = Encoder::new();
        Payload::typed(Ping { text: "a".into() })
            .encode_hessian(&mut encoder)
            .unwrap();
        let value = dubbo_hessian2::Decoder::new(encoder.as_bytes())
            .read_value()
            .unwrap();
        let one = Payload::arguments(vec![value.clone()]);
        assert_eq!(one.argument_count(), 1);
        assert_eq!(one.decode::<Ping>().unwrap().text, "a");
        let two = Payload::arguments(vec![value.clone(), Value::Null]);
        let err = two.decode::<Ping>().unwrap_err();
        assert_eq!(err.code(), crate::Code::InvalidArgument);
        let mut encoder = Encoder::new();
        let n = Payload::arguments(vec![Value::from("x"), Value::Int(1)])
            .encode_hessian_arguments(&mut encoder)
            .unwrap();
        assert_eq!((n, encoder.as_bytes()), (2, &[0x01, b'x', 0x91][..]));
        let mut encoder = Encoder::new();
        let n = Payload::typed(Ping { text: "a".into() })
            .encode_hessian_arguments(&mut encoder)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            Payload::hessian(Value::Int(1)).into_arguments().unwrap(),
            vec![Value::Int(1)]
        );
        assert!(Payload::typed(()).into_arguments().is_err());
        assert!(
            Payload::arguments(vec![Value::Null])
                .encode_hessian(&mut Encoder::new())
                .is_err()
        );
    }

    #[test]
    fn well_known_types_have_hessian_mappings() {
        let ts = prost_types::Timestamp {
            seconds: 7,
            nanos: 9,
        };
        let mut encoder = Encoder::new();
        Message::encode_hessian(&ts, &mut encoder).unwrap();
        let value = dubbo_hessian2::Decoder::new(encoder.as_bytes())
            .read_value()
            .unwrap();
        assert_eq!(value.class_name(), Some("com.google.protobuf.Timestamp"));
        let back = <prost_types::Timestamp as Message>::decode_hessian(value).unwrap();
        assert_eq!(back, ts);
    }
}
