//! The Hessian 2.0 [`Encoder`].

use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::table::KeyTable;
use crate::value::Value;

/// Length of the `A` chunks used for binary data longer than one chunk.
///
/// hessian-lite splits at its internal buffer size (< 8 KiB, depending on
/// what is already buffered); any chunking is valid Hessian, so this encoder
/// uses fixed 4096-byte non-final chunks followed by one `B` final chunk.
pub const BINARY_CHUNK_LEN: usize = 4096;

/// Maximum number of UTF-16 units in one string chunk (as in hessian-lite).
pub const STRING_CHUNK_UNITS: usize = 0x8000;

/// Maximum container nesting the encoder accepts in one value.
pub const ENCODE_MAX_DEPTH: usize = 1024;

/// Writes Hessian 2.0 values into a byte buffer, byte-compatible with
/// hessian-lite's `Hessian2Output`.
///
/// One encoder holds **one** set of tables — class definitions, list/map type
/// names and the value-reference counter — shared by all values written into
/// it, as a Dubbo2 request or response body requires (every field of the body
/// is written with the same Hessian output). Use a fresh encoder per stream.
///
/// Java enum constants (objects whose only field is the string `name`,
/// see [`Value::as_enum_constant`]) are written once per stream and repeated
/// as references (`Q`), as hessian-lite does for its enum singletons. Turn
/// this off with [`Encoder::set_enum_refs`].
///
/// ```
/// use dubbo_hessian2::{Encoder, Value};
///
/// let mut enc = Encoder::new();
/// enc.write_string("2.0.2");
/// enc.write_int(300);
/// enc.write_value(&Value::enum_constant("example.Color", "RED")).unwrap();
/// enc.write_value(&Value::enum_constant("example.Color", "RED")).unwrap();
/// let bytes = enc.into_bytes();
/// assert_eq!(&bytes[..8], &[0x05, b'2', b'.', b'0', b'.', b'2', 0xc9, 0x2c]);
/// assert_eq!(&bytes[bytes.len() - 2..], &[0x51, 0x90]); // second RED is a reference
/// ```
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    /// (class name, field names…) → class-def index, for classes written from names.
    classes: KeyTable,
    /// Classes written from a learned [`ClassShape`], found again by pointer.
    shape_classes: ShapeClasses,
    /// Class definitions written: the index of the next one.
    class_defs: usize,
    /// type name → type index (= entry position).
    types: KeyTable,
    ref_count: usize,
    /// (enum class, constant name) → stream ref index.
    enum_refs: KeyTable,
    no_enum_refs: bool,
    /// Per `write_value` call: tree container indices handed out so far
    /// (see [`Value::Ref`]).
    tree_next: usize,
    /// Per `write_value` call: the stream ref index of tree container 0.
    tree_base: usize,
    /// Per `write_value` call: `(tree index, stream ref index)` of the enum
    /// constants written as references, in tree order. Every other tree
    /// container `t` is stream container `tree_base + t - (number of these
    /// before t)`.
    tree_reused: Vec<(usize, usize)>,
}

/// Bytes reserved by [`Encoder::new`]: a typical Dubbo2 body fits, so the
/// buffer is allocated once instead of growing 8 → 16 → … → 256.
const INITIAL_CAPACITY: usize = 256;

impl Encoder {
    /// Creates an encoder with empty tables and an empty buffer.
    pub fn new() -> Self {
        Encoder {
            buf: Vec::with_capacity(INITIAL_CAPACITY),
            ..Self::default()
        }
    }

