//! A serde `Serializer` that writes straight into an [`Encoder`], for
//! [`Encoder::serialize`].
//!
//! The reference behaviour is [`to_value`](crate::to_value) followed by
//! [`Encoder::write_value`]. This serializer produces exactly those bytes and
//! table updates for the shapes it understands, without building the
//! [`Value`] tree, by calling the same encoder building blocks
//! (`begin_list`, `begin_object`, …) in the same order as `write_value`
//! would. Whenever it meets something it does not reproduce — a map whose
//! first key is one of the reserved `$…` keys (objects, typed lists and
//! maps, dates and references in map form), a sequence without a known
//! length, a struct whose field names it cannot predict, a serialization
//! error of any kind — it *bails out*: [`serialize`] returns `false` after
//! undoing everything it wrote, and the caller takes the `Value` path, which
//! also produces the error, if any.
//!
//! # Structs
//!
//! An object's class definition (class name and field names) is written
//! before its field values, but serde reveals the field names one by one as
//! the values are serialized. So the field names of each struct are learned
//! the first time the struct is met (that attempt bails out) and remembered
//! per thread by `(name, len)`; later structs are written with the
//! remembered names and checked field by field. A mismatch (a struct that
//! skips fields conditionally but keeps the count, or two types with the
//! same serde name and field count) bails out; the names learned first stay,
//! so at least that shape keeps the fast path. Structs whose only field is
//! `name` always take the `Value` path, because `write_value` treats them as
//! Java enum constants when the value is a string.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use serde::ser::{self, Serialize};

use crate::encode::{ClassShape, Encoder};
use crate::error::{Error, ErrorKind, Result};
use crate::magic;
use crate::ser::ValueSerializer;
use crate::value::Value;

/// Writes `value` into `enc` as `enc.write_value(&to_value(value)?)` would.
/// Returns `false`, with `enc` unchanged, if the caller must do exactly
/// that instead.
pub(crate) fn serialize<T: Serialize + ?Sized>(enc: &mut Encoder, value: &T) -> bool {
    let mark = enc.mark();
    enc.begin_value();
    let mut state = State { enc, bailed: false };
    let ok = value
        .serialize(Direct {
            st: &mut state,
            depth: 0,
            this: None,
        })
        .is_ok();
    // `bailed` also catches a `Serialize` impl that swallowed our error.
    if ok && !state.bailed {
        return true;
    }
    state.enc.rewind(mark);
    false
}

/// Shared by all serializers of one [`serialize`] call.
struct State<'e> {
    enc: &'e mut Encoder,
    bailed: bool,
}

impl State<'_> {
    /// Gives up on the direct path.
    fn bail(&mut self) -> Error {
        self.bailed = true;
        Error::new(ErrorKind::Custom, "not written directly")
    }

    /// Gives up on the direct path if `r` is an error.
    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        r.map_err(|_| self.bail())
    }
}

// ----------------------------------------------------------------
// struct shapes

/// Most struct shapes remembered per thread.
const SHAPES_MAX: usize = 256;

struct Shape {
    name: &'static str,
    len: usize,
    /// Shared with the encoders that wrote the class (they know it again by pointer).
    learned: Arc<ClassShape>,
}

#[derive(Default)]
struct Shapes {
    list: Vec<Shape>,
    /// Next entry to replace once `list` is full.
    evict: usize,
}

thread_local! {
    static SHAPES: RefCell<Shapes> = RefCell::new(Shapes::default());
}

/// The field names of struct `name` with `len` fields, and its encoded class definition.
fn shape_of(name: &'static str, len: usize) -> Option<Arc<ClassShape>> {
    SHAPES
        .try_with(|s| {
            s.borrow()
                .list
                .iter()
                .find(|sh| sh.len == len && sh.name == name)
                .map(|sh| sh.learned.clone())
        })
        .ok()
        .flatten()
}

fn learn_shape(name: &'static str, len: usize, fields: Vec<&'static str>) {
    // Nothing is learned while the thread is being torn down.
    let _ = SHAPES.try_with(|s| {
        let Ok(def) = crate::encode::class_def_bytes(name, &fields) else {
            return;
        };
        let mut s = s.borrow_mut();
        let shape = Shape {
            name,
            len,
            learned: Arc::new(ClassShape {
                name,
                fields: fields.into(),
                def: def.into(),
            }),
        };
        if let Some(old) = s
            .list
            .iter_mut()
            .find(|sh| sh.len == len && sh.name == name)
        {
            *old = shape;
        } else if s.list.len() < SHAPES_MAX {
            s.list.push(shape);
        } else {
            let i = s.evict % SHAPES_MAX;
            s.list[i] = shape;
            s.evict = i + 1;
        }
    });
}

// ----------------------------------------------------------------
// the serializer

/// Serializes one value at nesting `depth`; `this` is the tree index of the
/// innermost enclosing object (what [`crate::java`]'s self-reference marker
/// refers to).
struct Direct<'s, 'e> {
    st: &'s mut State<'e>,
    depth: usize,
    this: Option<usize>,
}

