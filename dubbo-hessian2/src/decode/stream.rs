//! Deserializing a typed value straight from the input, without building the [`Value`] tree
//! first: objects and maps become serde maps whose keys borrow the field names from the class
//! definition, lists become serde sequences, and only leaves (numbers, strings, binary, …)
//! are read as values.
//!
//! It gives exactly what [`ValueDeserializer`] gives for the same input or fails: any error
//! here, and any input it does not take on (references, `Value`-typed fields, enums written
//! as objects or maps), makes [`crate::from_slice`] start over on the `Value` path, which then
//! produces the result or the error.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::skip::Walk;
use super::{Decoder, Item};
use crate::de::{ValueDeserializer, forward_shapes};
use crate::error::{Error, ErrorKind, Result};
use crate::magic;
use crate::value::Value;

/// The error that sends the caller back to the `Value` path.
fn fall_back() -> Error {
    Error::new(
        ErrorKind::Syntax,
        "input not handled by the streaming deserializer",
    )
}

/// A serde `Deserializer` over the next value of a decoder. The decoder must not be used for
/// further values afterwards: containers read here take no reference slots.
pub(crate) struct Streamed<'d, 'a> {
    dec: &'d mut Decoder<'a>,
    /// Containers enclosing this value.
    depth: usize,
}

/// The next value's shape, its container header consumed.
enum Shape {
    Scalar,
    Object(usize),
    Map,
    List(Option<usize>),
}

impl<'d, 'a> Streamed<'d, 'a> {
    pub(crate) fn new(dec: &'d mut Decoder<'a>) -> Self {
        Streamed { dec, depth: 0 }
    }

    fn child(&mut self) -> Streamed<'_, 'a> {
        Streamed {
            dec: &mut *self.dec,
            depth: self.depth + 1,
        }
    }

    /// Reads the class definitions in front of the next value and returns its tag.
    fn peek(&mut self) -> Result<u8> {
        loop {
            match self.dec.input.get(self.dec.pos) {
                Some(&b'C') => {
                    self.dec.pos += 1;
                    self.dec.read_class_def()?;
                }
                Some(&tag) => return Ok(tag),
                None => return Err(self.dec.eof(1)),
            }
        }
    }

    /// Classifies the next value, consuming a container's header. References are not taken on.
    fn open(&mut self) -> Result<Shape> {
        let tag = self.peek()?;
        let shape = match tag {
            b'Q' => return Err(fall_back()),
            b'H' | b'M' | b'O' | 0x60..=0x6f | b'U'..=b'X' | 0x70..=0x7f => {
                if self.depth >= self.dec.limits.max_depth {
                    return Err(fall_back());
                }
                self.dec.pos += 1;
                match tag {
                    b'H' => Shape::Map,
                    b'M' => {
                        self.dec.read_type()?;
                        Shape::Map
                    }
                    b'O' => Shape::Object(self.dec.read_index("class definition index")?),
                    0x60..=0x6f => Shape::Object(usize::from(tag - 0x60)),
                    b'U' => {
                        self.dec.read_type()?;
                        Shape::List(None)
                    }
                    b'V' => {
                        self.dec.read_type()?;
                        Shape::List(Some(self.dec.read_len()?))
                    }
                    b'W' => Shape::List(None),
                    b'X' => Shape::List(Some(self.dec.read_len()?)),
                    0x70..=0x77 => {
                        self.dec.read_type()?;
                        Shape::List(Some(usize::from(tag - 0x70)))
                    }
                    _ => Shape::List(Some(usize::from(tag - 0x78))),
                }
            }
            _ => Shape::Scalar,
        };
        Ok(shape)
    }

    /// Reads the next value, which [`Streamed::open`] found to be a scalar.
    fn scalar(&mut self) -> Result<Value> {
        // The commonest leaves of a message, without the general reader's dispatch.
        match self.dec.input.get(self.dec.pos) {
            Some(&tag @ (0x00..=0x1f | 0x30..=0x33)) => {
                self.dec.pos += 1;
                if let Some(s) = self.dec.read_short_ascii(tag) {
                    return Ok(Value::String(s.to_owned()));
                }
                self.dec.pos -= 1;
            }
            Some(&tag @ 0x80..=0xbf) => {
                self.dec.pos += 1;
                return Ok(Value::Int(i32::from(tag) - 0x90));
            }
            _ => {}
        }
        match self.dec.read_item()? {
            Item::Value(v, _) => Ok(v),
            Item::Opened => Err(fall_back()),
        }
    }

    /// Reads a container whose header has been consumed.
    fn container<'de, V: Visitor<'de>>(&mut self, shape: Shape, visitor: V) -> Result<V::Value> {
        match shape {
            Shape::Scalar => Err(fall_back()),
            Shape::List(len) => {
                let mut seq = Items {
                    de: self.child(),
                    remaining: len,
                    read: 0,
                    ended: false,
                };
                let v = visitor.visit_seq(&mut seq)?;
                seq.finish()?;
                Ok(v)
            }
            Shape::Map => {
                let mut map = Entries {
                    de: self.child(),
                    read: 0,
                    ended: false,
                };
                let v = visitor.visit_map(&mut map)?;
                map.finish()?;
                Ok(v)
            }
            Shape::Object(class) => {
                let Some(def) = self.dec.classes.get(class) else {
                    return Err(fall_back());
                };
                let (first, end) = def.field_range();
                let mut fields = Fields {
                    de: self.child(),
                    next: first,
                    end,
                };
                let v = visitor.visit_map(&mut fields)?;
                fields.finish()?;
                Ok(v)
            }
        }
    }

