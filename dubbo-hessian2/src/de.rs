//! serde `Deserializer` over a [`Value`] (`from_value`); the
//! [`Decoder`](crate::Decoder) decodes into a `Value` and then uses it.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use crate::error::{Error, ErrorKind, Result};
use crate::magic;
use crate::value::Value;

/// Maps a [`Value`] into any `T: Deserialize` with the crate's serde mapping
/// (see the crate docs).
///
/// Numbers convert into whichever Rust numeric type is asked for when the
/// value fits (an int into `i64`, a long into `i32`, an int into `f32`, an
/// integral double into `u8`, …). Structs accept objects (fields matched by
/// name, unknown fields ignored) and maps with string keys.
///
/// ```
/// use dubbo_hessian2::{from_value, Value};
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct User { name: String, age: u8 }
///
/// let v = Value::object("com.foo.User", vec![
///     ("age".into(), Value::Long(30)),
///     ("name".into(), "ann".into()),
///     ("unknown".into(), Value::Null),
/// ]);
/// assert_eq!(from_value::<User>(v).unwrap(), User { name: "ann".into(), age: 30 });
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(ValueDeserializer(value))
}

/// A short description of a value's kind, for error messages.
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an int",
        Value::Long(_) => "a long",
        Value::Double(_) => "a double",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary data",
        Value::Date(_) => "a date",
        Value::List { .. } => "a list",
        Value::Map { .. } => "a map",
        Value::Object { .. } => "an object",
        Value::Ref(_) => "a cyclic reference",
    }
}

fn type_error(v: &Value, expected: &str) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("invalid type: {}, expected {expected}", describe(v)),
    )
}

/// The `Deserializer` methods that only hand over to another shape, the same in both of this
/// crate's deserializers (of a [`Value`] and of the input).
macro_rules! forward_shapes {
    () => {
        fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_byte_buf(visitor)
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value> {
            self.deserialize_unit(visitor)
        }

        fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_any(visitor)
        }
    };
}
pub(crate) use forward_shapes;

/// A `serde::Deserializer` that consumes a [`Value`].
#[derive(Debug)]
pub struct ValueDeserializer(pub Value);

impl IntoDeserializer<'_, Error> for Value {
    type Deserializer = ValueDeserializer;
    fn into_deserializer(self) -> ValueDeserializer {
        ValueDeserializer(self)
    }
}

/// The value as an integer, if it is one (ints, longs, dates, integral
/// doubles).
fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::Long(l) | Value::Date(l) => Some(i128::from(*l)),
        Value::Double(d) if d.fract() == 0.0 && d.abs() < 1e30 => Some(*d as i128),
        _ => None,
    }
}

macro_rules! de_int {
    ($($method:ident => $t:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            match integer(&self.0) {
                Some(n) => match <$t>::try_from(n) {
                    Ok(x) => visitor.$visit(x),
                    Err(_) => Err(Error::new(
                        ErrorKind::Type,
                        format!("number {n} out of range for {}", stringify!($t)),
                    )),
                },
                None => Err(type_error(&self.0, stringify!($t))),
            }
        }
    )*};
}

fn visit_seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value> {
    let mut seq = SeqDe {
        iter: items.into_iter(),
    };
    let v = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() == 0 {
        Ok(v)
    } else {
        Err(Error::new(
            ErrorKind::Type,
            format!("{} list element(s) left over", seq.iter.len()),
        ))
    }
}

