//! serde `Serializer` producing a [`Value`] (`to_value`), which the
//! [`Encoder`](crate::Encoder) then writes.

use std::cell::Cell;

use serde::ser::{self, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::magic;
use crate::value::Value;

/// Converts any `T: Serialize` into a [`Value`] with the crate's serde
/// mapping (see the crate docs).
///
/// ```
/// use dubbo_hessian2::{to_value, Value};
///
/// #[derive(serde::Serialize)]
/// #[serde(rename = "com.foo.User")]
/// struct User { name: String, age: Option<u32> }
///
/// let v = to_value(&User { name: "ann".into(), age: None }).unwrap();
/// assert_eq!(v.class_name(), Some("com.foo.User"));
/// assert_eq!(v.get("name"), Some(&Value::from("ann")));
/// assert_eq!(v.get("age"), Some(&Value::Null));
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    let this = Cell::new(false);
    let mut v = value.serialize(ValueSerializer { this: &this })?;
    if this.get() {
        let mut state = ThisFixup {
            next: 0,
            objects: Vec::new(),
        };
        state.walk(&mut v)?;
    }
    Ok(v)
}

/// Replaces "reference to the enclosing object" placeholders by the
/// pre-order index of the innermost enclosing object.
struct ThisFixup {
    next: usize,
    objects: Vec<usize>,
}

impl ThisFixup {
    fn walk(&mut self, v: &mut Value) -> Result<()> {
        match v {
            Value::Ref(t) if *t == magic::THIS_SENTINEL => {
                *t = *self.objects.last().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Type,
                        "self-reference marker outside of any object",
                    )
                })?;
            }
            Value::List { items, .. } => {
                self.next += 1;
                for i in items {
                    self.walk(i)?;
                }
            }
            Value::Map { entries, .. } => {
                self.next += 1;
                for (k, val) in entries {
                    self.walk(k)?;
                    self.walk(val)?;
                }
            }
            Value::Object { fields, .. } => {
                self.objects.push(self.next);
                self.next += 1;
                for (_, val) in fields {
                    self.walk(val)?;
                }
                self.objects.pop();
            }
            _ => {}
        }
        Ok(())
    }
}

/// The serializer behind [`to_value`].
#[derive(Clone, Copy)]
pub(crate) struct ValueSerializer<'a> {
    this: &'a Cell<bool>,
}

impl<'a> ValueSerializer<'a> {
    /// A serializer that sets `this` when it meets the self-reference
    /// marker (left as a placeholder [`Value::Ref`]).
    pub(crate) fn new(this: &'a Cell<bool>) -> Self {
        ValueSerializer { this }
    }
}

