//! RPC outcome: the gRPC status [`Code`]s and the boxed [`Status`] error.
//!
//! Every call either succeeds or ends with a `Status`. Triple sends it as `grpc-status` /
//! `grpc-message` trailers; Dubbo2 maps it to and from its status byte.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::metadata::Metadata;

/// gRPC status codes, with the numbers used on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum Code {
    /// The call succeeded.
    Ok = 0,
    /// The call was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error (for example an exception without a more specific code).
    Unknown = 2,
    /// The client supplied an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the call completed.
    DeadlineExceeded = 4,
    /// A requested entity was not found.
    NotFound = 5,
    /// The entity the client tried to create already exists.
    AlreadyExists = 6,
    /// The caller lacks permission.
    PermissionDenied = 7,
    /// A resource (quota, message size, memory) has been exhausted.
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9,
    /// The operation was aborted.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation (service or method) is not implemented.
    Unimplemented = 12,
    /// Internal error: an invariant was broken.
    Internal = 13,
    /// The service is currently unavailable; retrying may help.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request lacks valid authentication credentials.
    Unauthenticated = 16,
}

impl Code {
    /// Converts a wire number to a code; unknown numbers become [`Code::Unknown`].
    pub fn from_i32(value: i32) -> Code {
        match value {
            0 => Code::Ok,
            1 => Code::Cancelled,
            2 => Code::Unknown,
            3 => Code::InvalidArgument,
            4 => Code::DeadlineExceeded,
            5 => Code::NotFound,
            6 => Code::AlreadyExists,
            7 => Code::PermissionDenied,
            8 => Code::ResourceExhausted,
            9 => Code::FailedPrecondition,
            10 => Code::Aborted,
            11 => Code::OutOfRange,
            12 => Code::Unimplemented,
            13 => Code::Internal,
            14 => Code::Unavailable,
            15 => Code::DataLoss,
            16 => Code::Unauthenticated,
            _ => Code::Unknown,
        }
    }

    /// Parses the ASCII decimal form used in `grpc-status`.
    pub fn from_bytes(bytes: &[u8]) -> Code {
        match bytes {
            [d] if d.is_ascii_digit() => Code::from_i32(i32::from(d - b'0')),
            [b'1', d] if d.is_ascii_digit() => Code::from_i32(10 + i32::from(d - b'0')),
            _ => Code::Unknown,
        }
    }

