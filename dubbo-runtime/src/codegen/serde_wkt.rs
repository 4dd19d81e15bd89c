//! serde adapters for protobuf well-known types (`prost_types`), which have no serde impls of
//! their own. Timestamp, Duration, Any and FieldMask become objects named after their Java
//! classes (`com.google.protobuf.Timestamp`, …); Struct, Value and ListValue become dynamic
//! maps, values and lists; every other well-known type travels as its protobuf encoding.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use prost_types::value::Kind;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A well-known type with a serde mapping.
pub trait Wkt: Sized {
    /// Serializes the value.
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    /// Deserializes the value.
    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

struct Ser<'a, T>(&'a T);

impl<T: Wkt> Serialize for Ser<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_wkt(s)
    }
}

struct De<T>(T);

impl<'de, T: Wkt> Deserialize<'de> for De<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_wkt(d).map(De)
    }
}

macro_rules! pair_repr {
    ($ty:ident, $repr:ident, $class:literal) => {
        #[derive(Serialize, Deserialize, Default)]
        #[serde(rename = $class, default)]
        struct $repr {
            seconds: i64,
            nanos: i32,
        }

        impl Wkt for prost_types::$ty {
            fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $repr {
                    seconds: self.seconds,
                    nanos: self.nanos,
                }
                .serialize(s)
            }
            fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let r = $repr::deserialize(d)?;
                Ok(prost_types::$ty {
                    seconds: r.seconds,
                    nanos: r.nanos,
                })
            }
        }
    };
}

pair_repr!(Timestamp, TimestampRepr, "com.google.protobuf.Timestamp");
pair_repr!(Duration, DurationRepr, "com.google.protobuf.Duration");

#[derive(Serialize, Deserialize, Default)]
#[serde(rename = "com.google.protobuf.Any", rename_all = "camelCase", default)]
struct AnyRepr {
    type_url: String,
    #[serde(with = "super::serde_bytes::single")]
    value: Vec<u8>,
}

impl Wkt for prost_types::Any {
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AnyRepr {
            type_url: self.type_url.clone(),
            value: self.value.clone(),
        }
        .serialize(s)
    }
    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = AnyRepr::deserialize(d)?;
        Ok(prost_types::Any {
            type_url: r.type_url,
            value: r.value,
        })
    }
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename = "com.google.protobuf.FieldMask", default)]
struct FieldMaskRepr {
    paths: Vec<String>,
}

impl Wkt for prost_types::FieldMask {
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FieldMaskRepr {
            paths: self.paths.clone(),
        }
        .serialize(s)
    }
    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(prost_types::FieldMask {
            paths: FieldMaskRepr::deserialize(d)?.paths,
        })
    }
}