    /// Enables (default) or disables writing repeated enum constants as
    /// references.
    pub fn set_enum_refs(&mut self, enabled: bool) {
        self.no_enum_refs = !enabled;
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Consumes the encoder and returns the bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// `true` if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The reference number the next list, map or object written will get.
    pub fn next_ref_index(&self) -> usize {
        self.ref_count
    }

    /// Writes a reference (`Q`) to the container with stream reference number
    /// `index` (see [`Encoder::next_ref_index`]) — e.g. to send the same Java
    /// object again as a later field of a body, as hessian-lite does.
    ///
    /// ```
    /// use dubbo_hessian2::{Encoder, Value};
    /// let mut enc = Encoder::new();
    /// let idx = enc.next_ref_index();
    /// enc.write_value(&Value::map(vec![])).unwrap();
    /// enc.write_ref(idx).unwrap();
    /// assert_eq!(enc.as_bytes(), &[0x48, 0x5a, 0x51, 0x90]);
    /// assert!(enc.write_ref(5).is_err());
    /// ```
    pub fn write_ref(&mut self, index: usize) -> Result<()> {
        if index >= self.ref_count {
            return Err(Error::new(
                ErrorKind::BadReference,
                format!(
                    "reference #{index} but only {} containers were written",
                    self.ref_count
                ),
            ));
        }
        self.buf.push(b'Q');
        self.write_int(to_i32(index)?);
        Ok(())
    }

    /// Writes `N`.
    pub fn write_null(&mut self) {
        self.buf.push(b'N');
    }

    /// Writes `T` or `F`.
    pub fn write_bool(&mut self, v: bool) {
        self.buf.push(if v { b'T' } else { b'F' });
    }

    /// Writes a 32-bit int in its shortest form.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_int(-2049);
    /// assert_eq!(enc.as_bytes(), &[0xd3, 0xf7, 0xff]);
    /// ```
    pub fn write_int(&mut self, v: i32) {
        let b = v.to_be_bytes();
        if (-16..=47).contains(&v) {
            self.buf.push((0x90 + v) as u8);
        } else if (-2048..=2047).contains(&v) {
            self.buf.extend_from_slice(&[(0xc8 + (v >> 8)) as u8, b[3]]);
        } else if (-262_144..=262_143).contains(&v) {
            self.buf
                .extend_from_slice(&[(0xd4 + (v >> 16)) as u8, b[2], b[3]]);
        } else {
            self.buf.push(b'I');
            self.buf.extend_from_slice(&b);
        }
    }

    /// Writes a 64-bit long in its shortest form.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_long(2147483648);
    /// assert_eq!(enc.as_bytes(), &[0x4c, 0, 0, 0, 0, 0x80, 0, 0, 0]);
    /// ```
    pub fn write_long(&mut self, v: i64) {
        let b = v.to_be_bytes();
        if (-8..=15).contains(&v) {
            self.buf.push((0xe0 + v) as u8);
        } else if (-2048..=2047).contains(&v) {
            self.buf.extend_from_slice(&[(0xf8 + (v >> 8)) as u8, b[7]]);
        } else if (-262_144..=262_143).contains(&v) {
            self.buf
                .extend_from_slice(&[(0x3c + (v >> 16)) as u8, b[6], b[7]]);
        } else if let Ok(i) = i32::try_from(v) {
            self.buf.push(b'Y');
            self.buf.extend_from_slice(&i.to_be_bytes());
        } else {
            self.buf.push(b'L');
            self.buf.extend_from_slice(&b);
        }
    }

    /// Writes a double in hessian-lite's shortest form: `5b`/`5c` for 0 and
    /// 1, `5d`/`5e` for integral values that fit a byte/short, `5f` + signed
    /// 32-bit *thousandths* when `(v * 1000) as i32 as f64 * 0.001 == v`,
    /// else `D` + 8 bytes. `-0.0` is written as `5b` (as Java does) and NaN
    /// in Java's canonical form.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_double(1.5);
    /// assert_eq!(enc.as_bytes(), &[0x5f, 0x00, 0x00, 0x05, 0xdc]);
    /// ```
    pub fn write_double(&mut self, v: f64) {
        // Java: (int) value, saturating, NaN -> 0; same as Rust's `as`.
        let int_value = v as i32;
        if f64::from(int_value) == v {
            match int_value {
                0 => return self.buf.push(0x5b),
                1 => return self.buf.push(0x5c),
                -128..=127 => return self.buf.extend_from_slice(&[0x5d, int_value as u8]),
                -32768..=32767 => {
                    self.buf.push(0x5e);
                    self.buf
                        .extend_from_slice(&(int_value as i16).to_be_bytes());
                    return;
                }
                _ => {}
            }
        }
        let mills = (v * 1000.0) as i32;
        if 0.001 * f64::from(mills) == v {
            self.buf.push(0x5f);
            self.buf.extend_from_slice(&mills.to_be_bytes());
            return;
        }
        let bits = if v.is_nan() {
            0x7ff8_0000_0000_0000u64
        } else {
            v.to_bits()
        };
        self.buf.push(b'D');
        self.buf.extend_from_slice(&bits.to_be_bytes());
    }

    /// Writes a date given in milliseconds since the epoch (UTC): the 5-byte
    /// minute form when the value is a whole number of minutes that fits in
    /// 32 bits, else the 9-byte millisecond form.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_date_ms(894_621_060_000); // 1998-05-08T09:51:00Z
    /// assert_eq!(enc.as_bytes(), &[0x4b, 0x00, 0xe3, 0x83, 0x8f]);
    /// ```
    pub fn write_date_ms(&mut self, ms: i64) {
        if ms % 60_000 == 0 {
            if let Ok(minutes) = i32::try_from(ms / 60_000) {
                self.buf.push(0x4b);
                self.buf.extend_from_slice(&minutes.to_be_bytes());
                return;
            }
        }
        self.buf.push(0x4a);
        self.buf.extend_from_slice(&ms.to_be_bytes());
    }

    /// Writes a string. Lengths count UTF-16 units; characters outside the
    /// BMP are written as two 3-byte surrogate encodings (as Java does).
    /// Strings longer than 32768 units are split into `R` chunks that never
    /// separate a surrogate pair.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_string("😀");
    /// assert_eq!(enc.as_bytes(), &[0x02, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
    /// ```
    pub fn write_string(&mut self, s: &str) {
        if s.len() <= STRING_CHUNK_UNITS && s.is_ascii() {
            // One final chunk; ASCII has one UTF-16 unit per byte.
            self.write_string_header(s.len());
            self.buf.extend_from_slice(s.as_bytes());
            return;
        }
        let mut rest = s;
        loop {
            // Find the chunk end: at most STRING_CHUNK_UNITS units, never
            // splitting a character (a surrogate pair).
            let mut units = 0usize;
            let mut end = rest.len();
            let mut astral = false;
            for (i, c) in rest.char_indices() {
                let n = c.len_utf16();
                if units + n > STRING_CHUNK_UNITS {
                    end = i;
                    break;
                }
                units += n;
                astral |= n == 2;
            }
            let (chunk, tail) = rest.split_at(end);
            let last = tail.is_empty();
            if !last {
                self.buf.push(b'R');
                self.buf.extend_from_slice(&(units as u16).to_be_bytes());
            } else {
                self.write_string_header(units);
            }
            if !astral {
                // No astral characters: UTF-8 is identical to per-unit encoding.
                self.buf.extend_from_slice(chunk.as_bytes());
            } else {
                let mut tmp = [0u16; 2];
                for c in chunk.chars() {
                    for unit in c.encode_utf16(&mut tmp) {
                        push_unit(&mut self.buf, *unit);
                    }
                }
            }
            if last {
                return;
            }
            rest = tail;
        }
    }

    /// Writes the header of a final string chunk of `units` UTF-16 units
    /// (at most [`STRING_CHUNK_UNITS`]).
    fn write_string_header(&mut self, units: usize) {
        if units <= 31 {
            self.buf.push(units as u8);
        } else if units <= 1023 {
            self.buf
                .extend_from_slice(&[0x30 + (units >> 8) as u8, units as u8]);
        } else {
            self.buf.push(b'S');
            self.buf.extend_from_slice(&(units as u16).to_be_bytes());
        }
    }

    /// Writes binary data: `0x20+n` up to 15 bytes, `0x34` form up to 1023,
    /// else [`BINARY_CHUNK_LEN`]-byte `A` chunks and a final `B` chunk.
    ///
    /// ```
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.write_binary(&[1, 2, 3]);
    /// assert_eq!(enc.as_bytes(), &[0x23, 1, 2, 3]);
    /// ```
    pub fn write_binary(&mut self, data: &[u8]) {
        let len = data.len();
        if len <= 15 {
            self.buf.push(0x20 + len as u8);
        } else if len <= 1023 {
            self.buf
                .extend_from_slice(&[0x34 + (len >> 8) as u8, len as u8]);
        } else {
            let mut rest = data;
            while rest.len() > BINARY_CHUNK_LEN {
                let (chunk, tail) = rest.split_at(BINARY_CHUNK_LEN);
                self.buf.push(b'A');
                self.buf
                    .extend_from_slice(&(BINARY_CHUNK_LEN as u16).to_be_bytes());
                self.buf.extend_from_slice(chunk);
                rest = tail;
            }
            self.buf.push(b'B');
            self.buf
                .extend_from_slice(&(rest.len() as u16).to_be_bytes());
            self.buf.extend_from_slice(rest);
            return;
        }
        self.buf.extend_from_slice(data);
    }

    /// Writes any [`Value`], sharing this encoder's tables.
    ///
    /// Fails only for a [`Value::Ref`] that does not point at a container
    /// already started in this value, or for nesting deeper than
    /// [`ENCODE_MAX_DEPTH`]. After an error, the bytes written so far are
    /// unspecified; discard the encoder.
    ///
    /// `Value::Ref(i)` is written as a reference to the `i`-th container
    /// (pre-order, from 0) of `value` itself, see [`Value`].
    ///
    /// ```
    /// use dubbo_hessian2::{Encoder, Value};
    /// let mut enc = Encoder::new();
    /// let m = Value::map(vec![("k".into(), "v".into())]);
    /// // the same map twice: the second occurrence as a reference to container #1
    /// enc.write_value(&Value::list(vec![m, Value::Ref(1)])).unwrap();
    /// assert_eq!(enc.as_bytes(), &[0x7a, 0x48, 0x01, b'k', 0x01, b'v', 0x5a, 0x51, 0x91]);
    /// ```
    pub fn write_value(&mut self, value: &Value) -> Result<()> {
        self.begin_value();
        self.write_inner(value, 0)
    }

    /// Writes an untyped map of string pairs (a Java `HashMap<String, String>`, such as
    /// Dubbo attachments): the same bytes as [`Encoder::write_value`] of the equivalent
    /// [`Value::map`], without building it.
    ///
    /// ```
    /// use dubbo_hessian2::{Encoder, Value};
    /// let mut direct = Encoder::new();
    /// direct.write_string_map([("k", "v")]);
    /// let mut via_value = Encoder::new();
    /// via_value.write_value(&Value::map(vec![("k".into(), "v".into())])).unwrap();
    /// assert_eq!(direct.as_bytes(), via_value.as_bytes());
    /// ```
    pub fn write_string_map<'s, I>(&mut self, entries: I)
    where
        I: IntoIterator<Item = (&'s str, &'s str)>,
    {
        self.begin_value();
        // A top-level map: a container like any other (it takes a reference number).
        self.tree_next += 1;
        self.ref_count += 1;
        self.buf.push(b'H');
        for (k, v) in entries {
            self.write_string(k);
            self.write_string(v);
        }
        self.end_map();
    }

    /// Serializes any `T: Serialize` with the crate's serde mapping (see the
    /// crate docs), sharing this encoder's tables.
    ///
    /// The result is the same as writing [`to_value`](crate::to_value)`(value)`
    /// with [`Encoder::write_value`]; most types are written without building
    /// the intermediate [`Value`].
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// #[serde(rename = "example.Pair")]
    /// struct Pair { name: String, id: i32 }
    ///
    /// let mut enc = dubbo_hessian2::Encoder::new();
    /// enc.serialize(&Pair { name: "x".into(), id: 7 }).unwrap();
    /// assert_eq!(enc.as_bytes()[0], b'C'); // class definition first
    /// ```
    pub fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if crate::ser_direct::serialize(self, value) {
            return Ok(());
        }
        let v = crate::ser::to_value(value)?;
        self.write_value(&v)
    }

