//! The Hessian 2.0 [`Decoder`].
//!
//! The decoder is iterative (an explicit stack of open containers), so deep
//! input cannot overflow the native stack; nesting is bounded by
//! [`Limits::max_depth`].

use std::borrow::Cow;
use std::cell::Cell;

use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};
use crate::limits::Limits;
use crate::value::Value;

mod classes;
mod skip;
pub(crate) mod stream;

use classes::{ClassDef, ClassTable};

pub use skip::StrPairs;

/// Reads successive Hessian 2.0 values from a byte slice.
///
/// One decoder holds one set of tables (class definitions, type names and
/// value references) shared by every value read from it, as a Dubbo2 body
/// requires. Every bytecode of Hessian 2.0 is accepted in every form
/// (compact and full-width numbers, chunked strings and binary with any chunk
/// sizes, fixed and variable lists, typed and untyped maps, class
/// definitions, type references and value references).
///
/// After an error the decoder is *poisoned*: further reads fail, because
/// its tables may be inconsistent with the input.
///
/// Values already returned are not kept: a reference (`Q`) into an earlier
/// top-level value, which is rare, makes the decoder decode the input up to
/// there once more (with the limits each value was read with) and keep
/// every value from then on. The results are the same as if every value had
/// been kept.
///
/// ```
/// use dubbo_hessian2::{Decoder, Value};
///
/// let body = [0x05, b'2', b'.', b'0', b'.', b'2', 0x94];
/// let mut dec = Decoder::new(&body);
/// assert_eq!(dec.read_value().unwrap(), Value::String("2.0.2".into()));
/// assert_eq!(dec.deserialize::<i64>().unwrap(), 4);
/// assert!(dec.is_at_end());
/// ```
#[derive(Debug)]
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    limits: Limits,
    classes: ClassTable,
    types: Vec<String>,
    slots: Vec<Slot>,
    /// Completed top-level container values (by top-level ordinal) that
    /// later references may copy from. Only kept in *retain* mode; see
    /// [`Decoder::replay`].
    tops: Vec<Option<Value>>,
    /// Whether completed top-level containers are kept in `tops`. Off until
    /// a reference points into an earlier top-level value.
    retain: bool,
    /// Number of top-level values read successfully so far.
    completed: usize,
    /// Limits that were replaced after reading had started:
    /// `(n, limits)` means `limits` applied to top-level values before
    /// ordinal `n` (and after the previous entry's), so a replay can apply
    /// them again.
    limit_log: Vec<(usize, Limits)>,
    /// Ordinal of the top-level value being read.
    top: usize,
    tree_next: usize,
    expansion: usize,
    poisoned: bool,
    /// Whether a value was skipped ([`Decoder::skip_value`]): its containers
    /// were not numbered, so references can no longer be resolved.
    skipped: bool,
    stack: Vec<Frame>,
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        Scratch {
            classes: std::mem::take(&mut self.classes),
            slots: std::mem::take(&mut self.slots),
            stack: std::mem::take(&mut self.stack),
        }
        .put_back();
    }
}

/// The working buffers of a decoder. A decoder takes them over from the previous decoder
/// dropped on the same thread (one body after another on a connection), so that decoding a
/// typical body allocates only for the values it returns, and class definitions repeated
/// from the previous body are not parsed again (see [`ClassTable`]).
#[derive(Default)]
struct Scratch {
    classes: ClassTable,
    slots: Vec<Slot>,
    stack: Vec<Frame>,
}

/// Buffers with more than this many bytes of capacity are freed, not kept.
const SCRATCH_KEEP_BYTES: usize = 16 * 1024;

thread_local! {
    static SCRATCH: Cell<Option<Scratch>> = const { Cell::new(None) };
}

impl Scratch {
    /// The buffers left by an earlier decoder on this thread, or new ones.
    fn take() -> Scratch {
        SCRATCH
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Empties the buffers and keeps them for the next decoder, unless they have grown large.
    fn put_back(mut self) {
        fn small<T>(v: &Vec<T>) -> bool {
            v.capacity().saturating_mul(std::mem::size_of::<T>()) <= SCRATCH_KEEP_BYTES
        }
        if !(self.classes.hand_over() && small(&self.slots) && small(&self.stack)) {
            return;
        }
        self.slots.clear();
        self.stack.clear();
        // Fails only while the thread is being torn down: the buffers are then just freed.
        let _ = SCRATCH.try_with(|cell| cell.set(Some(self)));
    }
}

/// One entry of the value-reference table.
#[derive(Debug)]
struct Slot {
    /// Slot of the enclosing container, `None` for a top-level container.
    parent: Option<usize>,
    /// Child position inside the parent (item index; 2*i / 2*i+1 for map
    /// keys / values; field index).
    pos: usize,
    /// Ordinal of the top-level value this container belongs to.
    top: usize,
    /// Pre-order container index inside that top-level value.
    tree: usize,
    /// `None` while the container is still being decoded.
    done: Option<Meta>,
}

/// Approximate memory cost of one value node, for the reference-copy budget.
const NODE_WEIGHT: usize = std::mem::size_of::<Value>();

/// Facts about a decoded subtree, used for reference copies.
#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    containers: usize,
    height: usize,
    weight: usize,
    has_refs: bool,
}

