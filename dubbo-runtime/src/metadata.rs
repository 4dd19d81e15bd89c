//! Call metadata (Dubbo "attachments"): ASCII values and binary `-bin` values.
//!
//! On Triple, metadata travels as HTTP/2 headers (requests, response headers) and trailers.
//! Keys are lower-cased on the wire. Binary values use keys ending in `-bin` and are
//! base64-encoded: emitted without padding, accepted with or without it.

use std::fmt;

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Error returned when a metadata key or value cannot be represented on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMetadata {
    message: String,
}

impl InvalidMetadata {
    fn new(message: impl Into<String>) -> InvalidMetadata {
        InvalidMetadata {
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidMetadata {}

/// A set of metadata entries.
///
/// ```
/// use dubbo_runtime::Metadata;
/// let mut md = Metadata::new();
/// md.insert("x-user", "alice").unwrap();
/// md.insert_bin("x-token-bin", [0xde, 0xad]).unwrap();
/// assert_eq!(md.get("x-user"), Some("alice"));
/// assert_eq!(md.get_bin("x-token-bin").unwrap().unwrap(), vec![0xde, 0xad]);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Metadata {
    headers: HeaderMap,
}

/// Whether `key` names a binary (`-bin`) entry.
pub fn is_binary_key(key: &str) -> bool {
    key.len() >= 4 && key[key.len() - 4..].eq_ignore_ascii_case("-bin")
}

/// Encodes binary metadata the way gRPC emits it: standard base64 without padding.
pub fn encode_binary(value: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(value)
}

/// Decodes a binary metadata value, accepting padded and unpadded base64.
pub fn decode_binary(value: &[u8]) -> Result<Vec<u8>, InvalidMetadata> {
    let trimmed = value
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(&value[..0], |end| &value[..=end]);
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|e| InvalidMetadata::new(format!("invalid base64 in binary metadata: {e}")))
}

fn key(name: &str) -> Result<HeaderName, InvalidMetadata> {
    if name.starts_with(':') {
        return Err(InvalidMetadata::new(format!(
            "metadata key {name:?} is a pseudo-header"
        )));
    }
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| InvalidMetadata::new(format!("invalid metadata key {name:?}")))
}

impl Metadata {
    /// An empty set.
    pub fn new() -> Metadata {
        Metadata {
            headers: HeaderMap::new(),
        }
    }

    /// Wraps HTTP headers (as received).
    pub fn from_headers(headers: HeaderMap) -> Metadata {
        Metadata { headers }
    }

    /// The underlying HTTP headers.
    pub fn into_headers(self) -> HeaderMap {
        self.headers
    }

    /// The underlying HTTP headers.
    pub fn as_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the underlying HTTP headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Inserts an ASCII entry, replacing earlier values of `key`. Keys are lower-cased; values
    /// must be printable ASCII. Use [`Metadata::insert_bin`] for binary data.
    pub fn insert(&mut self, key_name: &str, value: &str) -> Result<(), InvalidMetadata> {
        let name = key(key_name)?;
        if is_binary_key(key_name) {
            return Err(InvalidMetadata::new(format!(
                "key {key_name:?} ends in -bin; use insert_bin"
            )));
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            InvalidMetadata::new(format!(
                "metadata value for {key_name:?} must be printable ASCII"
            ))
        })?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Appends an ASCII entry, keeping earlier values of `key`.
    pub fn append(&mut self, key_name: &str, value: &str) -> Result<(), InvalidMetadata> {
        let name = key(key_name)?;
        if is_binary_key(key_name) {
            return Err(InvalidMetadata::new(format!(
                "key {key_name:?} ends in -bin; use insert_bin"
            )));
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            InvalidMetadata::new(format!(
                "metadata value for {key_name:?} must be printable ASCII"
            ))
        })?;
        self.headers.append(name, value);
        Ok(())
    }

    /// Inserts a binary entry; `key` must end in `-bin`.
    pub fn insert_bin(
        &mut self,
        key_name: &str,
        value: impl AsRef<[u8]>,
    ) -> Result<(), InvalidMetadata> {
        if !is_binary_key(key_name) {
            return Err(InvalidMetadata::new(format!(
                "binary metadata key {key_name:?} must end in -bin"
            )));
        }
        let name = key(key_name)?;
        let encoded = encode_binary(value.as_ref());
        let value = HeaderValue::from_str(&encoded)
            .map_err(|_| InvalidMetadata::new("base64 produced an invalid header value"))?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// The first ASCII value of `key`, if present and printable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers.get(key).and_then(|v| v.to_str().ok())
    }

    /// Every ASCII value of `key`.
    pub fn get_all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(key)
            .into_iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// The decoded first value of a binary `-bin` key.
    pub fn get_bin(&self, key: &str) -> Option<Result<Vec<u8>, InvalidMetadata>> {
        self.headers.get(key).map(|v| decode_binary(v.as_bytes()))
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.headers.contains_key(key)
    }

    /// Removes every value of `key`, returning the first one if it was ASCII.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.headers
            .remove(key)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    /// Iterates `(key, raw value)` pairs; values of `-bin` keys are the base64 text.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))
    }

    /// Copies every entry of `other` into `self` (appending).
    pub fn merge(&mut self, other: &Metadata) {
        for (k, v) in &other.headers {
            self.headers.append(k.clone(), v.clone());
        }
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()))),
            )
            .finish()
    }
}

impl From<HeaderMap> for Metadata {
    fn from(headers: HeaderMap) -> Metadata {
        Metadata::from_headers(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_values_are_unpadded_out_and_accepted_both_ways() {
        let mut md = Metadata::new();
        md.insert_bin("k-bin", b"a").unwrap();
        assert_eq!(md.as_headers().get("k-bin").unwrap(), "YQ");
        assert_eq!(decode_binary(b"YQ==").unwrap(), b"a");
        assert_eq!(decode_binary(b"YQ").unwrap(), b"a");
        assert!(decode_binary(b"!!").is_err());
    }

    #[test]
    fn keys_are_validated_and_lowercased() {
        let mut md = Metadata::new();
        md.insert("X-Mixed", "v").unwrap();
        assert_eq!(md.get("x-mixed"), Some("v"));
        assert!(md.insert("bad key", "v").is_err());
        assert!(md.insert(":path", "v").is_err());
        assert!(md.insert("k", "line\nbreak").is_err());
        assert!(md.insert("k-bin", "v").is_err());
        assert!(md.insert_bin("k", b"v").is_err());
    }

    #[test]
    fn append_keeps_all_values() {
        let mut md = Metadata::new();
        md.append("k", "1").unwrap();
        md.append("k", "2").unwrap();
        assert_eq!(md.get_all("k").collect::<Vec<_>>(), vec!["1", "2"]);
        assert_eq!(md.remove("k").as_deref(), Some("1"));
        assert!(!md.contains_key("k"));
    }
}