impl<'s, 'e> Direct<'s, 'e> {
    fn child(&mut self, depth: usize, this: Option<usize>) -> Direct<'_, 'e> {
        Direct {
            st: self.st,
            depth,
            this,
        }
    }

    fn long<T: TryInto<i64>>(self, v: T) -> Result<()> {
        match v.try_into() {
            Ok(l) => {
                self.st.enc.write_long(l);
                Ok(())
            }
            Err(_) => Err(self.st.bail()),
        }
    }
}

impl<'s, 'e> ser::Serializer for Direct<'s, 'e> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSer<'s, 'e>;
    type SerializeTuple = SeqSer<'s, 'e>;
    type SerializeTupleStruct = SeqSer<'s, 'e>;
    type SerializeTupleVariant = SeqSer<'s, 'e>;
    type SerializeMap = MapSer<'s, 'e>;
    type SerializeStruct = StructSer<'s, 'e>;
    type SerializeStructVariant = MapSer<'s, 'e>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.st.enc.write_bool(v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.st.enc.write_int(v.into());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.st.enc.write_int(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.st.enc.write_int(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.st.enc.write_long(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.long(v)
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.st.enc.write_int(v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.st.enc.write_int(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.st.enc.write_long(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.long(v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.long(v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.st.enc.write_double(v.into());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.st.enc.write_double(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.st.enc.write_string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.st.enc.write_string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.st.enc.write_binary(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.st.enc.write_null();
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.st.enc.write_null();
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.st.enc.write_null();
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        // `Value::enum_constant(name, variant)`
        let r = self
            .st
            .enc
            .begin_object(name, ["name"].into_iter(), Some(variant), self.depth);
        if self.st.check(r)?.is_some() {
            self.st.enc.write_string(variant);
        }
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        match name {
            magic::DATE_NEWTYPE => {
                let this = Cell::new(false);
                match value.serialize(ValueSerializer::new(&this)) {
                    Ok(Value::Int(i)) => self.st.enc.write_date_ms(i.into()),
                    Ok(Value::Long(l) | Value::Date(l)) => self.st.enc.write_date_ms(l),
                    _ => return Err(self.st.bail()),
                }
                Ok(())
            }
            magic::THIS_NEWTYPE => match self.this {
                Some(t) => {
                    let r = self.st.enc.write_tree_ref(t);
                    self.st.check(r)
                }
                None => Err(self.st.bail()),
            },
            _ => value.serialize(self),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        // `{variant: value}`
        let r = self.st.enc.begin_map(None, self.depth);
        let depth = self.st.check(r)?;
        self.st.enc.write_string(variant);
        let this = self.this;
        value.serialize(self.child(depth, this))?;
        self.st.enc.end_map();
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'s, 'e>> {
        let Some(len) = len else {
            return Err(self.st.bail());
        };
        let r = self.st.enc.begin_list(None, len, self.depth);
        let depth = self.st.check(r)?;
        Ok(SeqSer {
            st: self.st,
            depth,
            this: self.this,
            left: len,
            close_map: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'s, 'e>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer<'s, 'e>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer<'s, 'e>> {
        // `{variant: [..]}`
        let r = self.st.enc.begin_map(None, self.depth);
        let depth = self.st.check(r)?;
        self.st.enc.write_string(variant);
        let r = self.st.enc.begin_list(None, len, depth);
        let depth = self.st.check(r)?;
        Ok(SeqSer {
            st: self.st,
            depth,
            this: self.this,
            left: len,
            close_map: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSer<'s, 'e>> {
        let r = self.st.enc.begin_map(None, self.depth);
        let depth = self.st.check(r)?;
        Ok(MapSer {
            st: self.st,
            depth,
            this: self.this,
            first: true,
            pending_key: false,
            close_outer: false,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSer<'s, 'e>> {
        let Some(shape) = shape_of(name, len) else {
            // Learn the field names; this attempt is abandoned.
            self.st.bail();
            return Ok(StructSer {
                st: self.st,
                depth: 0,
                this: None,
                shape: None,
                next: 0,
                learn: Some((name, len, Vec::with_capacity(len.min(64)))),
            });
        };
        if *shape.fields == ["name"] {
            // Possibly an enum constant for `write_value`.
            return Err(self.st.bail());
        }
        let this = self.st.enc.next_tree_index();
        let r = self.st.enc.begin_object_as(
            name,
            shape.fields.iter().copied(),
            None,
            self.depth,
            Some(&shape),
        );
        let depth = self.st.check(r)?.ok_or_else(|| self.st.bail())?;
        Ok(StructSer {
            st: self.st,
            depth,
            this: Some(this),
            shape: Some(shape),
            next: 0,
            learn: None,
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapSer<'s, 'e>> {
        // `{variant: {field: value, ..}}`
        let r = self.st.enc.begin_map(None, self.depth);
        let depth = self.st.check(r)?;
        self.st.enc.write_string(variant);
        let r = self.st.enc.begin_map(None, depth);
        let depth = self.st.check(r)?;
        Ok(MapSer {
            st: self.st,
            depth,
            this: self.this,
            first: false,
            pending_key: false,
            close_outer: true,
        })
    }
}

/// Lists (sequences, tuples) and `{variant: [..]}`.
struct SeqSer<'s, 'e> {
    st: &'s mut State<'e>,
    depth: usize,
    this: Option<usize>,
    /// Items still announced by the header.
    left: usize,
    /// Also close the enclosing variant map.
    close_map: bool,
}

impl SeqSer<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let Some(left) = self.left.checked_sub(1) else {
            return Err(self.st.bail());
        };
        self.left = left;
        value.serialize(Direct {
            st: self.st,
            depth: self.depth,
            this: self.this,
        })
    }

    fn finish(self) -> Result<()> {
        if self.left != 0 {
            return Err(self.st.bail());
        }
        if self.close_map {
            self.st.enc.end_map();
        }
        Ok(())
    }
}

/// serde's four sequence-like traits differ only in their method's name; each writes one
/// element and closes the list the same way.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),+) => {$(
        impl ser::$trait for SeqSer<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.element(value)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        }
    )+};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Untyped maps, and the field maps of struct variants.
struct MapSer<'s, 'e> {
    st: &'s mut State<'e>,
    depth: usize,
    this: Option<usize>,
    /// The next key is the first one (which must not be a reserved key).
    first: bool,
    /// A key has been written without its value.
    pending_key: bool,
    /// Also close the enclosing variant map.
    close_outer: bool,
}

impl<'e> MapSer<'_, 'e> {
    fn direct(&mut self) -> Direct<'_, 'e> {
        Direct {
            st: self.st,
            depth: self.depth,
            this: self.this,
        }
    }
}

/// Whether `bytes` is the encoding of one of the reserved map keys
/// (`"$class"`, …), which are all short ASCII strings.
fn is_magic_key_encoding(bytes: &[u8]) -> bool {
    match bytes.split_first() {
        Some((&len, text)) if len <= 0x1f && usize::from(len) == text.len() => {
            std::str::from_utf8(text).is_ok_and(magic::is_magic_key)
        }
        _ => false,
    }
}

impl ser::SerializeMap for MapSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        if self.pending_key {
            return Err(self.st.bail());
        }
        let start = self.st.enc.len();
        key.serialize(self.direct())?;
        if self.first {
            self.first = false;
            if is_magic_key_encoding(&self.st.enc.as_bytes()[start..]) {
                return Err(self.st.bail());
            }
        }
        self.pending_key = true;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if !self.pending_key {
            return Err(self.st.bail());
        }
        self.pending_key = false;
        value.serialize(self.direct())
    }
    fn end(self) -> Result<()> {
        if self.pending_key {
            return Err(self.st.bail());
        }
        self.st.enc.end_map();
        Ok(())
    }
}

impl ser::SerializeStructVariant for MapSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.st.enc.write_string(key);
        value.serialize(self.direct())
    }
    fn end(self) -> Result<()> {
        self.st.enc.end_map();
        if self.close_outer {
            self.st.enc.end_map();
        }
        Ok(())
    }
}

/// Objects; or, with `learn`, a struct whose field names are being learned
/// (nothing is written then, and the attempt has already bailed out).
struct StructSer<'s, 'e> {
    st: &'s mut State<'e>,
    depth: usize,
    this: Option<usize>,
    shape: Option<Arc<ClassShape>>,
    next: usize,
    learn: Option<(&'static str, usize, Vec<&'static str>)>,
}

impl ser::SerializeStruct for StructSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        if let Some((_, _, names)) = &mut self.learn {
            names.push(key);
            return Ok(());
        }
        let expected = self.shape.as_ref().and_then(|s| s.fields.get(self.next));
        if expected != Some(&key) {
            return Err(self.st.bail());
        }
        self.next += 1;
        value.serialize(Direct {
            st: self.st,
            depth: self.depth,
            this: self.this,
        })
    }
    fn end(self) -> Result<()> {
        if let Some((name, len, names)) = self.learn {
            learn_shape(name, len, names);
            return Err(self.st.bail());
        }
        if self.shape.as_ref().map(|s| s.fields.len()) != Some(self.next) {
            return Err(self.st.bail());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_key_encodings() {
        for k in ["$class", "$list", "$map", "$date", "$ref"] {
            let mut enc = Encoder::new();
            enc.write_string(k);
            assert!(is_magic_key_encoding(enc.as_bytes()), "{k}");
        }
        for k in ["$items", "$", "class", "$classes", ""] {
            let mut enc = Encoder::new();
            enc.write_string(k);
            assert!(!is_magic_key_encoding(enc.as_bytes()), "{k}");
        }
        assert!(!is_magic_key_encoding(&[]));
        assert!(!is_magic_key_encoding(&[0x90]));
    }
}
