//! Reading past values without building them ([`Decoder::skip_value`]) and reading a map of
//! strings that borrows from the input ([`Decoder::read_str_map`]): the two halves of a
//! Dubbo2 request body that a server can handle without allocating.

use std::borrow::Cow;

use super::{Decoder, Meta, NODE_WEIGHT, Slot, bad_tag};
use crate::error::{Error, ErrorKind, Result};

/// The entries of a map of strings, borrowed from the input where they can be
/// ([`Decoder::read_str_map`]).
pub type StrPairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// What a walk over skipped values has seen.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Containers passed (they would have taken reference slots).
    containers: usize,
    /// Whether a reference (`Q`) was passed.
    pub(super) saw_ref: bool,
}

impl<'a> Decoder<'a> {
    /// Moves past the next value without building it and returns its bytes.
    ///
    /// The value is checked as [`read_value`](Self::read_value) would check it (syntax,
    /// text encoding, class and type references, depth and length limits; a value holding
    /// references is read in full, so that what they copy is checked too), and the class
    /// definitions and type names in it are recorded, so later values may use them. Its
    /// containers are not kept, though: after a skip, a reference (`Q`) in a later value fails
    /// with [`ErrorKind::BadReference`].
    ///
    /// ```
    /// use dubbo_hessian2::{Decoder, Value};
    ///
    /// // [1, 2], then "x"
    /// let input = [0x7a, 0x91, 0x92, 0x01, b'x'];
    /// let mut dec = Decoder::new(&input);
    /// assert_eq!(dec.skip_value().unwrap(), &[0x7a, 0x91, 0x92]);
    /// assert_eq!(dec.read_value().unwrap(), Value::from("x"));
    /// ```
    pub fn skip_value(&mut self) -> Result<&'a [u8]> {
        if self.poisoned {
            return Err(Error::at(
                ErrorKind::Syntax,
                self.pos,
                "decoder unusable after an earlier error",
            ));
        }
        let input: &'a [u8] = self.input;
        let start = self.pos;
        let (classes, types) = (self.classes.len(), self.types.len());
        let mut walk = Walk::default();
        let skipped = self.skip_one(0, &mut walk);
        let result = match skipped {
            Ok(()) if !walk.saw_ref => {
                if self.retain {
                    self.tops.push(None);
                }
                self.completed += 1;
                Ok(())
            }
            // References are checked (what they copy, how deep) by resolving them: a value
            // with references is read in full, from the same state.
            Ok(()) => {
                self.pos = start;
                self.classes.rewind(classes);
                self.types.truncate(types);
                self.read_value().map(drop)
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        };
        self.skipped = true;
        result.map(|()| &input[start..self.pos])
    }

    /// Whether the decoder has read no class definitions, type names or containers yet, so
    /// that the bytes of the next value decode the same on their own (with a new decoder).
    ///
    /// ```
    /// use dubbo_hessian2::Decoder;
    ///
    /// let mut dec = Decoder::new(&[0x01, b'x', 0x79, 0x91]);
    /// dec.read_str().unwrap();
    /// assert!(dec.tables_empty());
    /// dec.read_value().unwrap(); // [1]: a container, which later values may refer to
    /// assert!(!dec.tables_empty());
    /// ```
    pub fn tables_empty(&self) -> bool {
        self.classes.len() == 0 && self.types.is_empty() && self.slots.is_empty() && !self.skipped
    }