    fn write_inner(&mut self, value: &Value, depth: usize) -> Result<()> {
        match value {
            Value::Null => self.write_null(),
            Value::Bool(b) => self.write_bool(*b),
            Value::Int(i) => self.write_int(*i),
            Value::Long(l) => self.write_long(*l),
            Value::Double(d) => self.write_double(*d),
            Value::String(s) => self.write_string(s),
            Value::Binary(b) => self.write_binary(b),
            Value::Date(ms) => self.write_date_ms(*ms),
            Value::Ref(t) => self.write_tree_ref(*t)?,
            Value::List { type_name, items } => {
                let depth = self.begin_list(type_name.as_deref(), items.len(), depth)?;
                for item in items {
                    self.write_inner(item, depth)?;
                }
            }
            Value::Map { type_name, entries } => {
                let depth = self.begin_map(type_name.as_deref(), depth)?;
                for (k, v) in entries {
                    self.write_inner(k, depth)?;
                    self.write_inner(v, depth)?;
                }
                self.end_map();
            }
            Value::Object { class, fields } => {
                let enum_name = value.as_enum_constant().map(|(_, n)| n);
                let names = fields.iter().map(|(n, _)| n.as_str());
                if let Some(depth) = self.begin_object(class, names, enum_name, depth)? {
                    for (_, v) in fields {
                        self.write_inner(v, depth)?;
                    }
                }
            }
        }
        Ok(())
    }

