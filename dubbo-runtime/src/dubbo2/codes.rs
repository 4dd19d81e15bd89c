//! Dubbo2 response status bytes (spec §3.3) and their mapping to and from [`Code`]
//! (spec §1.8.5).

use crate::status::Code;

/// 20: the call completed (value or exception in the body).
pub const OK: u8 = 20;
/// 25: the response could not be serialized (or exceeded the payload limit).
pub const SERIALIZATION_ERROR: u8 = 25;
/// 30: timeout detected by the client.
pub const CLIENT_TIMEOUT: u8 = 30;
/// 31: timeout detected by the server.
pub const SERVER_TIMEOUT: u8 = 31;
/// 35: the channel closed.
pub const CHANNEL_INACTIVE: u8 = 35;
/// 40: the request could not be decoded.
pub const BAD_REQUEST: u8 = 40;
/// 50: the response could not be encoded.
pub const BAD_RESPONSE: u8 = 50;
/// 60: no such service.
pub const SERVICE_NOT_FOUND: u8 = 60;
/// 70: dispatching failed (Java: also "Not found exported service").
pub const SERVICE_ERROR: u8 = 70;
/// 80: the server failed.
pub const SERVER_ERROR: u8 = 80;
/// 90: the client failed.
pub const CLIENT_ERROR: u8 = 90;
/// 100: the server's thread pool is exhausted.
pub const SERVER_THREADPOOL_EXHAUSTED_ERROR: u8 = 100;

/// The name Java gives a status byte, for messages.
pub fn name(status: u8) -> &'static str {
    match status {
        OK => "OK",
        SERIALIZATION_ERROR => "SERIALIZATION_ERROR",
        CLIENT_TIMEOUT => "CLIENT_TIMEOUT",
        SERVER_TIMEOUT => "SERVER_TIMEOUT",
        CHANNEL_INACTIVE => "CHANNEL_INACTIVE",
        BAD_REQUEST => "BAD_REQUEST",
        BAD_RESPONSE => "BAD_RESPONSE",
        SERVICE_NOT_FOUND => "SERVICE_NOT_FOUND",
        SERVICE_ERROR => "SERVICE_ERROR",
        SERVER_ERROR => "SERVER_ERROR",
        CLIENT_ERROR => "CLIENT_ERROR",
        SERVER_THREADPOOL_EXHAUSTED_ERROR => "SERVER_THREADPOOL_EXHAUSTED_ERROR",
        _ => "UNKNOWN_STATUS",
    }
}

/// The code for a non-OK status byte with error text `message`. Errors that say a service or
/// method was not found (Java's 40/70, other peers' 80) are `UNIMPLEMENTED`, as over Triple;
/// Java's payload-limit errors ("Data length too large") are `RESOURCE_EXHAUSTED`.
pub fn to_code(status: u8, message: &str) -> Code {
    let m = message.to_ascii_lowercase();
    let not_found =
        m.contains("not found") || m.contains("can not find") || m.contains("cannot find");
    match status {
        OK => Code::Ok,
        _ if m.contains("data length too large") => Code::ResourceExhausted,
        BAD_REQUEST | SERVICE_ERROR | SERVER_ERROR if not_found => Code::Unimplemented,
        SERIALIZATION_ERROR | BAD_RESPONSE | SERVER_ERROR | CLIENT_ERROR => Code::Internal,
        CLIENT_TIMEOUT | SERVER_TIMEOUT => Code::DeadlineExceeded,
        CHANNEL_INACTIVE => Code::Unavailable,
        BAD_REQUEST => Code::InvalidArgument,
        SERVICE_NOT_FOUND => Code::Unimplemented,
        SERVER_THREADPOOL_EXHAUSTED_ERROR => Code::ResourceExhausted,
        _ => Code::Unknown,
    }
}

/// The status byte a server sends for an error it detected itself (not one a handler
/// returned: those travel as exceptions).
pub fn from_code(code: Code) -> u8 {
    match code {
        Code::Ok => OK,
        Code::DeadlineExceeded => SERVER_TIMEOUT,
        Code::InvalidArgument => BAD_REQUEST,
        Code::Unimplemented | Code::NotFound => SERVICE_NOT_FOUND,
        Code::ResourceExhausted => SERVER_THREADPOOL_EXHAUSTED_ERROR,
        Code::Internal | Code::DataLoss => SERVER_ERROR,
        _ => SERVICE_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_map_per_spec() {
        assert_eq!(to_code(25, ""), Code::Internal);
        assert_eq!(to_code(30, ""), Code::DeadlineExceeded);
        assert_eq!(to_code(31, ""), Code::DeadlineExceeded);
        assert_eq!(to_code(35, ""), Code::Unavailable);
        assert_eq!(to_code(40, "bad"), Code::InvalidArgument);
        assert_eq!(to_code(50, ""), Code::Internal);
        assert_eq!(to_code(60, ""), Code::Unimplemented);
        assert_eq!(to_code(70, "boom"), Code::Unknown);
        assert_eq!(to_code(80, ""), Code::Internal);
        assert_eq!(to_code(90, ""), Code::Internal);
        assert_eq!(to_code(100, ""), Code::ResourceExhausted);
        assert_eq!(to_code(7, ""), Code::Unknown);
        assert_eq!(
            to_code(70, "Not found exported service: x"),
            Code::Unimplemented
        );
        assert_eq!(
            to_code(40, "Fail to decode request due to: Service not found:x, y"),
            Code::Unimplemented
        );
        assert_eq!(
            to_code(80, "Can not find method: a.B:1.0.0#nope()"),
            Code::Unimplemented
        );
        for code in [
            Code::DeadlineExceeded,
            Code::InvalidArgument,
            Code::Unimplemented,
            Code::ResourceExhausted,
            Code::Internal,
        ] {
            assert_eq!(to_code(from_code(code), ""), code);
        }
        assert_eq!(from_code(Code::Unknown), SERVICE_ERROR);
        assert_eq!(name(70), "SERVICE_ERROR");
        assert_eq!(
            to_code(25, "Data length too large: 9, max payload: 8"),
            Code::ResourceExhausted
        );
    }
}