    /// The wire number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The decimal ASCII form used in `grpc-status` (no allocation).
    pub fn as_str_number(self) -> &'static str {
        const NUMBERS: [&str; 17] = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16",
        ];
        NUMBERS[self as usize]
    }

    /// The canonical upper-case name, e.g. `DEADLINE_EXCEEDED`.
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// Maps an HTTP status to a code for responses that carry no `grpc-status`
    /// (gRPC's http-grpc-status-mapping table).
    pub fn from_http_status(status: u16) -> Code {
        match status {
            400 => Code::Internal,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            429 | 502..=504 => Code::Unavailable,
            431 => Code::Internal,
            100..=199 => Code::Internal,
            _ => Code::Unknown,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of a failed call: a [`Code`], a message, optional binary details, and
/// metadata that travels with it (trailers on Triple).
///
/// `Status` is one pointer wide so `Result<T, Status>` stays small.
///
/// ```
/// use dubbo_runtime::{Code, Status};
/// let status = Status::not_found("no such user");
/// assert_eq!(status.code(), Code::NotFound);
/// assert_eq!(status.to_string(), "NOT_FOUND: no such user");
/// ```
#[derive(Clone)]
pub struct Status {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    code: Code,
    message: String,
    details: Bytes,
    metadata: Metadata,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
    not_sent: bool,
}

macro_rules! status_ctor {
    ($($(#[$doc:meta])* $name:ident => $code:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Status {
                Status::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// Creates a status with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            inner: Box::new(Inner {
                code,
                message: message.into(),
                details: Bytes::new(),
                metadata: Metadata::new(),
                source: None,
                not_sent: false,
            }),
        }
    }

    status_ctor! {
        /// `CANCELLED`.
        cancelled => Cancelled,
        /// `UNKNOWN`.
        unknown => Unknown,
        /// `INVALID_ARGUMENT`.
        invalid_argument => InvalidArgument,
        /// `DEADLINE_EXCEEDED`.
        deadline_exceeded => DeadlineExceeded,
        /// `NOT_FOUND`.
        not_found => NotFound,
        /// `ALREADY_EXISTS`.
        already_exists => AlreadyExists,
        /// `PERMISSION_DENIED`.
        permission_denied => PermissionDenied,
        /// `RESOURCE_EXHAUSTED`.
        resource_exhausted => ResourceExhausted,
        /// `FAILED_PRECONDITION`.
        failed_precondition => FailedPrecondition,
        /// `ABORTED`.
        aborted => Aborted,
        /// `OUT_OF_RANGE`.
        out_of_range => OutOfRange,
        /// `UNIMPLEMENTED`.
        unimplemented => Unimplemented,
        /// `INTERNAL`.
        internal => Internal,
        /// `UNAVAILABLE`.
        unavailable => Unavailable,
        /// `DATA_LOSS`.
        data_loss => DataLoss,
        /// `UNAUTHENTICATED`.
        unauthenticated => Unauthenticated,
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.inner.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Binary details (`grpc-status-details-bin`: a serialized `google.rpc.Status`).
    pub fn details(&self) -> &[u8] {
        &self.inner.details
    }

    /// Sets the binary details.
    pub fn with_details(mut self, details: impl Into<Bytes>) -> Status {
        self.inner.details = details.into();
        self
    }

    /// Metadata sent with the status (trailers on Triple).
    pub fn metadata(&self) -> &Metadata {
        &self.inner.metadata
    }

    /// Mutable metadata sent with the status.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.inner.metadata
    }

    /// Replaces the metadata.
    pub fn with_metadata(mut self, metadata: Metadata) -> Status {
        self.inner.metadata = metadata;
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Status {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// Marks that the request never reached the server (connect failure, stream refused
    /// before processing), so retrying it elsewhere is safe even for non-idempotent methods.
    pub fn with_request_not_sent(mut self) -> Status {
        self.inner.not_sent = true;
        self
    }

    /// Whether the request certainly did not run (see
    /// [`with_request_not_sent`](Status::with_request_not_sent)).
    pub fn request_not_sent(&self) -> bool {
        self.inner.not_sent
    }

    /// Builds a status from an I/O or transport error: connection problems become
    /// `UNAVAILABLE`, timeouts `DEADLINE_EXCEEDED`, anything else `INTERNAL`.
    pub fn from_io_error(context: &str, err: std::io::Error) -> Status {
        use std::io::ErrorKind::*;
        let code = match err.kind() {
            TimedOut => Code::DeadlineExceeded,
            ConnectionRefused | ConnectionReset | ConnectionAborted | NotConnected
            | AddrNotAvailable | BrokenPipe | UnexpectedEof | HostUnreachable
            | NetworkUnreachable => Code::Unavailable,
            _ => Code::Internal,
        };
        Status::new(code, format!("{context}: {err}")).with_source(err)
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Status");
        d.field("code", &self.inner.code);
        d.field("message", &self.inner.message);
        if !self.inner.details.is_empty() {
            d.field("details", &self.inner.details);
        }
        if !self.inner.metadata.is_empty() {
            d.field("metadata", &self.inner.metadata);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.message.is_empty() {
            write!(f, "{}", self.inner.code)
        } else {
            write!(f, "{}: {}", self.inner.code, self.inner.message)
        }
    }
}

impl StdError for Status {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn StdError + 'static))
    }
}

impl From<std::io::Error> for Status {
    fn from(err: std::io::Error) -> Status {
        Status::from_io_error("i/o error", err)
    }
}

impl From<prost::DecodeError> for Status {
    fn from(err: prost::DecodeError) -> Status {
        Status::internal(format!("failed to decode protobuf message: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_wire_numbers() {
        for n in 0..=16 {
            let code = Code::from_i32(n);
            assert_eq!(code.as_i32(), n);
            assert_eq!(Code::from_bytes(code.as_str_number().as_bytes()), code);
        }
        assert_eq!(Code::from_i32(17), Code::Unknown);
        assert_eq!(Code::from_bytes(b"017"), Code::Unknown);
        assert_eq!(Code::from_bytes(b""), Code::Unknown);
        assert_eq!(Code::from_bytes(b"x"), Code::Unknown);
    }

    #[test]
    fn http_status_mapping_follows_grpc_table() {
        assert_eq!(Code::from_http_status(400), Code::Internal);
        assert_eq!(Code::from_http_status(401), Code::Unauthenticated);
        assert_eq!(Code::from_http_status(403), Code::PermissionDenied);
        assert_eq!(Code::from_http_status(404), Code::Unimplemented);
        assert_eq!(Code::from_http_status(429), Code::Unavailable);
        assert_eq!(Code::from_http_status(502), Code::Unavailable);
        assert_eq!(Code::from_http_status(503), Code::Unavailable);
        assert_eq!(Code::from_http_status(504), Code::Unavailable);
        assert_eq!(Code::from_http_status(500), Code::Unknown);
        assert_eq!(Code::from_http_status(101), Code::Internal);
    }

    #[test]
    fn status_is_one_pointer_and_displays_readably() {
        assert_eq!(std::mem::size_of::<Status>(), std::mem::size_of::<usize>());
        assert_eq!(Status::unavailable("down").to_string(), "UNAVAILABLE: down");
        assert_eq!(Status::new(Code::Aborted, "").to_string(), "ABORTED");
    }
}