    // ----------------------------------------------------------------
    // building blocks shared by `write_value` and the direct serializer

    /// Starts a top-level value: its containers are numbered from 0 for
    /// [`Value::Ref`].
    pub(crate) fn begin_value(&mut self) {
        self.tree_next = 0;
        self.tree_base = self.ref_count;
        self.tree_reused.clear();
    }

    /// Writes [`Value::Ref`]`(t)`.
    pub(crate) fn write_tree_ref(&mut self, t: usize) -> Result<()> {
        match self.tree_stream(t) {
            Some(stream) => {
                self.buf.push(b'Q');
                self.write_int(to_i32(stream)?);
                Ok(())
            }
            None => Err(Error::new(
                ErrorKind::BadReference,
                format!("Value::Ref({t}) does not point at a container written before it"),
            )),
        }
    }

    /// Writes the header of a list of `len` items at nesting `depth`;
    /// returns the depth of its items.
    pub(crate) fn begin_list(
        &mut self,
        type_name: Option<&str>,
        len: usize,
        depth: usize,
    ) -> Result<usize> {
        let depth = self.enter(depth)?;
        match type_name {
            Some(t) if len <= 7 => {
                self.buf.push(0x70 + len as u8);
                self.write_type(t);
            }
            Some(t) => {
                self.buf.push(b'V');
                self.write_type(t);
                self.write_int(to_i32(len)?);
            }
            None if len <= 7 => self.buf.push(0x78 + len as u8),
            None => {
                self.buf.push(b'X');
                self.write_int(to_i32(len)?);
            }
        }
        Ok(depth)
    }