    /// Moves past the next value, as an ignored one.
    fn skip(&mut self) -> Result<()> {
        let mut walk = Walk::default();
        self.dec.skip_one(self.depth, &mut walk)?;
        if walk.saw_ref {
            return Err(fall_back());
        }
        Ok(())
    }
}

/// Methods that accept a scalar, as the `Value` path does (the leaf is read and handed to
/// [`ValueDeserializer`]), and, after `containers:`, the container shapes they also read.
macro_rules! by_shape {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
            match self.open()? {
                Shape::Scalar => ValueDeserializer(self.scalar()?).$method(visitor),
                _ => Err(fall_back()),
            }
        }
    )*};
    (containers: $shapes:pat => $($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
            match self.open()? {
                Shape::Scalar => ValueDeserializer(self.scalar()?).$method(visitor),
                shape @ $shapes => self.container(shape, visitor),
                _ => Err(fall_back()),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Streamed<'_, '_> {
    type Error = Error;

    forward_shapes!();

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.open()? {
            Shape::Scalar => ValueDeserializer(self.scalar()?).deserialize_any(visitor),
            shape => self.container(shape, visitor),
        }
    }

    by_shape! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit
    }

    by_shape!(containers: Shape::List(_) => deserialize_byte_buf deserialize_seq);
    by_shape!(containers: Shape::Map | Shape::Object(_) => deserialize_map);

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            b'N' => {
                self.dec.pos += 1;
                visitor.visit_none()
            }
            b'Q' => Err(fall_back()),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match name {
            magic::VALUE_NEWTYPE => Err(fall_back()),
            magic::DATE_NEWTYPE => match self.open()? {
                Shape::Scalar => {
                    ValueDeserializer(self.scalar()?).deserialize_newtype_struct(name, visitor)
                }
                _ => Err(fall_back()),
            },
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.open()? {
            Shape::Scalar => {
                ValueDeserializer(self.scalar()?).deserialize_struct(name, fields, visitor)
            }
            shape => self.container(shape, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.open()? {
            Shape::Scalar => {
                ValueDeserializer(self.scalar()?).deserialize_enum(name, variants, visitor)
            }
            _ => Err(fall_back()),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// The items of a list.
struct Items<'d, 'a> {
    de: Streamed<'d, 'a>,
    /// Items left of a fixed-length list; `None` for a list ended by `Z`.
    remaining: Option<usize>,
    read: usize,
    ended: bool,
}

impl Items<'_, '_> {
    /// Whether the list has no more items (consuming its `Z`).
    fn at_end(&mut self) -> bool {
        match &mut self.remaining {
            Some(n) => *n == 0,
            None => {
                if !self.ended && self.de.dec.input.get(self.de.dec.pos) == Some(&b'Z') {
                    self.de.dec.pos += 1;
                    self.ended = true;
                }
                self.ended
            }
        }
    }

    /// Items the visitor left unread are an error on the `Value` path too.
    fn finish(&mut self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(fall_back())
        }
    }
}

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.at_end() {
            return Ok(None);
        }
        self.read += 1;
        if self.read > self.de.dec.limits.max_container_len {
            return Err(fall_back());
        }
        if let Some(n) = &mut self.remaining {
            *n -= 1;
        }
        seed.deserialize(self.de.child_at_same_depth()).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.remaining
    }
}

impl<'a> Streamed<'_, 'a> {
    /// A deserializer for an element of the container this one reads.
    fn child_at_same_depth(&mut self) -> Streamed<'_, 'a> {
        Streamed {
            dec: &mut *self.dec,
            depth: self.depth,
        }
    }
}

/// The entries of a map.
struct Entries<'d, 'a> {
    de: Streamed<'d, 'a>,
    read: usize,
    ended: bool,
}

impl Entries<'_, '_> {
    fn at_end(&mut self) -> bool {
        if !self.ended && self.de.dec.input.get(self.de.dec.pos) == Some(&b'Z') {
            self.de.dec.pos += 1;
            self.ended = true;
        }
        self.ended
    }

    /// Entries the visitor left unread are ignored, as on the `Value` path (which still
    /// counts them against the length limit).
    fn finish(&mut self) -> Result<()> {
        while !self.at_end() {
            self.read += 1;
            if self.read > self.de.dec.limits.max_container_len {
                return Err(fall_back());
            }
            self.de.skip()?;
            self.de.skip()?;
        }
        Ok(())
    }
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.at_end() {
            return Ok(None);
        }
        self.read += 1;
        if self.read > self.de.dec.limits.max_container_len {
            return Err(fall_back());
        }
        seed.deserialize(self.de.child_at_same_depth()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        if self.de.dec.input.get(self.de.dec.pos) == Some(&b'Z') {
            return Err(fall_back());
        }
        seed.deserialize(self.de.child_at_same_depth())
    }
}

/// The fields of an object: keys are the field names of its class definition.
struct Fields<'d, 'a> {
    de: Streamed<'d, 'a>,
    /// Next and end index into the decoder's field-name spans.
    next: usize,
    end: usize,
}

impl Fields<'_, '_> {
    /// Fields the visitor left unread are ignored, as on the `Value` path.
    fn finish(&mut self) -> Result<()> {
        while self.next < self.end {
            self.next += 1;
            self.de.skip()?;
        }
        Ok(())
    }
}

impl<'de> MapAccess<'de> for Fields<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.next >= self.end {
            return Ok(None);
        }
        let name = self
            .de
            .dec
            .classes
            .field_name(self.next)
            .ok_or_else(fall_back)?;
        self.next += 1;
        seed.deserialize(Key(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(self.de.child_at_same_depth())
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.end - self.next)
    }
}

/// A field name as a map key: what `ValueDeserializer` does with the same name as a string,
/// without copying it for the common requests (identifiers and strings).
struct Key<'k>(&'k str);

