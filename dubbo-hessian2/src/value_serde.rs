//! `Serialize` / `Deserialize` for [`Value`].
//!
//! In serde's data model a `Value` looks like this (so that it survives a
//! round trip through this crate's serializers, and looks reasonable in
//! other formats such as JSON):
//!
//! | Value | serde form |
//! |---|---|
//! | `Null` | unit |
//! | `Bool`, `Int`, `Long`, `Double`, `String` | bool, i32, i64, f64, str |
//! | `Binary` | bytes |
//! | `Date(ms)` | map `{"$date": ms}` |
//! | untyped `List` | seq |
//! | typed `List` | map `{"$list": type, "$items": [..]}` |
//! | untyped `Map` | map (prefixed by `"$map": null` if its first key is reserved) |
//! | typed `Map` | map `{"$map": type, k: v, ..}` |
//! | `Object` | map `{"$class": class, field: value, ..}` |
//! | `Ref(i)` | map `{"$ref": i}` |

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::magic;
use crate::value::Value;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i32(*i),
            Value::Long(l) => s.serialize_i64(*l),
            Value::Double(d) => s.serialize_f64(*d),
            Value::String(v) => s.serialize_str(v),
            Value::Binary(b) => s.serialize_bytes(b),
            Value::Date(ms) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(magic::DATE, ms)?;
                m.end()
            }
            Value::List {
                type_name: None,
                items,
            } => s.collect_seq(items),
            Value::List {
                type_name: Some(t),
                items,
            } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry(magic::LIST, t)?;
                m.serialize_entry(magic::ITEMS, items)?;
                m.end()
            }
            Value::Map { type_name, entries } => {
                let reserved_first = matches!(
                    entries.first(),
                    Some((Value::String(k), _)) if magic::is_magic_key(k)
                );
                let prefix = type_name.is_some() || reserved_first;
                let mut m = s.serialize_map(Some(entries.len() + usize::from(prefix)))?;
                if prefix {
                    m.serialize_entry(magic::MAP, type_name)?;
                }
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Value::Object { class, fields } => {
                let mut m = s.serialize_map(Some(fields.len() + 1))?;
                m.serialize_entry(magic::CLASS, class)?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Value::Ref(t) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(magic::REF, t)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(magic::VALUE_NEWTYPE, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any Hessian value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i8<E>(self, v: i8) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i16<E>(self, v: i16) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i32<E>(self, v: i32) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Long(v))
    }
    fn visit_u8<E>(self, v: u8) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u16<E>(self, v: u16) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u32<E>(self, v: u32) -> Result<Value, E> {
        Ok(Value::Long(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Long)
            .map_err(|_| E::custom(format!("integer {v} does not fit a Hessian long")))
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Double(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Double(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<Value>()? else {
            return Ok(Value::map(Vec::new()));
        };
        if let Value::String(k) = &first {
            match k.as_str() {
                magic::CLASS => {
                    let class: String = map.next_value()?;
                    let mut fields = Vec::new();
                    while let Some(name) = map.next_key::<String>()? {
                        fields.push((name, map.next_value::<Value>()?));
                    }
                    return Ok(Value::Object { class, fields });
                }
                magic::LIST => {
                    let type_name: Option<String> = map.next_value()?;
                    let mut items = Vec::new();
                    while let Some(name) = map.next_key::<String>()? {
                        if name == magic::ITEMS {
                            items = map.next_value::<Vec<Value>>()?;
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    return Ok(Value::List { type_name, items });
                }
                magic::MAP => {
                    let type_name: Option<String> = map.next_value()?;
                    let mut entries = Vec::new();
                    while let Some(e) = map.next_entry::<Value, Value>()? {
                        entries.push(e);
                    }
                    return Ok(Value::Map { type_name, entries });
                }
                magic::DATE => {
                    let ms: i64 = map.next_value()?;
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    return Ok(Value::Date(ms));
                }
                magic::REF => {
                    let t: u64 = map.next_value()?;
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    let t = usize::try_from(t).map_err(de::Error::custom)?;
                    return Ok(Value::Ref(t));
                }
                _ => {}
            }
        }
        let mut entries = vec![(first, map.next_value::<Value>()?)];
        while let Some(e) = map.next_entry::<Value, Value>()? {
            entries.push(e);
        }
        Ok(Value::map(entries))
    }
}
