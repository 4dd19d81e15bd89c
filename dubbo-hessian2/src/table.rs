//! [`KeyTable`]: the encoder's per-stream lookup tables (class definitions,
//! type names, enum constants).

use std::collections::HashMap;

/// Tables up to this many entries are searched linearly; larger ones get a
/// hash index.
const LINEAR_MAX: usize = 16;

/// Bytes of an entry header: entry length, value, part count (u64 each).
const HEADER: usize = 24;

/// An append-only map from short tuples of strings to numbers.
///
/// A Hessian stream (one Dubbo2 body) typically defines a handful of classes
/// and types, and each body gets a fresh encoder, so the common case is a
/// table of one or two entries that lives for a few microseconds. All entries
/// are therefore packed into one byte buffer (a single allocation) and
/// searched linearly, which costs far less than creating, hashing into and
/// dropping a `HashMap` with owned keys. Tables that grow beyond
/// [`LINEAR_MAX`] entries get a hash index so lookups stay O(1).
///
/// Entries can be dropped from the end ([`KeyTable::truncate`]), which the
/// encoder uses to undo a partly written value.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTable {
    /// Entries back to back: byte length of the entry, value, number of key
    /// parts, then per part its byte length and its bytes. Integers are u64,
    /// little-endian.
    data: Vec<u8>,
    /// Number of entries.
    len: usize,
    /// key hash → offsets of the entries in `data`; only for tables beyond
    /// `LINEAR_MAX` entries.
    index: Option<HashMap<u64, Vec<usize>>>,
}

impl KeyTable {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The value of the entry whose key parts are `key`.
    pub(crate) fn get<'k, I>(&self, key: I) -> Option<usize>
    where
        I: IntoIterator<Item = &'k str>,
        I::IntoIter: Clone,
    {
        let key = key.into_iter();
        match &self.index {
            Some(index) => index
                .get(&hash(key.clone()))?
                .iter()
                .find_map(|&off| self.value_if_key(off, key.clone())),
            None => {
                let mut off = 0;
                for _ in 0..self.len {
                    if let Some(v) = self.value_if_key(off, key.clone()) {
                        return Some(v);
                    }
                    off += self.word_at(off)?;
                }
                None
            }
        }
    }

    /// Adds an entry (the caller has checked that `key` is not present).
    pub(crate) fn insert<'k, I>(&mut self, key: I, value: usize)
    where
        I: IntoIterator<Item = &'k str>,
        I::IntoIter: Clone,
    {
        let key = key.into_iter();
        let (count, bytes) = key
            .clone()
            .fold((0usize, 0usize), |(n, b), p| (n + 1, b + 8 + p.len()));
        let entry_len = HEADER + bytes;
        let off = self.data.len();
        self.data.reserve(entry_len);
        self.push_word(entry_len);
        self.push_word(value);
        self.push_word(count);
        for part in key.clone() {
            self.push_word(part.len());
            self.data.extend_from_slice(part.as_bytes());
        }
        self.len += 1;
        match &mut self.index {
            Some(index) => index.entry(hash(key)).or_default().push(off),
            None if self.len > LINEAR_MAX => self.build_index(),
            None => {}
        }
    }

    /// Keeps only the first `len` entries.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let mut off = 0;
        for _ in 0..len {
            off += self.word_at(off).unwrap_or(0);
        }
        self.data.truncate(off);
        self.len = len;
        if self.index.is_some() {
            self.index = None;
            if self.len > LINEAR_MAX {
                self.build_index();
            }
        }
    }

    fn build_index(&mut self) {
        let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut off = 0;
        for _ in 0..self.len {
            index.entry(hash(self.parts(off))).or_default().push(off);
            off += self.word_at(off).unwrap_or(0);
        }
        self.index = Some(index);
    }

    fn push_word(&mut self, w: usize) {
        self.data.extend_from_slice(&(w as u64).to_le_bytes());
    }

    fn word_at(&self, off: usize) -> Option<usize> {
        let b: [u8; 8] = self.data.get(off..off + 8)?.try_into().ok()?;
        usize::try_from(u64::from_le_bytes(b)).ok()
    }

    /// The key parts of the entry at `off`.
    fn parts(&self, off: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let count = self.word_at(off + 16).unwrap_or(0);
        let mut at = off + HEADER;
        (0..count).map_while(move |_| {
            let n = self.word_at(at)?;
            let part = self.data.get(at + 8..at + 8 + n)?;
            at += 8 + n;
            Some(part)
        })
    }

    /// The value of the entry at `off` if its key is `key`.
    fn value_if_key<'k>(&self, off: usize, key: impl Iterator<Item = &'k str>) -> Option<usize> {
        let mut stored = self.parts(off);
        for part in key {
            if stored.next()? != part.as_bytes() {
                return None;
            }
        }
        if stored.next().is_some() {
            return None;
        }
        self.word_at(off + 8)
    }
}

/// FNV-1a over the key parts, each terminated by 0xff (never part of UTF-8).
fn hash<'k, P: AsRef<[u8]> + 'k>(key: impl Iterator<Item = P>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in key {
        for &b in part.as_ref().iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_indexed_lookups_agree() {
        let mut t = KeyTable::default();
        let key = |i: usize| [format!("class{}", i % 7), format!("f{i}")];
        for i in 0..100 {
            let k = key(i);
            assert_eq!(t.get(k.iter().map(String::as_str)), None);
            t.insert(k.iter().map(String::as_str), i * 10);
            assert_eq!(t.len(), i + 1);
            for j in 0..=i {
                let k = key(j);
                assert_eq!(t.get(k.iter().map(String::as_str)), Some(j * 10));
            }
            // A prefix or extension of a key is a different key.
            assert_eq!(t.get([k[0].as_str()]), None);
            assert_eq!(t.get([k[0].as_str(), k[1].as_str(), ""]), None);
        }
        for len in [60, 17, 16, 3, 0] {
            t.truncate(len);
            assert_eq!(t.len(), len);
            for j in 0..100 {
                let k = key(j);
                let want = (j < len).then_some(j * 10);
                assert_eq!(t.get(k.iter().map(String::as_str)), want);
            }
        }
        t.insert(["a", "", "b"], 1);
        t.insert(["ab"], 2);
        t.insert([], 3);
        assert_eq!(t.get(["a", "", "b"]), Some(1));
        assert_eq!(t.get(["a", "b"]), None);
        assert_eq!(t.get(["a", "", "b", ""]), None);
        assert_eq!(t.get(["ab"]), Some(2));
        assert_eq!(t.get(["a"]), None);
        assert_eq!(t.get([]), Some(3));
    }
}