impl Meta {
    /// A leaf owning `heap` bytes of string/binary data.
    fn scalar(heap: usize) -> Meta {
        Meta {
            containers: 0,
            height: 0,
            weight: heap.saturating_add(NODE_WEIGHT),
            has_refs: false,
        }
    }

    fn absorb(&mut self, child: Meta) {
        self.containers = self.containers.saturating_add(child.containers);
        self.height = self.height.max(child.height);
        self.weight = self.weight.saturating_add(child.weight);
        self.has_refs |= child.has_refs;
    }
}

#[derive(Debug)]
enum Kind {
    List {
        type_name: Option<String>,
        items: Vec<Value>,
        /// `Some(n)`: fixed-length list with `n` items still to read.
        remaining: Option<usize>,
    },
    Map {
        type_name: Option<String>,
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
    },
    Object {
        class: usize,
        fields: Vec<(String, Value)>,
    },
}

#[derive(Debug)]
struct Frame {
    kind: Kind,
    slot: usize,
    meta: Meta,
}

impl Frame {
    fn child_count(&self) -> usize {
        match &self.kind {
            Kind::List { items, .. } => items.len(),
            Kind::Map { entries, key, .. } => entries.len() * 2 + usize::from(key.is_some()),
            Kind::Object { fields, .. } => fields.len(),
        }
    }

    fn child_at(&self, pos: usize) -> Option<&Value> {
        match &self.kind {
            Kind::List { items, .. } => items.get(pos),
            Kind::Map { entries, key, .. } => match entries.get(pos / 2) {
                Some((k, v)) => Some(if pos % 2 == 0 { k } else { v }),
                None if pos == entries.len() * 2 => key.as_ref(),
                None => None,
            },
            Kind::Object { fields, .. } => fields.get(pos).map(|(_, v)| v),
        }
    }
}

fn value_child_at(v: &Value, pos: usize) -> Option<&Value> {
    match v {
        Value::List { items, .. } => items.get(pos),
        Value::Map { entries, .. } => entries
            .get(pos / 2)
            .map(|(k, v)| if pos % 2 == 0 { k } else { v }),
        Value::Object { fields, .. } => fields.get(pos).map(|(_, v)| v),
        _ => None,
    }
}

/// What reading one item produced.
enum Item {
    Value(Value, Meta),
    Opened,
}

impl<'a> Decoder<'a> {
    /// Creates a decoder over `input` with default [`Limits`].
    pub fn new(input: &'a [u8]) -> Self {
        let scratch = Scratch::take();
        Decoder {
            input,
            pos: 0,
            limits: Limits::default(),
            classes: scratch.classes,
            types: Vec::new(),
            slots: scratch.slots,
            tops: Vec::new(),
            retain: false,
            completed: 0,
            limit_log: Vec::new(),
            top: 0,
            tree_next: 0,
            expansion: 0,
            poisoned: false,
            skipped: false,
            stack: scratch.stack,
        }
    }

    /// Replaces the decoder's [`Limits`].
    ///
    /// ```
    /// use dubbo_hessian2::{Decoder, Limits};
    /// let dec = Decoder::new(&[0x90]).with_limits(Limits::default().max_depth(16));
    /// assert_eq!(dec.limits().max_depth, 16);
    /// ```
    pub fn with_limits(mut self, limits: Limits) -> Self {
        if self.completed > 0 {
            // Values already read keep the limits they were read with, should
            // they ever be decoded again (see `replay`).
            self.limit_log.push((self.completed, self.limits));
        }
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Byte offset of the next value.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// `true` when all input has been consumed.
    pub fn is_at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// The input not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or(&[])
    }

    /// Reads the next value.
    ///
    /// ```
    /// use dubbo_hessian2::{Decoder, Value};
    /// // HashMap{1: "fee"}
    /// let v = Decoder::new(&[0x48, 0x91, 0x03, b'f', b'e', b'e', 0x5a]).read_value().unwrap();
    /// assert_eq!(v, Value::map(vec![(Value::Int(1), "fee".into())]));
    /// ```
    pub fn read_value(&mut self) -> Result<Value> {
        if self.poisoned {
            return Err(Error::at(
                ErrorKind::Syntax,
                self.pos,
                "decoder unusable after an earlier error",
            ));
        }
        self.top = self.completed;
        self.tree_next = 0;
        match self.read_top() {
            Ok((value, is_container)) => {
                if self.retain {
                    self.tops.push(if is_container {
                        Some(value.clone())
                    } else {
                        None
                    });
                }
                self.completed += 1;
                Ok(value)
            }
            Err(e) => {
                self.poisoned = true;
                self.stack.clear();
                Err(e)
            }
        }
    }