impl Key<'_> {
    fn owned(&self) -> ValueDeserializer {
        ValueDeserializer(Value::String(self.0.to_owned()))
    }
}

macro_rules! key_as_value {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value> {
            self.owned().$method($($arg,)* visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    key_as_value! {
        deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32()
        deserialize_i64() deserialize_i128() deserialize_u8() deserialize_u16()
        deserialize_u32() deserialize_u64() deserialize_u128() deserialize_f32()
        deserialize_f64() deserialize_char() deserialize_bytes() deserialize_byte_buf()
        deserialize_option() deserialize_unit() deserialize_seq() deserialize_map()
        deserialize_ignored_any()
        deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str)
        deserialize_tuple(len: usize)
        deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_struct(name: &'static str, fields: &'static [&'static str])
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::Limits;

    /// The streaming path alone, without the fallback.
    fn streamed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
        let mut dec = Decoder::new(bytes);
        let v = T::deserialize(Streamed::new(&mut dec))?;
        assert!(dec.is_at_end());
        Ok(v)
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    #[serde(rename = "demo.Item", default)]
    struct Item {
        name: String,
        tags: Vec<String>,
        data: Vec<u8>,
        next: Option<Box<Item>>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "demo.Order")]
    struct Order {
        id: i64,
        items: Vec<Item>,
        extra: HashMap<String, i32>,
        note: Option<String>,
    }

    #[test]
    fn typical_messages_never_fall_back() {
        let order = Order {
            id: 7,
            items: vec![
                Item {
                    name: "a".into(),
                    tags: vec!["x".into(), "ü".into()],
                    data: vec![1, 2, 3],
                    next: Some(Box::new(Item::default())),
                },
                Item::default(),
            ],
            extra: HashMap::from([("k".into(), 1)]),
            note: None,
        };
        // Class definitions inside the value, reused by later objects of the same class.
        let bytes = crate::to_vec(&order).unwrap();
        assert_eq!(streamed::<Order>(&bytes).unwrap(), order);
        // A reader with fewer fields ignores the rest of each object.
        #[derive(Deserialize, Debug, PartialEq)]
        struct IdOnly {
            id: i64,
        }
        assert_eq!(streamed::<IdOnly>(&bytes).unwrap(), IdOnly { id: 7 });
    }

    /// Reads a map's first entry only.
    struct FirstKey(Option<i32>);

    impl<'de> Deserialize<'de> for FirstKey {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = FirstKey;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(
                    self,
                    mut a: A,
                ) -> std::result::Result<FirstKey, A::Error> {
                    Ok(FirstKey(a.next_entry::<i32, i32>()?.map(|(k, _)| k)))
                }
            }
            d.deserialize_map(V)
        }
    }

    #[test]
    fn unread_entries_still_count_against_the_length_limit() {
        // {1: 1, 2: 2, 3: 3}
        let bytes = [b'H', 0x91, 0x91, 0x92, 0x92, 0x93, 0x93, b'Z'];
        let read = |max| {
            let mut dec =
                Decoder::new(&bytes).with_limits(Limits::default().max_container_len(max));
            FirstKey::deserialize(Streamed::new(&mut dec)).map(|f| f.0)
        };
        assert_eq!(read(3).unwrap(), Some(1));
        assert!(read(2).is_err());
    }

    #[test]
    fn references_fall_back() {
        // [[1], Q #1]: the second item refers to the first.
        let bytes = [0x7a, 0x79, 0x91, b'Q', 0x91];
        assert!(streamed::<Vec<Vec<i32>>>(&bytes).is_err());
        assert_eq!(
            crate::from_slice::<Vec<Vec<i32>>>(&bytes).unwrap(),
            [[1], [1]]
        );
    }
}
