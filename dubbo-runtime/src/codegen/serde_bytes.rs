//! serde adapters for protobuf `bytes` fields, so they serialize as byte strings (Hessian
//! binary) rather than lists of numbers. One module per field shape.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A byte container prost may generate: `Vec<u8>` or `bytes::Bytes`.
pub trait Leaf: Sized {
    /// The bytes.
    fn as_slice(&self) -> &[u8];
    /// Builds the container.
    fn from_vec(bytes: Vec<u8>) -> Self;
}

impl Leaf for Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn from_vec(bytes: Vec<u8>) -> Self {
        bytes
    }
}

impl Leaf for bytes::Bytes {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn from_vec(bytes: Vec<u8>) -> Self {
        bytes::Bytes::from(bytes)
    }
}

struct Ser<'a>(&'a [u8]);

impl Serialize for Ser<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct De<B>(B);

impl<'de, B: Leaf> Deserialize<'de> for De<B> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
                Ok(v.as_bytes().to_vec())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Vec<u8>, E> {
                Ok(Vec::new())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_byte_buf(V).map(|v| De(B::from_vec(v)))
    }
}

/// A `bytes` field (`Vec<u8>` / `Bytes`).
pub mod single {
    use super::*;

    /// Serializes as a byte string.
    pub fn serialize<B: Leaf, S: Serializer>(value: &B, s: S) -> Result<S::Ok, S::Error> {
        Ser(value.as_slice()).serialize(s)
    }

    /// Accepts a byte string (or a sequence of bytes).
    pub fn deserialize<'de, B: Leaf, D: Deserializer<'de>>(d: D) -> Result<B, D::Error> {
        De::<B>::deserialize(d).map(|v| v.0)
    }
}

/// An `optional bytes` field.
pub mod option {
    use super::*;

    /// Serializes `None` as null.
    pub fn serialize<B: Leaf, S: Serializer>(value: &Option<B>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(&Ser(v.as_slice())),
            None => s.serialize_none(),
        }
    }

    /// Accepts null or bytes.
    pub fn deserialize<'de, B: Leaf, D: Deserializer<'de>>(d: D) -> Result<Option<B>, D::Error> {
        Option::<De<B>>::deserialize(d).map(|v| v.map(|v| v.0))
    }
}

/// A `repeated bytes` field.
pub mod vec {
    use super::*;

    /// Serializes a list of byte strings.
    pub fn serialize<B: Leaf, S: Serializer>(value: &[B], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for v in value {
            seq.serialize_element(&Ser(v.as_slice()))?;
        }
        seq.end()
    }

    /// Accepts a list of byte strings.
    pub fn deserialize<'de, B: Leaf, D: Deserializer<'de>>(d: D) -> Result<Vec<B>, D::Error> {
        Vec::<De<B>>::deserialize(d).map(|v| v.into_iter().map(|v| v.0).collect())
    }
}

/// A `map<K, bytes>` field (`HashMap` or `BTreeMap`).
pub mod map {
    use super::*;

    /// Serializes a map whose values are byte strings.
    pub fn serialize<'a, M, K, B, S>(value: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a B)>,
        K: Serialize + 'a,
        B: Leaf + 'a,
        S: Serializer,
    {
        let mut map = s.serialize_map(None)?;
        for (k, v) in value {
            map.serialize_entry(k, &Ser(v.as_slice()))?;
        }
        map.end()
    }

    /// Accepts a map whose values are byte strings.
    pub fn deserialize<'de, M, K, B, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, B)>,
        K: Deserialize<'de>,
        B: Leaf,
        D: Deserializer<'de>,
    {
        struct V<K, B>(PhantomData<(K, B)>);
        impl<'de, K: Deserialize<'de>, B: Leaf> Visitor<'de> for V<K, B> {
            type Value = Vec<(K, B)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of byte strings")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<K, De<B>>()? {
                    out.push((k, v.0));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V::<K, B>(PhantomData))
            .map(|v| v.into_iter().collect())
    }
}