impl Wkt for prost_types::Value {
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.kind {
            None | Some(Kind::NullValue(_)) => s.serialize_unit(),
            Some(Kind::NumberValue(n)) => s.serialize_f64(*n),
            Some(Kind::StringValue(v)) => s.serialize_str(v),
            Some(Kind::BoolValue(b)) => s.serialize_bool(*b),
            Some(Kind::StructValue(st)) => st.serialize_wkt(s),
            Some(Kind::ListValue(l)) => l.serialize_wkt(s),
        }
    }

    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn value(kind: Kind) -> prost_types::Value {
            prost_types::Value { kind: Some(kind) }
        }
        impl<'de> Visitor<'de> for V {
            type Value = prost_types::Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-like value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(value(Kind::NullValue(0)))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(value(Kind::NullValue(0)))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                prost_types::Value::deserialize_wkt(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(value(Kind::BoolValue(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(value(Kind::NumberValue(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(value(Kind::NumberValue(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(value(Kind::NumberValue(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(value(Kind::StringValue(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<De<prost_types::Value>>()? {
                    values.push(v.0);
                }
                Ok(value(Kind::ListValue(prost_types::ListValue { values })))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, De<prost_types::Value>>()? {
                    fields.insert(k, v.0);
                }
                Ok(value(Kind::StructValue(prost_types::Struct { fields })))
            }
        }
        d.deserialize_any(V)
    }
}

impl Wkt for prost_types::Struct {
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, &Ser(v))?;
        }
        map.end()
    }
    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match prost_types::Value::deserialize_wkt(d)?.kind {
            Some(Kind::StructValue(s)) => Ok(s),
            Some(Kind::NullValue(_)) | None => Ok(prost_types::Struct::default()),
            Some(_) => Err(de::Error::custom(
                "expected a map for google.protobuf.Struct",
            )),
        }
    }
}

impl Wkt for prost_types::ListValue {
    fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.values.len()))?;
        for v in &self.values {
            seq.serialize_element(&Ser(v))?;
        }
        seq.end()
    }
    fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match prost_types::Value::deserialize_wkt(d)?.kind {
            Some(Kind::ListValue(l)) => Ok(l),
            Some(Kind::NullValue(_)) | None => Ok(prost_types::ListValue::default()),
            Some(_) => Err(de::Error::custom(
                "expected a list for google.protobuf.ListValue",
            )),
        }
    }
}

macro_rules! as_protobuf_bytes {
    ($($ty:path),* $(,)?) => {
        $(impl Wkt for $ty {
            fn serialize_wkt<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&prost::Message::encode_to_vec(self))
            }
            fn deserialize_wkt<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let bytes = super::serde_bytes::single::deserialize::<Vec<u8>, D>(d)?;
                <$ty as prost::Message>::decode(bytes.as_slice()).map_err(de::Error::custom)
            }
        })*
    };
}

as_protobuf_bytes!(
    prost_types::Api,
    prost_types::Method,
    prost_types::Mixin,
    prost_types::Type,
    prost_types::Field,
    prost_types::Enum,
    prost_types::EnumValue,
    prost_types::Option,
    prost_types::SourceContext,
    prost_types::FileDescriptorSet,
    prost_types::FileDescriptorProto,
    prost_types::DescriptorProto,
    prost_types::FieldDescriptorProto,
    prost_types::OneofDescriptorProto,
    prost_types::EnumDescriptorProto,
    prost_types::EnumValueDescriptorProto,
    prost_types::ServiceDescriptorProto,
    prost_types::MethodDescriptorProto,
    prost_types::FileOptions,
    prost_types::MessageOptions,
    prost_types::FieldOptions,
    prost_types::OneofOptions,
    prost_types::EnumOptions,
    prost_types::EnumValueOptions,
    prost_types::ServiceOptions,
    prost_types::MethodOptions,
    prost_types::UninterpretedOption,
    prost_types::SourceCodeInfo,
    prost_types::GeneratedCodeInfo,
    prost_types::ExtensionRangeOptions,
);

/// A singular well-known-type value (e.g. in a oneof).
pub mod single {
    use super::*;

    /// Serializes through [`Wkt`].
    pub fn serialize<T: Wkt, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        value.serialize_wkt(s)
    }

    /// Deserializes through [`Wkt`].
    pub fn deserialize<'de, T: Wkt, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize_wkt(d)
    }
}

/// An optional (message-typed) well-known-type field.
pub mod option {
    use super::*;

    /// Serializes `None` as null.
    pub fn serialize<T: Wkt, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(&Ser(v)),
            None => s.serialize_none(),
        }
    }

    /// Accepts null or a value.
    pub fn deserialize<'de, T: Wkt, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        Option::<De<T>>::deserialize(d).map(|v| v.map(|v| v.0))
    }
}

/// A repeated well-known-type field.
pub mod vec {
    use super::*;

    /// Serializes a list.
    pub fn serialize<T: Wkt, S: Serializer>(value: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for v in value {
            seq.serialize_element(&Ser(v))?;
        }
        seq.end()
    }

    /// Accepts a list.
    pub fn deserialize<'de, T: Wkt, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Vec::<De<T>>::deserialize(d).map(|v| v.into_iter().map(|v| v.0).collect())
    }
}

/// A map field with well-known-type values.
pub mod map {
    use super::*;

    /// Serializes a map.
    pub fn serialize<'a, M, K, T, S>(value: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a T)>,
        K: Serialize + 'a,
        T: Wkt + 'a,
        S: Serializer,
    {
        let mut map = s.serialize_map(None)?;
        for (k, v) in value {
            map.serialize_entry(k, &Ser(v))?;
        }
        map.end()
    }

    /// Accepts a map.
    pub fn deserialize<'de, M, K, T, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, T)>,
        K: Deserialize<'de>,
        T: Wkt,
        D: Deserializer<'de>,
    {
        struct V<K, T>(PhantomData<(K, T)>);
        impl<'de, K: Deserialize<'de>, T: Wkt> Visitor<'de> for V<K, T> {
            type Value = Vec<(K, T)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<K, De<T>>()? {
                    out.push((k, v.0));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V::<K, T>(PhantomData))
            .map(|v| v.into_iter().collect())
    }
}