fn long_from<T: TryInto<i64> + std::fmt::Display + Copy>(v: T) -> Result<Value> {
    v.try_into().map(Value::Long).map_err(|_| {
        Error::new(
            ErrorKind::Type,
            format!("integer {v} does not fit a Hessian long (i64)"),
        )
    })
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqSer<'a>;
    type SerializeTuple = SeqSer<'a>;
    type SerializeTupleStruct = SeqSer<'a>;
    type SerializeTupleVariant = VariantSeqSer<'a>;
    type SerializeMap = MapSer<'a>;
    type SerializeStruct = StructSer<'a>;
    type SerializeStructVariant = VariantStructSer<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::Int(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::Long(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        long_from(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::Long(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        long_from(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        long_from(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Double(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Double(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(Value::enum_constant(name, variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value> {
        match name {
            magic::DATE_NEWTYPE => match value.serialize(self)? {
                Value::Int(i) => Ok(Value::Date(i.into())),
                Value::Long(l) | Value::Date(l) => Ok(Value::Date(l)),
                other => Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "a date must be milliseconds, found {}",
                        crate::de::describe(&other)
                    ),
                )),
            },
            magic::THIS_NEWTYPE => {
                self.this.set(true);
                Ok(Value::Ref(magic::THIS_SENTINEL))
            }
            _ => value.serialize(self),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let v = value.serialize(self)?;
        Ok(Value::map(vec![(Value::String(variant.to_owned()), v)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'a>> {
        Ok(SeqSer {
            ser: self,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSeqSer<'a>> {
        Ok(VariantSeqSer {
            variant,
            seq: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer<'a>> {
        Ok(MapSer {
            ser: self,
            entries: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSer<'a>> {
        Ok(StructSer {
            ser: self,
            class: name,
            fields: Vec::with_capacity(len.min(4096)),
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantStructSer<'a>> {
        Ok(VariantStructSer {
            variant,
            inner: StructSer {
                ser: self,
                class: variant,
                fields: Vec::with_capacity(len.min(4096)),
            },
        })
    }
}

/// Builds untyped lists.
pub(crate) struct SeqSer<'a> {
    ser: ValueSerializer<'a>,
    items: Vec<Value>,
}

impl ser::SerializeSeq for SeqSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(self.ser)?);
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(Value::list(self.items))
    }
}

impl ser::SerializeTuple for SeqSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

/// Builds `{variant: [..]}`.
pub(crate) struct VariantSeqSer<'a> {
    variant: &'static str,
    seq: SeqSer<'a>,
}

impl ser::SerializeTupleVariant for VariantSeqSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(&mut self.seq, value)
    }
    fn end(self) -> Result<Value> {
        let list = ser::SerializeSeq::end(self.seq)?;
        Ok(Value::map(vec![(
            Value::String(self.variant.to_owned()),
            list,
        )]))
    }
}

/// Builds untyped maps, or the special shapes announced by a reserved first
/// key (`$class`, `$list`, `$map`, `$date`, `$ref`).
pub(crate) struct MapSer<'a> {
    ser: ValueSerializer<'a>,
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(self.ser)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(|| {
            Error::new(
                ErrorKind::Custom,
                "serialize_value called before serialize_key",
            )
        })?;
        self.entries.push((key, value.serialize(self.ser)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        finish_map(self.entries)
    }
}

fn type_name_of(v: Value, what: &str) -> Result<Option<String>> {
    match v {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(Error::new(
            ErrorKind::Type,
            format!(
                "{what} must be a string, found {}",
                crate::de::describe(&other)
            ),
        )),
    }
}

/// Interprets an untyped map whose first key is reserved.
pub(crate) fn finish_map(entries: Vec<(Value, Value)>) -> Result<Value> {
    let magic_key = match entries.first() {
        Some((Value::String(k), _)) if magic::is_magic_key(k) => k.clone(),
        _ => return Ok(Value::map(entries)),
    };
    let mut it = entries.into_iter();
    let first = it.next().map(|(_, v)| v).unwrap_or_default();
    match magic_key.as_str() {
        magic::CLASS => {
            let class = type_name_of(first, "$class")?.unwrap_or_default();
            let fields = it
                .map(|(k, v)| match k {
                    Value::String(name) => Ok((name, v)),
                    other => Err(Error::new(
                        ErrorKind::Type,
                        format!(
                            "object field names must be strings, found {}",
                            crate::de::describe(&other)
                        ),
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Value::Object { class, fields })
        }
        magic::LIST => {
            let type_name = type_name_of(first, "$list")?;
            let mut items = Vec::new();
            for (k, v) in it {
                if k.as_str() == Some(magic::ITEMS) {
                    match v {
                        Value::List { items: i, .. } => items = i,
                        Value::Null => {}
                        other => {
                            return Err(Error::new(
                                ErrorKind::Type,
                                format!(
                                    "$items must be a list, found {}",
                                    crate::de::describe(&other)
                                ),
                            ));
                        }
                    }
                }
            }
            Ok(Value::List { type_name, items })
        }
        magic::MAP => {
            let type_name = type_name_of(first, "$map")?;
            Ok(Value::Map {
                type_name,
                entries: it.collect(),
            })
        }
        magic::DATE => match first {
            Value::Int(i) => Ok(Value::Date(i.into())),
            Value::Long(l) | Value::Date(l) => Ok(Value::Date(l)),
            other => Err(Error::new(
                ErrorKind::Type,
                format!(
                    "$date must be an integer, found {}",
                    crate::de::describe(&other)
                ),
            )),
        },
        _ => match first.as_i64().and_then(|i| usize::try_from(i).ok()) {
            Some(t) => Ok(Value::Ref(t)),
            None => Err(Error::new(
                ErrorKind::Type,
                "$ref must be a non-negative integer",
            )),
        },
    }
}

/// Builds objects whose class is the serde struct name.
pub(crate) struct StructSer<'a> {
    ser: ValueSerializer<'a>,
    class: &'static str,
    fields: Vec<(String, Value)>,
}

impl ser::SerializeStruct for StructSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.fields
            .push((key.to_owned(), value.serialize(self.ser)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(Value::Object {
            class: self.class.to_owned(),
            fields: self.fields,
        })
    }
}

/// Builds `{variant: {field: value, ..}}` (an untyped map of the fields).
pub(crate) struct VariantStructSer<'a> {
    variant: &'static str,
    inner: StructSer<'a>,
}

impl ser::SerializeStructVariant for VariantStructSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value> {
        let fields = self
            .inner
            .fields
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect();
        Ok(Value::map(vec![(
            Value::String(self.variant.to_owned()),
            Value::map(fields),
        )]))
    }
}