    /// Writes the header of a map at nesting `depth`; returns the depth of
    /// its keys and values. Close it with [`Encoder::end_map`].
    pub(crate) fn begin_map(&mut self, type_name: Option<&str>, depth: usize) -> Result<usize> {
        let depth = self.enter(depth)?;
        match type_name {
            Some(t) => {
                self.buf.push(b'M');
                self.write_type(t);
            }
            None => self.buf.push(b'H'),
        }
        Ok(depth)
    }

    /// Ends a map.
    pub(crate) fn end_map(&mut self) {
        self.buf.push(b'Z');
    }

    /// Starts an object of `class` with `fields` at nesting `depth`, writing
    /// its class definition first if needed; returns the depth of its field
    /// values, which the caller writes next.
    ///
    /// `enum_name` is `Some(name)` when the object is a Java enum constant
    /// (see [`Value::as_enum_constant`]): a repeated constant is written as
    /// a reference instead (unless disabled) and `Ok(None)` is returned.
    pub(crate) fn begin_object<'f, I>(
        &mut self,
        class: &'f str,
        fields: I,
        enum_name: Option<&str>,
        depth: usize,
    ) -> Result<Option<usize>>
    where
        I: ExactSizeIterator<Item = &'f str> + Clone,
    {
        self.begin_object_as(class, fields, enum_name, depth, None)
    }

    /// [`Encoder::begin_object`] with the class definition already encoded
    /// ([`class_def_bytes`]), for the shapes of serde structs.
    pub(crate) fn begin_object_as<'f, I>(
        &mut self,
        class: &'f str,
        fields: I,
        enum_name: Option<&str>,
        depth: usize,
        shape: Option<&Arc<ClassShape>>,
    ) -> Result<Option<usize>>
    where
        I: ExactSizeIterator<Item = &'f str> + Clone,
    {
        let enum_key = match enum_name {
            Some(n) if !self.no_enum_refs => Some([class, n]),
            _ => None,
        };
        if let Some(stream) = enum_key.and_then(|k| self.enum_refs.get(k)) {
            self.tree_reused.push((self.tree_next, stream));
            self.tree_next += 1;
            self.buf.push(b'Q');
            self.write_int(to_i32(stream)?);
            return Ok(None);
        }
        let depth = self.enter(depth)?;
        if let Some(key) = enum_key {
            self.enum_refs.insert(key, self.ref_count - 1);
        }
        let index = self.class_index(class, fields, shape)?;
        if index <= 15 {
            self.buf.push(0x60 + index as u8);
        } else {
            self.buf.push(b'O');
            self.write_int(to_i32(index)?);
        }
        Ok(Some(depth))
    }

    /// The tree index the next container of the current value will get.
    pub(crate) fn next_tree_index(&self) -> usize {
        self.tree_next
    }

    /// Remembers the encoder's state, to undo what is written after it.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            buf: self.buf.len(),
            classes: self.classes.len(),
            shape_classes: self.shape_classes.len(),
            class_defs: self.class_defs,
            types: self.types.len(),
            enum_refs: self.enum_refs.len(),
            ref_count: self.ref_count,
        }
    }

    /// Undoes everything written since `mark` (tables included).
    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.buf.truncate(mark.buf);
        self.classes.truncate(mark.classes);
        self.shape_classes.truncate(mark.shape_classes);
        self.class_defs = mark.class_defs;
        self.types.truncate(mark.types);
        self.enum_refs.truncate(mark.enum_refs);
        self.ref_count = mark.ref_count;
    }

    /// Numbers a new container (stream and tree) and checks the depth.
    fn enter(&mut self, depth: usize) -> Result<usize> {
        if depth >= ENCODE_MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("value nested deeper than {ENCODE_MAX_DEPTH} levels"),
            ));
        }
        self.tree_next += 1;
        self.ref_count += 1;
        Ok(depth + 1)
    }

    /// The stream ref index of tree container `t` of the value being written,
    /// if it has been started.
    fn tree_stream(&self, t: usize) -> Option<usize> {
        if t >= self.tree_next {
            return None;
        }
        match self.tree_reused.binary_search_by_key(&t, |&(tree, _)| tree) {
            Ok(i) => Some(self.tree_reused[i].1),
            Err(before) => Some(self.tree_base + t - before),
        }
    }

    /// Writes a type name, or a reference to it if already written.
    fn write_type(&mut self, t: &str) {
        if let Some(i) = self.types.get([t]) {
            // The table can never exceed i32::MAX entries in practice (each
            // entry costs at least one byte of output).
            self.write_int(i as i32);
        } else {
            self.types.insert([t], self.types.len());
            self.write_string(t);
        }
    }

    /// Returns the class-definition index for (class, field names), writing
    /// the definition first if this stream has not seen it.
    fn class_index<'f, I>(
        &mut self,
        class: &'f str,
        fields: I,
        shape: Option<&Arc<ClassShape>>,
    ) -> Result<usize>
    where
        I: ExactSizeIterator<Item = &'f str> + Clone,
    {
        let key = std::iter::once(class).chain(fields.clone());
        if let Some(shape) = shape {
            // Known by pointer: no key to build, copy or compare.
            if let Some(index) = self.shape_classes.by_shape(shape) {
                return Ok(index);
            }
            let index = match self.classes.get(key) {
                Some(index) => index,
                None => {
                    self.buf.extend_from_slice(&shape.def);
                    self.next_class_def()
                }
            };
            self.shape_classes.push(Arc::clone(shape), index);
            return Ok(index);
        }
        if let Some(index) = self.classes.get(key.clone()) {
            return Ok(index);
        }
        if let Some(index) = self.shape_classes.by_names(class, fields.clone()) {
            return Ok(index);
        }
        self.write_class_def(class, fields)?;
        let index = self.next_class_def();
        self.classes.insert(key, index);
        Ok(index)
    }

    /// Counts a class definition just written; returns its index.
    fn next_class_def(&mut self) -> usize {
        self.class_defs += 1;
        self.class_defs - 1
    }

    fn write_class_def<'f>(
        &mut self,
        class: &str,
        fields: impl ExactSizeIterator<Item = &'f str>,
    ) -> Result<()> {
        self.buf.push(b'C');
        self.write_string(class);
        self.write_int(to_i32(fields.len())?);
        for name in fields {
            self.write_string(name);
        }
        Ok(())
    }
}

