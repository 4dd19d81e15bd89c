//! The error type for transport and configuration failures (binding, connecting, bad URLs).
//!
//! RPC outcomes are [`Status`](crate::Status); this type is for everything around calls.

use std::error::Error as StdError;
use std::fmt;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A URL or option was invalid.
    Config,
    /// A socket operation (bind, connect, accept) failed.
    Io,
    /// The protocol named by a URL is not registered.
    UnknownProtocol,
    /// The remote peer broke the protocol or the handshake failed.
    Protocol,
    /// An operation did not finish in time.
    Timeout,
    /// The component was already shut down.
    Closed,
    /// A registry lists no provider for the service.
    NoProvider,
}

/// A transport or configuration error, with context and the underlying cause.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the cause.
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Error {
        self.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether this is a configuration error.
    pub fn is_config(&self) -> bool {
        self.kind == ErrorKind::Config
    }

    /// Whether this is an I/O error.
    pub fn is_io(&self) -> bool {
        self.kind == ErrorKind::Io
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn io(context: impl Into<String>, err: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, context).with_source(err)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|s| &**s as &(dyn StdError + 'static))
    }
}

impl From<crate::url::UrlError> for Error {
    fn from(err: crate::url::UrlError) -> Error {
        Error::new(ErrorKind::Config, "invalid URL").with_source(err)
    }
}

impl From<Error> for crate::Status {
    fn from(err: Error) -> crate::Status {
        let code = match err.kind {
            ErrorKind::Config | ErrorKind::UnknownProtocol => crate::Code::InvalidArgument,
            ErrorKind::Timeout => crate::Code::DeadlineExceeded,
            ErrorKind::Io | ErrorKind::Protocol | ErrorKind::Closed | ErrorKind::NoProvider => {
                crate::Code::Unavailable
            }
        };
        crate::Status::new(code, err.to_string())
    }
}
