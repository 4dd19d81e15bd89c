//! The class definitions of a Hessian stream, remembered across decoders.
//!
//! Every Dubbo2 body is its own stream, so each one defines its classes again, byte for
//! byte the same as the body before on the same connection. A decoder's table therefore keeps
//! the definitions the previous decoder on its thread read (it is handed over with the other
//! working buffers): when the next definition in the input is the same bytes as the entry at
//! the same position, it is taken as parsed then instead of being parsed again.

/// One class definition: spans into the table's buffers.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClassDef {
    /// Span of the class name in `text`.
    name: (usize, usize),
    /// Range of its field-name spans in `field_spans`.
    fields: (usize, usize),
    /// Span of its encoding (after the `C`) in `raw`.
    raw: (usize, usize),
}

impl ClassDef {
    pub(super) fn field_count(&self) -> usize {
        self.fields.1 - self.fields.0
    }

    /// Range of its field names, as indices for [`ClassTable::field_name`].
    pub(super) fn field_range(&self) -> (usize, usize) {
        self.fields
    }
}

/// The class definitions read so far, and beyond them those a previous decoder read.
#[derive(Debug, Default)]
pub(super) struct ClassTable {
    defs: Vec<ClassDef>,
    /// How many of `defs` this decoder has read; the rest are left from the previous one.
    live: usize,
    /// Class and field names, concatenated (one allocation instead of one per name).
    text: String,
    field_spans: Vec<(usize, usize)>,
    /// The definitions' encodings, concatenated.
    raw: Vec<u8>,
}

/// Buffers with more than this many bytes of capacity are freed, not handed over.
const KEEP_BYTES: usize = 16 * 1024;

impl ClassTable {
    /// Definition `index`, if this decoder has read it.
    pub(super) fn get(&self, index: usize) -> Option<&ClassDef> {
        self.defs[..self.live].get(index)
    }

    /// Number of definitions this decoder has read.
    pub(super) fn len(&self) -> usize {
        self.live
    }

    pub(super) fn class_name(&self, def: &ClassDef) -> &str {
        self.text.get(def.name.0..def.name.1).unwrap_or_default()
    }

    /// The field name at `index` (see [`ClassDef::field_range`]).
    pub(super) fn field_name(&self, index: usize) -> Option<&str> {
        let &(from, to) = self.field_spans.get(index)?;
        self.text.get(from..to)
    }

    /// Forgets the definitions read after the first `live` (they stay as reusable entries).
    pub(super) fn rewind(&mut self, live: usize) {
        self.live = self.live.min(live);
    }

    /// If `input` starts with the encoding of the next definition left by the previous
    /// decoder (and its field count is within `max_fields`), takes that definition and
    /// returns the length of its encoding.
    pub(super) fn reuse(&mut self, input: &[u8], max_fields: usize) -> Option<usize> {
        let def = self.defs.get(self.live)?;
        let raw = self.raw.get(def.raw.0..def.raw.1)?;
        if def.field_count() > max_fields || !input.starts_with(raw) {
            return None;
        }
        self.live += 1;
        Some(raw.len())
    }

    /// Starts a new definition at the end of the live ones (dropping what was left beyond
    /// them); its names are appended to [`ClassTable::text_mut`].
    pub(super) fn begin(&mut self) -> NewDef {
        if let Some(stale) = self.defs.get(self.live).copied() {
            self.defs.truncate(self.live);
            self.text.truncate(stale.name.0);
            self.field_spans.truncate(stale.fields.0);
            self.raw.truncate(stale.raw.0);
        }
        if self.text.capacity() == 0 {
            self.text.reserve(256);
        }
        NewDef {
            text: self.text.len(),
            fields: self.field_spans.len(),
        }
    }

    /// The buffer the next name is appended to.
    pub(super) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Records the text span `from..to` as the next field name.
    pub(super) fn push_field_span(&mut self, from: usize, to: usize) {
        self.field_spans.push((from, to));
    }

    /// Ends the definition begun with `new`: `name_end` is where its class name ends in the
    /// text, `raw` its encoding.
    pub(super) fn finish(&mut self, new: NewDef, name_end: usize, raw: &[u8]) {
        let start = self.raw.len();
        self.raw.extend_from_slice(raw);
        self.defs.push(ClassDef {
            name: (new.text, name_end),
            fields: (new.fields, self.field_spans.len()),
            raw: (start, self.raw.len()),
        });
        self.live = self.defs.len();
    }

    /// Makes the table ready for the next decoder: nothing live, everything kept for reuse.
    /// `false` if the buffers have grown too large to keep.
    pub(super) fn hand_over(&mut self) -> bool {
        fn small<T>(v: &Vec<T>) -> bool {
            v.capacity().saturating_mul(std::mem::size_of::<T>()) <= KEEP_BYTES
        }
        self.live = 0;
        small(&self.defs)
            && small(&self.field_spans)
            && small(&self.raw)
            && self.text.capacity() <= KEEP_BYTES
    }
}

/// Where a definition being read starts in the table's buffers.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewDef {
    pub(super) text: usize,
    fields: usize,
}

#[cfg(test)]
mod tests {
    use crate::{Decoder, Encoder, ErrorKind, Limits, Value};

    fn object(class: &str, fields: &[(&str, i32)]) -> Value {
        Value::object(
            class,
            fields
                .iter()
                .map(|&(k, v)| (k.to_owned(), Value::Int(v)))
                .collect(),
        )
    }

    fn encode(values: &[Value]) -> Vec<u8> {
        let mut enc = Encoder::new();
        for v in values {
            enc.write_value(v).unwrap();
        }
        enc.into_bytes()
    }

    /// Decodes every value of `bytes` with a new decoder (as a new body is).
    fn decode(bytes: &[u8]) -> Vec<Value> {
        let mut dec = Decoder::new(bytes);
        let mut out = Vec::new();
        while !dec.is_at_end() {
            out.push(dec.read_value().unwrap());
        }
        out
    }

    #[test]
    fn definitions_left_by_the_previous_decoder_are_reused_only_when_identical() {
        let a = object("demo.A", &[("x", 1), ("y", 2)]);
        let a_other_fields = object("demo.A", &[("x", 1), ("z", 2)]);
        let b = object("demo.B", &[("k", 3)]);
        let bodies = [
            vec![a.clone(), b.clone()],
            // The same definitions again: reused.
            vec![a.clone(), b.clone()],
            // Same class name, other fields, at the same position: read afresh.
            vec![a_other_fields.clone(), b.clone()],
            // Other order: read afresh.
            vec![b.clone(), a.clone()],
            vec![b.clone()],
            vec![a.clone(), a_other_fields, b],
        ];
        for values in bodies {
            assert_eq!(decode(&encode(&values)), values);
        }
    }

    #[test]
    fn a_reused_definition_still_meets_the_limits() {
        let wide = object("demo.Wide", &[("a", 1), ("b", 2), ("c", 3)]);
        let bytes = encode(std::slice::from_ref(&wide));
        assert_eq!(decode(&bytes), [wide]);
        let err = Decoder::new(&bytes)
            .with_limits(Limits::default().max_container_len(2))
            .read_value()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
    }

    #[test]
    fn a_definition_cut_short_leaves_the_next_decoder_working() {
        let a = object("demo.A", &[("x", 1)]);
        let bytes = encode(std::slice::from_ref(&a));
        // "C", then the class name cut in the middle.
        assert!(Decoder::new(&bytes[..5]).read_value().is_err());
        assert_eq!(decode(&bytes), std::slice::from_ref(&a));
        assert_eq!(decode(&bytes), [a]);
    }
}