/// The encoding of a class definition (`C`, the class name, the field count and names), as
/// [`Encoder::begin_object`] writes it.
pub(crate) fn class_def_bytes(class: &str, fields: &[&str]) -> Result<Vec<u8>> {
    let mut enc = Encoder::new();
    enc.write_class_def(class, fields.iter().copied())?;
    Ok(enc.into_bytes())
}

/// A struct's class as the serde serializer learns it once per thread: name, field names
/// and the encoded definition ([`class_def_bytes`]).
#[derive(Debug)]
pub(crate) struct ClassShape {
    pub(crate) name: &'static str,
    pub(crate) fields: Box<[&'static str]>,
    pub(crate) def: Box<[u8]>,
}

/// The classes an encoder wrote from a [`ClassShape`], with their class-def indices. Holding
/// the shapes keeps their addresses unique while the encoder lives. A stream usually defines
/// one or two classes, so two live inline (no allocation per encoder).
#[derive(Debug, Clone, Default)]
struct ShapeClasses {
    inline: [Option<(Arc<ClassShape>, usize)>; 2],
    more: Vec<(Arc<ClassShape>, usize)>,
}

impl ShapeClasses {
    fn iter(&self) -> impl Iterator<Item = &(Arc<ClassShape>, usize)> {
        self.inline
            .iter()
            .map_while(Option::as_ref)
            .chain(&self.more)
    }