    /// Reads the next value if it is an untyped map (`H`) whose keys and values are all
    /// strings, borrowing the text from the input where it is a single chunk of ASCII (the
    /// usual case for Dubbo attachments). Returns `Ok(None)`, having consumed nothing, for
    /// any other value; [`read_value`](Self::read_value) then reads it.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use dubbo_hessian2::Decoder;
    ///
    /// // {"k": "v"}, then {1: "v"}
    /// let input = [b'H', 0x01, b'k', 0x01, b'v', b'Z', b'H', 0x91, 0x01, b'v', b'Z'];
    /// let mut dec = Decoder::new(&input);
    /// let map = dec.read_str_map().unwrap().unwrap();
    /// assert!(matches!(map[0], (Cow::Borrowed("k"), Cow::Borrowed("v"))));
    /// assert!(dec.read_str_map().unwrap().is_none());
    /// assert!(dec.read_value().unwrap().as_map().is_some());
    /// ```
    pub fn read_str_map(&mut self) -> Result<Option<StrPairs<'a>>> {
        let start = self.pos;
        if self.poisoned
            || self.retain
            || self.limits.max_depth == 0
            || self.input.get(start) != Some(&b'H')
        {
            return Ok(None);
        }
        self.pos += 1;
        match self.str_pairs() {
            Some((entries, meta)) => {
                self.slots.push(Slot {
                    parent: None,
                    pos: 0,
                    top: self.completed,
                    tree: 0,
                    done: Some(meta),
                });
                self.completed += 1;
                Ok(Some(entries))
            }
            None => {
                self.pos = start;
                Ok(None)
            }
        }
    }

    /// The entries of a map of strings up to its `Z`, and the facts a reference to it needs;
    /// `None` at anything else.
    fn str_pairs(&mut self) -> Option<(StrPairs<'a>, Meta)> {
        let mut entries = Vec::new();
        let mut meta = Meta {
            containers: 1,
            height: 1,
            weight: NODE_WEIGHT,
            has_refs: false,
        };
        loop {
            if self.input.get(self.pos) == Some(&b'Z') {
                self.pos += 1;
                return Some((entries, meta));
            }
            let key = self.plain_str()?;
            let value = self.plain_str()?;
            for s in [&key, &value] {
                meta.absorb(Meta::scalar(s.len()));
            }
            entries.push((key, value));
            if entries.len() > self.limits.max_container_len {
                return None;
            }
        }
    }

    /// A string value (not null), borrowed when it is one chunk of ASCII.
    fn plain_str(&mut self) -> Option<Cow<'a, str>> {
        let tag = *self.input.get(self.pos)?;
        if !matches!(tag, 0x00..=0x1f | 0x30..=0x33 | b'R' | b'S') {
            return None;
        }
        self.pos += 1;
        if let Some(s) = self.read_short_ascii(tag) {
            return Some(Cow::Borrowed(s));
        }
        let mut out = String::new();
        self.read_chunks_into(tag, &mut out).ok()?;
        Some(Cow::Owned(out))
    }

    /// Moves past one value at nesting `depth` (class definitions in front of it included).
    pub(super) fn skip_one(&mut self, depth: usize, walk: &mut Walk) -> Result<()> {
        loop {
            let start = self.pos;
            let tag = self.byte()?;
            return match tag {
                0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => {
                    if self.read_short_ascii(tag).is_none() {
                        self.read_chunks_into(tag, &mut String::new())?;
                    }
                    Ok(())
                }
                0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => self.skip_binary(tag),
                0x40 | 0x45 | 0x47 | 0x50 => Err(bad_tag(start, tag)),
                b'C' => {
                    self.read_class_def()?;
                    continue;
                }
                b'F' | b'T' | b'N' | 0x5b | 0x5c => Ok(()),
                0x5d => self.take(1).map(drop),
                0x5e | 0x38..=0x3f => self.take(2).map(drop),
                b'K' | 0x5f => self.take(4).map(drop),
                b'D' | b'J' => self.take(8).map(drop),
                b'H' => self.skip_entries(depth, walk),
                b'M' => {
                    self.read_type()?;
                    self.skip_entries(depth, walk)
                }
                b'O' => {
                    let index = self.read_index("class definition index")?;
                    self.skip_object(index, start, depth, walk)
                }
                0x60..=0x6f => self.skip_object(usize::from(tag - 0x60), start, depth, walk),
                b'Q' => {
                    let index = self.read_index("reference")?;
                    let defined = self.slots.len().saturating_add(walk.containers);
                    walk.saw_ref = true;
                    if index >= defined {
                        return Err(Error::at(
                            ErrorKind::BadReference,
                            start,
                            format!("reference to value #{index}, but only {defined} are defined"),
                        ));
                    }
                    Ok(())
                }
                b'U' => {
                    self.read_type()?;
                    self.skip_items(None, depth, walk)
                }
                b'V' => {
                    self.read_type()?;
                    let len = self.read_len()?;
                    self.skip_items(Some(len), depth, walk)
                }
                b'W' => self.skip_items(None, depth, walk),
                b'X' => {
                    let len = self.read_len()?;
                    self.skip_items(Some(len), depth, walk)
                }
                0x70..=0x77 => {
                    self.read_type()?;
                    self.skip_items(Some(usize::from(tag - 0x70)), depth, walk)
                }
                0x78..=0x7f => self.skip_items(Some(usize::from(tag - 0x78)), depth, walk),
                b'Z' => Err(bad_tag(start, tag)),
                _ => match self.int_from_tag(tag)? {
                    Some(_) => Ok(()),
                    None => Err(bad_tag(start, tag)),
                },
            };
        }
    }

    /// Counts a container opened at `depth` (which its elements are one deeper than).
    fn enter_skipped(&mut self, depth: usize, walk: &mut Walk) -> Result<usize> {
        if depth >= self.limits.max_depth {
            return Err(self.err_here(
                ErrorKind::Limit,
                format!("nesting depth exceeds {}", self.limits.max_depth),
            ));
        }
        walk.containers = walk.containers.saturating_add(1);
        Ok(depth + 1)
    }

    fn too_long(&self, n: usize) -> Result<()> {
        if n > self.limits.max_container_len {
            return Err(self.err_here(
                ErrorKind::Limit,
                format!(
                    "container has more than {} elements",
                    self.limits.max_container_len
                ),
            ));
        }
        Ok(())
    }

    /// Map entries up to and including the `Z`.
    fn skip_entries(&mut self, depth: usize, walk: &mut Walk) -> Result<()> {
        let inner = self.enter_skipped(depth, walk)?;
        let mut n = 0usize;
        loop {
            if self.input.get(self.pos) == Some(&b'Z') {
                self.pos += 1;
                return Ok(());
            }
            self.skip_one(inner, walk)?;
            if self.input.get(self.pos) == Some(&b'Z') {
                return Err(
                    self.err_here(ErrorKind::Syntax, "map ends after a key without a value")
                );
            }
            self.skip_one(inner, walk)?;
            n += 1;
            self.too_long(n)?;
        }
    }

    /// `len` list items, or items up to and including the `Z`.
    fn skip_items(&mut self, len: Option<usize>, depth: usize, walk: &mut Walk) -> Result<()> {
        let inner = self.enter_skipped(depth, walk)?;
        match len {
            Some(n) => {
                self.too_long(n)?;
                (0..n).try_for_each(|_| self.skip_one(inner, walk))
            }
            None => {
                let mut n = 0usize;
                while self.input.get(self.pos) != Some(&b'Z') {
                    self.skip_one(inner, walk)?;
                    n += 1;
                    self.too_long(n)?;
                }
                self.pos += 1;
                Ok(())
            }
        }
    }

    fn skip_object(
        &mut self,
        index: usize,
        start: usize,
        depth: usize,
        walk: &mut Walk,
    ) -> Result<()> {
        let fields = self.class_at(index, start)?.field_count();
        let inner = self.enter_skipped(depth, walk)?;
        (0..fields).try_for_each(|_| self.skip_one(inner, walk))
    }

    /// Binary chunks, the first of which has tag `first` (consumed).
    fn skip_binary(&mut self, first: u8) -> Result<()> {
        let mut tag = first;
        loop {
            let (len, last) = self.binary_chunk(tag)?;
            self.take(len)?;
            if last {
                return Ok(());
            }
            tag = self.byte()?;
        }
    }
}