fn field_pairs(fields: Vec<(String, Value)>) -> impl Iterator<Item = (Value, Value)> {
    fields.into_iter().map(|(k, v)| (Value::String(k), v))
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = Error;

    forward_shapes!();

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null | Value::Ref(_) => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i32(i),
            Value::Long(l) | Value::Date(l) => visitor.visit_i64(l),
            Value::Double(d) => visitor.visit_f64(d),
            Value::String(s) => visitor.visit_string(s),
            Value::Binary(b) => visitor.visit_byte_buf(b),
            Value::List { items, .. } => visit_seq(items, visitor),
            Value::Map { entries, .. } => visitor.visit_map(PairsDe::new(entries.into_iter())),
            Value::Object { fields, .. } => visitor.visit_map(PairsDe::new(field_pairs(fields))),
        }
    }

    de_int! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.as_f64() {
            Some(d) => visitor.visit_f32(d as f32),
            None => Err(type_error(&self.0, "f32")),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.as_f64() {
            Some(d) => visitor.visit_f64(d),
            None => Err(type_error(&self.0, "f64")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            other => Err(type_error(&other, "a boolean")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.0 {
            Value::String(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(Error::new(
                        ErrorKind::Type,
                        format!(
                            "expected a single character, found a string of {} chars",
                            s.chars().count()
                        ),
                    )),
                }
            }
            other => Err(type_error(other, "a character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            other => Err(type_error(&other, "a string")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Binary(b) => visitor.visit_byte_buf(b),
            Value::String(s) => visitor.visit_string(s),
            Value::List { items, .. } => visit_seq(items, visitor),
            other => Err(type_error(&other, "binary data")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            // A cycle cannot be represented in a typed tree: treat as absent.
            Value::Null | Value::Ref(_) => visitor.visit_none(),
            other => visitor.visit_some(ValueDeserializer(other)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null | Value::Ref(_) => visitor.visit_unit(),
            other => Err(type_error(&other, "null")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match name {
            magic::VALUE_NEWTYPE => visitor.visit_newtype_struct(RichDeserializer(self.0)),
            magic::DATE_NEWTYPE => match self.0 {
                Value::Date(ms) | Value::Long(ms) => visitor.visit_i64(ms),
                Value::Int(i) => visitor.visit_i64(i.into()),
                other => Err(type_error(&other, "a date")),
            },
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::List { items, .. } => visit_seq(items, visitor),
            // Java byte[] travels as binary.
            Value::Binary(b) => visit_seq(
                b.into_iter().map(|x| Value::Int(x.into())).collect(),
                visitor,
            ),
            other => Err(type_error(&other, "a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Map { entries, .. } => visitor.visit_map(PairsDe::new(entries.into_iter())),
            Value::Object { fields, .. } => visitor.visit_map(PairsDe::new(field_pairs(fields))),
            other => Err(type_error(&other, "a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Value::Map { entries, .. } => visitor.visit_map(PairsDe::new(entries.into_iter())),
            Value::Object { fields, .. } => visitor.visit_map(PairsDe::new(field_pairs(fields))),
            Value::List { items, .. } => visit_seq(items, visitor),
            other => Err(type_error(&other, "an object or a map")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(EnumDe {
                variant,
                value: None,
            }),
            Value::Object { fields, class } => {
                let name = fields
                    .into_iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v);
                match name {
                    Some(Value::String(variant)) => visitor.visit_enum(EnumDe {
                        variant,
                        value: None,
                    }),
                    _ => Err(Error::new(
                        ErrorKind::Type,
                        format!("object of class {class} has no string field `name` for an enum"),
                    )),
                }
            }
            Value::Map { entries, .. } if entries.len() == 1 => {
                let mut it = entries.into_iter();
                match it.next() {
                    Some((Value::String(variant), value)) => visitor.visit_enum(EnumDe {
                        variant,
                        value: Some(value),
                    }),
                    _ => Err(Error::new(
                        ErrorKind::Type,
                        "enum map must have a single string key",
                    )),
                }
            }
            other => Err(type_error(&other, "an enum")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// Sequence access over list elements.
struct SeqDe {
    iter: std::vec::IntoIter<Value>,
}

impl<'de> SeqAccess<'de> for SeqDe {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.iter.next() {
            Some(v) => seed.deserialize(ValueDeserializer(v)).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Map access over key/value pairs.
struct PairsDe<I> {
    iter: I,
    value: Option<Value>,
}

impl<I> PairsDe<I> {
    fn new(iter: I) -> Self {
        PairsDe { iter, value: None }
    }
}

impl<'de, I: Iterator<Item = (Value, Value)>> MapAccess<'de> for PairsDe<I> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(ValueDeserializer(k)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let v = self.value.take().unwrap_or_default();
        seed.deserialize(ValueDeserializer(v))
    }
}

/// Enum access: a variant name and an optional payload.
struct EnumDe {
    variant: String,
    value: Option<Value>,
}

impl<'de> de::EnumAccess<'de> for EnumDe {
    type Error = Error;
    type Variant = VariantDe;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantDe)> {
        let v = seed.deserialize(self.variant.into_deserializer())?;
        Ok((v, VariantDe(self.value)))
    }
}

struct VariantDe(Option<Value>);

impl<'de> de::VariantAccess<'de> for VariantDe {
    type Error = Error;
    fn unit_variant(self) -> Result<()> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(ValueDeserializer(self.0.unwrap_or_default()))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(ValueDeserializer(self.0.unwrap_or_default()), visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(
            ValueDeserializer(self.0.unwrap_or_default()),
            "",
            fields,
            visitor,
        )
    }
}

/// Presents a value in the full-fidelity serde form understood by
/// `Value`'s `Deserialize` impl (objects, typed containers, dates and
/// references as maps with a reserved first key).
struct RichDeserializer(Value);

impl<'de> de::Deserializer<'de> for RichDeserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let key = |k: &str| Value::String(k.to_owned());
        match self.0 {
            Value::Object { class, fields } => visitor.visit_map(PairsDe::new(
                std::iter::once((key(magic::CLASS), Value::String(class)))
                    .chain(field_pairs(fields)),
            )),
            Value::List {
                type_name: Some(t),
                items,
            } => visitor.visit_map(PairsDe::new(
                [
                    (key(magic::LIST), Value::String(t)),
                    (key(magic::ITEMS), Value::list(items)),
                ]
                .into_iter(),
            )),
            Value::Map { type_name, entries } => {
                let reserved_first = matches!(
                    entries.first(),
                    Some((Value::String(k), _)) if magic::is_magic_key(k)
                );
                if type_name.is_none() && !reserved_first {
                    return visitor.visit_map(PairsDe::new(entries.into_iter()));
                }
                let t = type_name.map_or(Value::Null, Value::String);
                visitor.visit_map(PairsDe::new(
                    std::iter::once((key(magic::MAP), t)).chain(entries),
                ))
            }
            Value::Date(ms) => visitor.visit_map(PairsDe::new(std::iter::once((
                key(magic::DATE),
                Value::Long(ms),
            )))),
            Value::Ref(t) => visitor.visit_map(PairsDe::new(std::iter::once((
                key(magic::REF),
                Value::Long(i64::try_from(t).unwrap_or(i64::MAX)),
            )))),
            other => de::Deserializer::deserialize_any(ValueDeserializer(other), visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