    fn len(&self) -> usize {
        self.inline.iter().map_while(Option::as_ref).count() + self.more.len()
    }

    fn by_shape(&self, shape: &Arc<ClassShape>) -> Option<usize> {
        self.iter()
            .find(|(s, _)| Arc::ptr_eq(s, shape))
            .map(|&(_, index)| index)
    }

    fn by_names<'f>(
        &self,
        class: &str,
        fields: impl ExactSizeIterator<Item = &'f str> + Clone,
    ) -> Option<usize> {
        self.iter()
            .find(|(s, _)| s.name == class && s.fields.iter().copied().eq(fields.clone()))
            .map(|&(_, index)| index)
    }

    fn push(&mut self, shape: Arc<ClassShape>, index: usize) {
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some((shape, index)),
            None => self.more.push((shape, index)),
        }
    }

    fn truncate(&mut self, len: usize) {
        let inline = self.inline.len();
        self.more.truncate(len.saturating_sub(inline));
        for slot in self.inline.iter_mut().skip(len) {
            *slot = None;
        }
    }
}

/// The encoder's state at some point, see [`Encoder::mark`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    buf: usize,
    classes: usize,
    shape_classes: usize,
    class_defs: usize,
    types: usize,
    enum_refs: usize,
    ref_count: usize,
}

fn to_i32(n: usize) -> Result<i32> {
    i32::try_from(n)
        .map_err(|_| Error::new(ErrorKind::Limit, format!("{n} does not fit a Hessian int")))
}

/// Appends one UTF-16 unit as 1–3 bytes of (CESU-8 style) UTF-8.
fn push_unit(buf: &mut Vec<u8>, u: u16) {
    if u < 0x80 {
        buf.push(u as u8);
    } else if u < 0x800 {
        buf.extend_from_slice(&[0xc0 | (u >> 6) as u8, 0x80 | (u & 0x3f) as u8]);
    } else {
        buf.extend_from_slice(&[
            0xe0 | (u >> 12) as u8,
            0x80 | ((u >> 6) & 0x3f) as u8,
            0x80 | (u & 0x3f) as u8,
        ]);
    }
}