    /// Reads the next value and maps it into `T` with the crate's serde
    /// mapping (see the crate docs), sharing this decoder's tables.
    ///
    /// The value is first decoded into a [`Value`] (Hessian references may
    /// point at any earlier container of it) and then handed to
    /// `T::deserialize`.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Pair { name: String, id: i32 }
    ///
    /// let bytes = [
    ///     0x43, 0x0c, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'P', b'a', b'i', b'r',
    ///     0x92, 0x04, b'n', b'a', b'm', b'e', 0x02, b'i', b'd', 0x60, 0x01, b'x', 0x97,
    /// ];
    /// let pair: Pair = dubbo_hessian2::Decoder::new(&bytes).deserialize().unwrap();
    /// assert_eq!(pair, Pair { name: "x".into(), id: 7 });
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&mut self) -> Result<T> {
        let start = self.pos;
        let value = self.read_value()?;
        crate::de::from_value(value).map_err(|e| e.or_offset(start))
    }

    /// Reads a value that must be a string (or null).
    pub fn read_string(&mut self) -> Result<Option<String>> {
        let start = self.pos;
        match self.read_value()? {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(Error::at(
                ErrorKind::Type,
                start,
                format!("expected a string, found {}", crate::de::describe(&other)),
            )),
        }
    }

    /// [`Decoder::read_string`], borrowing the text from the input when it
    /// is a single chunk of ASCII (the usual case for names, versions and
    /// attachment keys), so that no allocation is needed.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use dubbo_hessian2::Decoder;
    ///
    /// let mut dec = Decoder::new(&[0x03, b'f', b'e', b'e', b'N']);
    /// assert!(matches!(dec.read_str().unwrap(), Some(Cow::Borrowed("fee"))));
    /// assert_eq!(dec.read_str().unwrap(), None);
    /// ```
    pub fn read_str(&mut self) -> Result<Option<Cow<'a, str>>> {
        if !self.poisoned
            && let Some(&tag) = self.input.get(self.pos)
        {
            let start = self.pos;
            self.pos += 1;
            if let Some(s) = self.read_short_ascii(tag) {
                // A string at top level: no reference slot, nothing to retain.
                if self.retain {
                    self.tops.push(None);
                }
                self.completed += 1;
                return Ok(Some(Cow::Borrowed(s)));
            }
            self.pos = start;
        }
        Ok(self.read_string()?.map(Cow::Owned))
    }

    /// Reads a value that must be an int or long fitting in `i64`.
    pub fn read_long(&mut self) -> Result<i64> {
        let start = self.pos;
        let v = self.read_value()?;
        v.as_i64().ok_or_else(|| {
            Error::at(
                ErrorKind::Type,
                start,
                format!("expected an integer, found {}", crate::de::describe(&v)),
            )
        })
    }

    // ----------------------------------------------------------------
    // core loop

    /// Returns the value and whether it was decoded as a container (and so
    /// owns a reference slot).
    fn read_top(&mut self) -> Result<(Value, bool)> {
        loop {
            if let Some((value, meta)) = self.try_complete()? {
                if self.stack.is_empty() {
                    return Ok((value, true));
                }
                self.attach(value, meta)?;
                continue;
            }
            match self.read_item()? {
                Item::Opened => {}
                Item::Value(value, meta) => {
                    if self.stack.is_empty() {
                        return Ok((value, false));
                    }
                    self.attach(value, meta)?;
                }
            }
        }
    }

    /// If the innermost open container is complete, pops and returns it.
    fn try_complete(&mut self) -> Result<Option<(Value, Meta)>> {
        let Some(frame) = self.stack.last() else {
            return Ok(None);
        };
        let complete = match &frame.kind {
            Kind::List {
                remaining: Some(n), ..
            } => *n == 0,
            Kind::List {
                remaining: None, ..
            }
            | Kind::Map { .. } => {
                if self.input.get(self.pos) == Some(&b'Z') {
                    if let Kind::Map { key: Some(_), .. } = &frame.kind {
                        return Err(self
                            .err_here(ErrorKind::Syntax, "map ends after a key without a value"));
                    }
                    self.pos += 1;
                    true
                } else {
                    false
                }
            }
            Kind::Object { class, fields } => match self.classes.get(*class) {
                Some(def) => fields.len() >= def.field_count(),
                None => true,
            },
        };
        if !complete {
            return Ok(None);
        }
        let Some(frame) = self.stack.pop() else {
            return Ok(None);
        };
        let mut meta = frame.meta;
        meta.containers = meta.containers.saturating_add(1);
        meta.height = meta.height.saturating_add(1);
        meta.weight = meta.weight.saturating_add(NODE_WEIGHT);
        let value = match frame.kind {
            Kind::List {
                type_name, items, ..
            } => Value::List { type_name, items },
            Kind::Map {
                type_name, entries, ..
            } => Value::Map { type_name, entries },
            Kind::Object { class, fields } => Value::Object {
                class: self
                    .classes
                    .get(class)
                    .map(|d| self.classes.class_name(d))
                    .unwrap_or_default()
                    .to_owned(),
                fields,
            },
        };
        if let Some(slot) = self.slots.get_mut(frame.slot) {
            slot.done = Some(meta);
        }
        Ok(Some((value, meta)))
    }

    /// Adds a finished child value to the innermost open container.
    fn attach(&mut self, value: Value, meta: Meta) -> Result<()> {
        let max_len = self.limits.max_container_len;
        let pos = self.pos;
        let Some(frame) = self.stack.last_mut() else {
            return Ok(());
        };
        frame.meta.absorb(meta);
        let too_long = match &mut frame.kind {
            Kind::List {
                items, remaining, ..
            } => {
                items.push(value);
                if let Some(n) = remaining {
                    *n = n.saturating_sub(1);
                }
                items.len() > max_len
            }
            Kind::Map { entries, key, .. } => {
                match key.take() {
                    None => *key = Some(value),
                    Some(k) => entries.push((k, value)),
                }
                entries.len() > max_len
            }
            Kind::Object { class, fields } => {
                let name = self
                    .classes
                    .get(*class)
                    .and_then(|d| self.classes.field_name(d.field_range().0 + fields.len()))
                    .unwrap_or_default()
                    .to_owned();
                fields.push((name, value));
                false
            }
        };
        if too_long {
            return Err(Error::at(
                ErrorKind::Limit,
                pos,
                format!("container has more than {max_len} elements"),
            ));
        }
        Ok(())
    }

    /// Reads one value start: a complete scalar / reference copy, or the
    /// header of a container (which is then pushed on the stack).
    fn read_item(&mut self) -> Result<Item> {
        loop {
            let start = self.pos;
            let tag = self.byte()?;
            let scalar = |v: Value| Ok(Item::Value(v, Meta::scalar(0)));
            return match tag {
                0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => {
                    let s = self.read_string_from(tag)?;
                    let w = s.len();
                    Ok(Item::Value(Value::String(s), Meta::scalar(w)))
                }
                0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => {
                    let b = self.read_binary_from(tag)?;
                    let w = b.len();
                    Ok(Item::Value(Value::Binary(b), Meta::scalar(w)))
                }
                0x38..=0x3f => {
                    let b = self.take(2)?;
                    let v =
                        ((i64::from(tag) - 0x3c) << 16) | (i64::from(b[0]) << 8) | i64::from(b[1]);
                    scalar(Value::Long(v))
                }
                0x40 | 0x45 | 0x47 | 0x50 => Err(bad_tag(start, tag)),
                b'C' => {
                    self.read_class_def()?;
                    continue;
                }
                b'D' => {
                    let b = self.take_array::<8>()?;
                    scalar(Value::Double(f64::from_be_bytes(b)))
                }
                b'F' => scalar(Value::Bool(false)),
                b'T' => scalar(Value::Bool(true)),
                b'N' => scalar(Value::Null),
                b'I' => scalar(Value::Int(i32::from_be_bytes(self.take_array::<4>()?))),
                b'Y' => scalar(Value::Long(i64::from(i32::from_be_bytes(
                    self.take_array::<4>()?,
                )))),
                b'L' => scalar(Value::Long(i64::from_be_bytes(self.take_array::<8>()?))),
                b'J' => scalar(Value::Date(i64::from_be_bytes(self.take_array::<8>()?))),
                b'K' => {
                    let minutes = i32::from_be_bytes(self.take_array::<4>()?);
                    scalar(Value::Date(i64::from(minutes) * 60_000))
                }
                b'H' => self.open(Kind::Map {
                    type_name: None,
                    entries: Vec::new(),
                    key: None,
                }),
                b'M' => {
                    let type_name = Some(self.read_type()?);
                    self.open(Kind::Map {
                        type_name,
                        entries: Vec::new(),
                        key: None,
                    })
                }
                b'O' => {
                    let index = self.read_index("class definition index")?;
                    self.open_object(index, start)
                }
                0x60..=0x6f => self.open_object(usize::from(tag - 0x60), start),
                b'Q' => self.read_ref(start),
                b'U' => {
                    let type_name = Some(self.read_type()?);
                    self.open_list(type_name, None)
                }
                b'V' => {
                    let type_name = Some(self.read_type()?);
                    let len = self.read_len()?;
                    self.open_list(type_name, Some(len))
                }
                b'W' => self.open_list(None, None),
                b'X' => {
                    let len = self.read_len()?;
                    self.open_list(None, Some(len))
                }
                0x70..=0x77 => {
                    let type_name = Some(self.read_type()?);
                    self.open_list(type_name, Some(usize::from(tag - 0x70)))
                }
                0x78..=0x7f => self.open_list(None, Some(usize::from(tag - 0x78))),
                b'Z' => Err(bad_tag(start, tag)),
                0x5b => scalar(Value::Double(0.0)),
                0x5c => scalar(Value::Double(1.0)),
                0x5d => {
                    let b = self.byte()?;
                    scalar(Value::Double(f64::from(b as i8)))
                }
                0x5e => {
                    let b = self.take_array::<2>()?;
                    scalar(Value::Double(f64::from(i16::from_be_bytes(b))))
                }
                0x5f => {
                    let mills = i32::from_be_bytes(self.take_array::<4>()?);
                    scalar(Value::Double(0.001 * f64::from(mills)))
                }
                _ => match self.int_from_tag(tag)? {
                    Some(IntForm::Int(i)) => scalar(Value::Int(i)),
                    Some(IntForm::Long(l)) => scalar(Value::Long(l)),
                    None => Err(bad_tag(start, tag)),
                },
            };
        }
    }

    // ----------------------------------------------------------------
    // containers and references

    fn open_list(&mut self, type_name: Option<String>, len: Option<usize>) -> Result<Item> {
        let items = match len {
            Some(n) => Vec::with_capacity(n.min(4096)),
            None => Vec::new(),
        };
        self.open(Kind::List {
            type_name,
            items,
            remaining: len,
        })
    }

    /// Class definition `index`, which the object starting at `start` refers to.
    fn class_at(&self, index: usize, start: usize) -> Result<ClassDef> {
        self.classes.get(index).copied().ok_or_else(|| {
            Error::at(
                ErrorKind::BadReference,
                start,
                format!(
                    "object refers to class definition #{index}, but only {} are defined",
                    self.classes.len()
                ),
            )
        })
    }

    fn open_object(&mut self, index: usize, start: usize) -> Result<Item> {
        let def = self.class_at(index, start)?;
        let fields = Vec::with_capacity(def.field_count().min(4096));
        self.open(Kind::Object {
            class: index,
            fields,
        })
    }

    fn open(&mut self, kind: Kind) -> Result<Item> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.err_here(
                ErrorKind::Limit,
                format!("nesting depth exceeds {}", self.limits.max_depth),
            ));
        }
        let slot = self.slots.len();
        let (parent, pos) = match self.stack.last() {
            Some(f) => (Some(f.slot), f.child_count()),
            None => (None, 0),
        };
        self.slots.push(Slot {
            parent,
            pos,
            top: self.top,
            tree: self.tree_next,
            done: None,
        });
        self.tree_next = self.tree_next.saturating_add(1);
        self.stack.push(Frame {
            kind,
            slot,
            meta: Meta::default(),
        });
        Ok(Item::Opened)
    }

    fn read_ref(&mut self, start: usize) -> Result<Item> {
        let index = self.read_index("reference")?;
        if self.skipped {
            return Err(Error::at(
                ErrorKind::BadReference,
                start,
                format!("reference #{index} follows a skipped value and cannot be resolved"),
            ));
        }
        let Some(slot) = self.slots.get(index) else {
            return Err(Error::at(
                ErrorKind::BadReference,
                start,
                format!(
                    "reference to value #{index}, but only {} are defined",
                    self.slots.len()
                ),
            ));
        };
        let Some(meta) = slot.done else {
            // A container still being decoded: a real cycle.
            let meta = Meta {
                has_refs: true,
                ..Meta::scalar(0)
            };
            return Ok(Item::Value(Value::Ref(slot.tree), meta));
        };
        let (slot_top, slot_tree) = (slot.top, slot.tree);
        if self.stack.len().saturating_add(meta.height) > self.limits.max_depth {
            return Err(Error::at(
                ErrorKind::Limit,
                start,
                format!(
                    "reference copy would nest deeper than {}",
                    self.limits.max_depth
                ),
            ));
        }
        let budget = self.expansion.saturating_add(meta.weight);
        if budget > self.limits.max_ref_expansion {
            return Err(Error::at(
                ErrorKind::Limit,
                start,
                format!(
                    "references would copy more than {} bytes (max_ref_expansion)",
                    self.limits.max_ref_expansion
                ),
            ));
        }
        self.expansion = budget;
        if slot_top != self.top && !self.retain {
            self.replay().map_err(|()| {
                Error::at(
                    ErrorKind::BadReference,
                    start,
                    format!("reference #{index} cannot be resolved"),
                )
            })?;
        }
        let mut value = self
            .resolve(index)
            .ok_or_else(|| {
                Error::at(
                    ErrorKind::BadReference,
                    start,
                    format!("reference #{index} cannot be resolved"),
                )
            })?
            .clone();
        if meta.has_refs {
            let remap = Remap {
                base: slot_tree,
                count: meta.containers,
                new_base: self.tree_next,
                same_top: slot_top == self.top,
            };
            remap
                .apply(&mut value)
                .map_err(|m| Error::at(ErrorKind::BadReference, start, m))?;
        }
        self.tree_next = self.tree_next.saturating_add(meta.containers);
        Ok(Item::Value(value, meta))
    }

    /// Makes the completed top-level values available to references.
    ///
    /// Top-level values are not kept after they have been returned, since
    /// references into them are rare. When one occurs, a fresh decoder in
    /// retain mode decodes the same input again, with the same limits, up to
    /// the value being read now (decoding is deterministic, so it produces
    /// exactly the values returned before), and hands over its copies. From
    /// then on this decoder keeps every completed top-level container itself,
    /// so this happens at most once per decoder.
    fn replay(&mut self) -> std::result::Result<(), ()> {
        let mut dec = Decoder::new(self.input);
        dec.retain = true;
        let mut log = self.limit_log.iter().peekable();
        for ordinal in 0..self.top {
            while log.next_if(|(end, _)| *end <= ordinal).is_some() {}
            dec.limits = log.peek().map_or(self.limits, |(_, l)| *l);
            dec.read_value().map_err(|_| ())?;
        }
        if dec.tops.len() != self.top {
            return Err(());
        }
        self.tops = std::mem::take(&mut dec.tops);
        self.retain = true;
        Ok(())
    }

    /// Finds the completed container of reference slot `index`.
    fn resolve(&self, index: usize) -> Option<&Value> {
        // Chain of slots from the target up to its top-level container.
        let mut chain = vec![index];
        let mut cur = index;
        while let Some(parent) = self.slots.get(cur)?.parent {
            if chain.len() > self.limits.max_depth.saturating_add(1) {
                return None;
            }
            chain.push(parent);
            cur = parent;
        }
        let root = self.slots.get(cur)?;
        let mut i = chain.len() - 1;
        let mut node: &Value;
        if root.top != self.top {
            node = self.tops.get(root.top)?.as_ref()?;
        } else {
            // The root is the outermost open frame; walk down the open frames
            // until the path leaves them.
            let mut k = 0;
            loop {
                let frame = self.stack.get(k)?;
                if frame.slot != chain[i] || i == 0 {
                    return None;
                }
                let pos = self.slots.get(chain[i - 1])?.pos;
                i -= 1;
                if let Some(v) = frame.child_at(pos) {
                    node = v;
                    break;
                }
                k += 1;
            }
        }
        while i > 0 {
            let pos = self.slots.get(chain[i - 1])?.pos;
            node = value_child_at(node, pos)?;
            i -= 1;
        }
        Some(node)
    }

    // ----------------------------------------------------------------
    // class definitions and types

    /// Reads a class definition (its `C` consumed) into the class table, or takes it from
    /// the table's entries left by the previous decoder when the bytes are the same.
    fn read_class_def(&mut self) -> Result<()> {
        let start = self.pos;
        let max_fields = self.limits.max_container_len;
        if let Some(len) = self.classes.reuse(&self.input[start..], max_fields) {
            self.pos += len;
            return Ok(());
        }
        let new = self.classes.begin();
        let mut text = std::mem::take(self.classes.text_mut());
        let r = self.read_class_def_into(&mut text);
        *self.classes.text_mut() = text;
        let name_end = r?;
        let input: &'a [u8] = self.input;
        self.classes.finish(new, name_end, &input[start..self.pos]);
        Ok(())
    }

    /// Appends the names of a class definition to `text`, recording its field names; returns
    /// where the class name ends.
    fn read_class_def_into(&mut self, text: &mut String) -> Result<usize> {
        self.read_name_into("class name", text)?;
        let name_end = text.len();
        let n = self.read_len()?;
        for _ in 0..n {
            let from = text.len();
            self.read_name_into("field name", text)?;
            self.classes.push_field_span(from, text.len());
        }
        Ok(name_end)
    }

    /// Appends a class or field name (a string, not null) to `text`: a short ASCII name, as
    /// nearly all are, straight from the input.
    fn read_name_into(&mut self, what: &str, text: &mut String) -> Result<()> {
        if let Some(&tag @ (0x00..=0x1f | 0x30..=0x33)) = self.input.get(self.pos) {
            self.pos += 1;
            if let Some(name) = self.read_short_ascii(tag) {
                text.push_str(name);
                return Ok(());
            }
            self.pos -= 1;
        }
        self.read_raw_string_into(what, text)
    }

    /// Reads a list/map type: a string (added to the type table) or an int
    /// referring to an earlier one.
    fn read_type(&mut self) -> Result<String> {
        let start = self.pos;
        let tag = self.byte()?;
        match tag {
            0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => {
                let t = self.read_string_from(tag)?;
                self.types.push(t.clone());
                Ok(t)
            }
            _ => {
                self.pos = start;
                let index = self.read_index("type reference")?;
                self.types.get(index).cloned().ok_or_else(|| {
                    Error::at(
                        ErrorKind::BadReference,
                        start,
                        format!(
                            "type reference #{index}, but only {} types are defined",
                            self.types.len()
                        ),
                    )
                })
            }
        }
    }

    /// Reads a string (not null) and appends it to `out`.
    fn read_raw_string_into(&mut self, what: &str, out: &mut String) -> Result<()> {
        let start = self.pos;
        let tag = self.byte()?;
        match tag {
            0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => self.read_string_into(tag, out),
            _ => Err(Error::at(
                ErrorKind::Syntax,
                start,
                format!("expected a string ({what}), found byte 0x{tag:02x}"),
            )),
        }
    }

    /// Reads an integer in any int or long encoding.
    fn read_raw_int(&mut self, what: &str) -> Result<i64> {
        let start = self.pos;
        let tag = self.byte()?;
        match self.int_from_tag(tag)? {
            Some(IntForm::Int(i)) => Ok(i64::from(i)),
            Some(IntForm::Long(l)) => Ok(l),
            None => Err(Error::at(
                ErrorKind::Syntax,
                start,
                format!("expected an int ({what}), found byte 0x{tag:02x}"),
            )),
        }
    }

    /// A non-negative index (class, type or value reference).
    fn read_index(&mut self, what: &str) -> Result<usize> {
        let start = self.pos;
        let v = self.read_raw_int(what)?;
        usize::try_from(v).map_err(|_| {
            Error::at(
                ErrorKind::BadReference,
                start,
                format!("negative {what} {v}"),
            )
        })
    }

    /// A container length: non-negative, within limits, and not more than
    /// the bytes left (every element takes at least one byte).
    fn read_len(&mut self) -> Result<usize> {
        // One-byte lengths (0 to 47), the usual field counts and list sizes.
        if let Some(&tag @ 0x90..=0xbf) = self.input.get(self.pos) {
            let n = usize::from(tag - 0x90);
            if n <= self.limits.max_container_len && n < self.input.len() - self.pos {
                self.pos += 1;
                return Ok(n);
            }
        }
        let start = self.pos;
        let v = self.read_raw_int("length")?;
        let n = usize::try_from(v)
            .map_err(|_| Error::at(ErrorKind::Syntax, start, format!("negative length {v}")))?;
        if n > self.limits.max_container_len {
            return Err(Error::at(
                ErrorKind::Limit,
                start,
                format!(
                    "length {n} exceeds max_container_len {}",
                    self.limits.max_container_len
                ),
            ));
        }
        let left = self.input.len().saturating_sub(self.pos);
        if n > left {
            return Err(Error::at(
                ErrorKind::Eof,
                start,
                format!("length {n} exceeds the {left} bytes left"),
            ));
        }
        Ok(n)
    }

    /// Decodes the int/long forms that need no look-ahead beyond their own
    /// bytes. Returns `None` if `tag` is not an integer tag.
    fn int_from_tag(&mut self, tag: u8) -> Result<Option<IntForm>> {
        Ok(Some(match tag {
            0x80..=0xbf => IntForm::Int(i32::from(tag) - 0x90),
            0xc0..=0xcf => {
                let b = self.byte()?;
                IntForm::Int(((i32::from(tag) - 0xc8) << 8) | i32::from(b))
            }
            0xd0..=0xd7 => {
                let b = self.take(2)?;
                IntForm::Int(
                    ((i32::from(tag) - 0xd4) << 16) | (i32::from(b[0]) << 8) | i32::from(b[1]),
                )
            }
            b'I' => IntForm::Int(i32::from_be_bytes(self.take_array::<4>()?)),
            0xd8..=0xef => IntForm::Long(i64::from(tag) - 0xe0),
            0xf0..=0xff => {
                let b = self.byte()?;
                IntForm::Long(((i64::from(tag) - 0xf8) << 8) | i64::from(b))
            }
            0x38..=0x3f => {
                let b = self.take(2)?;
                IntForm::Long(
                    ((i64::from(tag) - 0x3c) << 16) | (i64::from(b[0]) << 8) | i64::from(b[1]),
                )
            }
            b'Y' => IntForm::Long(i64::from(i32::from_be_bytes(self.take_array::<4>()?))),
            b'L' => IntForm::Long(i64::from_be_bytes(self.take_array::<8>()?)),
            _ => return Ok(None),
        }))
    }

    // ----------------------------------------------------------------
    // strings and binary

    /// Reads a string whose first tag byte `first` has been consumed.
    fn read_string_from(&mut self, first: u8) -> Result<String> {
        if let Some(s) = self.read_short_ascii(first) {
            return Ok(s.to_owned());
        }
        let mut out = String::new();
        self.read_chunks_into(first, &mut out)?;
        Ok(out)
    }

    /// [`Decoder::read_string_from`], appending to `out`.
    fn read_string_into(&mut self, first: u8, out: &mut String) -> Result<()> {
        match self.read_short_ascii(first) {
            Some(s) => {
                out.push_str(s);
                Ok(())
            }
            None => self.read_chunks_into(first, out),
        }
    }

    /// Fast path: if the string is a single final chunk of ASCII text, reads
    /// and returns it.
    fn read_short_ascii(&mut self, first: u8) -> Option<&'a str> {
        let input: &'a [u8] = self.input;
        let (len, skip) = match first {
            0x00..=0x1f => (usize::from(first), 0),
            0x30..=0x33 => {
                let b = *input.get(self.pos)?;
                ((usize::from(first - 0x30) << 8) | usize::from(b), 1)
            }
            _ => return None,
        };
        let s = ascii_str(input.get(self.pos + skip..self.pos + skip + len)?)?;
        self.pos += skip + len;
        Some(s)
    }

    /// Reads string chunks, the first of which has tag `first` (consumed).
    fn read_chunks_into(&mut self, first: u8, out: &mut String) -> Result<()> {
        let mut high: Option<u16> = None;
        let mut tag = first;
        loop {
            let start = self.pos.saturating_sub(1);
            let (len, last) = match tag {
                0x00..=0x1f => (usize::from(tag), true),
                0x30..=0x33 => (
                    (usize::from(tag - 0x30) << 8) | usize::from(self.byte()?),
                    true,
                ),
                b'S' => (
                    usize::from(u16::from_be_bytes(self.take_array::<2>()?)),
                    true,
                ),
                b'R' => (
                    usize::from(u16::from_be_bytes(self.take_array::<2>()?)),
                    false,
                ),
                _ => {
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        start,
                        format!("expected a string chunk, found byte 0x{tag:02x}"),
                    ));
                }
            };
            let left = self.input.len().saturating_sub(self.pos);
            if len > left {
                return Err(Error::at(
                    ErrorKind::Eof,
                    start,
                    format!("string chunk of {len} characters but only {left} bytes left"),
                ));
            }
            out.reserve(len);
            self.read_units(len, out, &mut high)?;
            if last {
                break;
            }
            tag = self.byte()?;
        }
        if high.is_some() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
        Ok(())
    }

    /// Reads `len` UTF-16 units encoded one by one as UTF-8 (surrogates as
    /// 3-byte sequences). 4-byte sequences are accepted too (counting as
    /// two units). Unpaired surrogates become U+FFFD.
    fn read_units(&mut self, len: usize, out: &mut String, high: &mut Option<u16>) -> Result<()> {
        let mut n = 0;
        if high.is_none() {
            let avail = self.input.get(self.pos..).unwrap_or(&[]);
            // Fast path: the whole chunk is ASCII (one unit per byte).
            if let Some(chunk) = avail.get(..len)
                && let Some(s) = ascii_str(chunk)
            {
                out.push_str(s);
                self.pos += len;
                return Ok(());
            }
            // Otherwise take the ASCII prefix in one step.
            let ascii = avail.iter().take(len).take_while(|b| b.is_ascii()).count();
            if let Some(s) = avail.get(..ascii).and_then(ascii_str) {
                out.push_str(s);
                self.pos += ascii;
                n = ascii;
            }
        }
        while n < len {
            let start = self.pos;
            let b0 = self.byte()?;
            let unit: u32 = match b0 {
                0x00..=0x7f => u32::from(b0),
                0xc0..=0xdf => {
                    let b1 = self.cont(start)?;
                    (u32::from(b0 & 0x1f) << 6) | b1
                }
                0xe0..=0xef => {
                    let b1 = self.cont(start)?;
                    let b2 = self.cont(start)?;
                    (u32::from(b0 & 0x0f) << 12) | (b1 << 6) | b2
                }
                0xf0..=0xf7 => {
                    let b1 = self.cont(start)?;
                    let b2 = self.cont(start)?;
                    let b3 = self.cont(start)?;
                    let cp = (u32::from(b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
                    if high.take().is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    n += 2;
                    continue;
                }
                _ => {
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        start,
                        format!("bad utf-8 encoding at 0x{b0:02x}"),
                    ));
                }
            };
            n += 1;
            match unit {
                0xd800..=0xdbff => {
                    if high.replace(unit as u16).is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                }
                0xdc00..=0xdfff => match high.take() {
                    Some(h) => {
                        let cp = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (unit - 0xdc00);
                        out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    None => out.push(char::REPLACEMENT_CHARACTER),
                },
                _ => {
                    if high.take().is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    out.push(char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
        }
        Ok(())
    }

    /// A UTF-8 continuation byte's 6 payload bits.
    fn cont(&mut self, start: usize) -> Result<u32> {
        let b = self.byte()?;
        if b & 0xc0 != 0x80 {
            return Err(Error::at(
                ErrorKind::Syntax,
                start,
                format!("bad utf-8 continuation byte 0x{b:02x}"),
            ));
        }
        Ok(u32::from(b & 0x3f))
    }

    fn read_binary_from(&mut self, first: u8) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut tag = first;
        loop {
            let (len, last) = self.binary_chunk(tag)?;
            out.extend_from_slice(self.take(len)?);
            if last {
                return Ok(out);
            }
            tag = self.byte()?;
        }
    }

    /// The length of a binary chunk whose tag (consumed) is `tag`, and whether it is the
    /// last chunk.
    fn binary_chunk(&mut self, tag: u8) -> Result<(usize, bool)> {
        let start = self.pos.saturating_sub(1);
        Ok(match tag {
            0x20..=0x2f => (usize::from(tag - 0x20), true),
            0x34..=0x37 => (
                (usize::from(tag - 0x34) << 8) | usize::from(self.byte()?),
                true,
            ),
            b'B' | b'A' => (
                usize::from(u16::from_be_bytes(self.take_array::<2>()?)),
                tag == b'B',
            ),
            _ => {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    start,
                    format!("expected a binary chunk, found byte 0x{tag:02x}"),
                ));
            }
        })
    }

    // ----------------------------------------------------------------
    // raw input

    fn byte(&mut self) -> Result<u8> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.eof(1)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let input: &'a [u8] = self.input;
        let end = self.pos.checked_add(n).ok_or_else(|| self.eof(n))?;
        match input.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(self.eof(n)),
        }
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn eof(&self, needed: usize) -> Error {
        Error::at(
            ErrorKind::Eof,
            self.input.len(),
            format!(
                "unexpected end of input: needed {needed} more byte(s) at offset {}",
                self.pos
            ),
        )
    }

    fn err_here(&self, kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error::at(kind, self.pos, msg)
    }
}

