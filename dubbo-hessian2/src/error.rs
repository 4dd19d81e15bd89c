//! The error type shared by the encoder, the decoder and the serde glue.

use std::fmt;

/// Result alias used throughout this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The broad category of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    Eof,
    /// The input is not valid Hessian 2.0 (bad tag, reserved byte, bad UTF-8, …).
    Syntax,
    /// A configured [`Limits`](crate::Limits) bound was exceeded.
    Limit,
    /// A reference (`Q`), class index or type index points at nothing.
    BadReference,
    /// A value could not be mapped to or from the requested Rust type (serde).
    Type,
    /// A free-form message raised through `serde::ser::Error::custom` / `serde::de::Error::custom`.
    Custom,
}

/// An encoding or decoding failure.
///
/// Carries a category ([`ErrorKind`]), a human readable message and, for
/// decoding failures, the byte offset in the input where the problem was
/// detected.
///
/// ```
/// use dubbo_hessian2::{Decoder, ErrorKind};
///
/// let err = Decoder::new(&[0x40]).read_value().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Syntax);
/// assert_eq!(err.offset(), Some(0));
/// assert!(err.to_string().contains("reserved"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    offset: Option<usize>,
}

impl Error {
    /// Creates an error of the given kind without an offset.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                offset: None,
            }),
        }
    }

    /// Creates an error of the given kind at a byte offset of the input.
    pub fn at(kind: ErrorKind, offset: usize, message: impl Into<String>) -> Self {
        let mut e = Error::new(kind, message);
        e.inner.offset = Some(offset);
        e
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the offset.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Byte offset in the decoder's input where the error was detected, if known.
    pub fn offset(&self) -> Option<usize> {
        self.inner.offset
    }

    /// Sets the offset if the error does not carry one yet.
    pub(crate) fn or_offset(mut self, offset: usize) -> Self {
        if self.inner.offset.is_none() {
            self.inner.offset = Some(offset);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.offset {
            Some(off) => write!(f, "hessian2: {} (at byte offset {off})", self.inner.message),
            None => write!(f, "hessian2: {}", self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("offset", &self.inner.offset)
            .finish()
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom, msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom, msg.to_string())
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {unexp}, expected {exp}"),
        )
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("invalid value: {unexp}, expected {exp}"),
        )
    }
}
