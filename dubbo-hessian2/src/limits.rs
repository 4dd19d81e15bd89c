//! Resource limits applied by the [`Decoder`](crate::Decoder).

/// Bounds that keep decoding of untrusted input cheap and finite.
///
/// Independently of these limits the decoder never reserves memory for more
/// elements than there are input bytes left (every element takes at least one
/// byte), so a hostile length prefix fails with an error instead of
/// allocating.
///
/// ```
/// use dubbo_hessian2::{Decoder, Limits};
///
/// let limits = Limits::default().max_depth(2);
/// // [[[]]] is three levels deep
/// let err = Decoder::new(&[0x79, 0x79, 0x78]).with_limits(limits).read_value().unwrap_err();
/// assert!(err.to_string().contains("depth"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum nesting of lists, maps and objects in one decoded value
    /// (default 256). Values copied in through back-references count too.
    pub max_depth: usize,
    /// Maximum number of elements of one list, entries of one map or fields
    /// of one class definition (default 16 Mi).
    pub max_container_len: usize,
    /// Maximum total size in bytes (approximated as the size of a `Value`
    /// per node plus string/binary lengths) that back-references (`Q`) may
    /// copy per decoder (default 32 MiB, four times Dubbo's default 8 MiB
    /// payload limit).
    /// Hessian expresses shared sub-graphs by reference; [`Value`](crate::Value)
    /// is a tree, so each reference to a completed value is a deep copy. This
    /// bound stops "billion laughs"-style inputs.
    pub max_ref_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            max_container_len: 16 * 1024 * 1024,
            max_ref_expansion: 32 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_depth`].
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets [`Limits::max_container_len`].
    pub fn max_container_len(mut self, len: usize) -> Self {
        self.max_container_len = len;
        self
    }

    /// Sets [`Limits::max_ref_expansion`].
    pub fn max_ref_expansion(mut self, bytes: usize) -> Self {
        self.max_ref_expansion = bytes;
        self
    }
}