/// The error for a byte at `start` that cannot begin a value.
fn bad_tag(start: usize, tag: u8) -> Error {
    let msg = match tag {
        0x40 | 0x45 | 0x47 | 0x50 => format!("reserved byte 0x{tag:02x}"),
        b'Z' => "unexpected end marker 'Z' where a value was expected".to_owned(),
        _ => format!("unexpected byte 0x{tag:02x}"),
    };
    Error::at(ErrorKind::Syntax, start, msg)
}

/// `bytes` as a `&str` if they are all ASCII.
fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes (just checked, word at a time) are valid UTF-8.
        // Validating them again with `from_utf8` costs ~80 instructions per
        // short string, about 15% of decoding a typical Dubbo2 request body.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

enum IntForm {
    Int(i32),
    Long(i64),
}

/// Renumbers cyclic references inside a copied subtree.
struct Remap {
    base: usize,
    count: usize,
    new_base: usize,
    same_top: bool,
}

impl Remap {
    fn apply(&self, v: &mut Value) -> std::result::Result<(), String> {
        match v {
            Value::Ref(t) => {
                if *t >= self.base && *t - self.base < self.count {
                    *t = self.new_base.saturating_add(*t - self.base);
                } else if !self.same_top {
                    return Err(
                        "reference copies a cyclic value whose cycle leaves the copied part and crosses top-level values; not representable"
                            .to_owned(),
                    );
                }
            }
            Value::List { items, .. } => {
                for i in items {
                    self.apply(i)?;
                }
            }
            Value::Map { entries, .. } => {
                for (k, val) in entries {
                    self.apply(k)?;
                    self.apply(val)?;
                }
            }
            Value::Object { fields, .. } => {
                for (_, val) in fields {
                    self.apply(val)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
