//! The gRPC interop-test peers (`grpc.testing.TestService`, as specified by gRPC's
//! `doc/interop-test-descriptions.md`): the server behaviour, the client test cases, and the
//! command-line settings shared by `interop-server` and `interop-client`.
//!
//! - [`service`]: the `TestService` implementation and the [`InteropService`] wrapper that
//!   adds per-message response compression.
//! - [`client`]: connecting (plaintext or TLS) and running cases with a time bound.
//! - [`cases`]: one function per test case.
//! - [`messages`]: request/response builders and checks shared by both sides.

pub mod cases;
pub mod client;
pub mod messages;
pub mod service;

pub use client::{CaseOutcome, ClientSettings, InteropClient};
pub use service::{InteropService, TestServiceImpl};

/// Code generated from `proto/grpc/testing/{empty,messages,test}.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    dubbo_runtime::include_proto!("grpc.testing");
}

/// The metadata key whose value the server echoes in its initial metadata.
pub const ECHO_INITIAL_KEY: &str = "x-grpc-test-echo-initial";
/// The binary metadata key whose value the server echoes in its trailing metadata.
pub const ECHO_TRAILING_KEY: &str = "x-grpc-test-echo-trailing-bin";

/// Every test case, in the order `--test_case all` runs them.
pub const ALL_CASES: &[&str] = &[
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "timeout_on_sleeping_server",
    "cancel_after_begin",
    "cancel_after_first_response",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "custom_metadata",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_compressed_streaming",
    "server_compressed_streaming",
];

/// Parses a `--test_case` value: one case, a comma-separated list, or `all`. Unknown names
/// are an error.
pub fn parse_cases(value: &str) -> Result<Vec<&'static str>, String> {
    if value.trim() == "all" {
        return Ok(ALL_CASES.to_vec());
    }
    let mut out = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let case = ALL_CASES.iter().find(|c| **c == name).ok_or_else(|| {
            format!(
                "unknown test case {name:?}; known: {}",
                ALL_CASES.join(", ")
            )
        })?;
        out.push(*case);
    }
    if out.is_empty() {
        return Err("no test case given".to_owned());
    }
    Ok(out)
}

/// Parses a boolean flag value as the interop runners pass it (`true`/`false`, `1`/`0`).
pub fn parse_bool(value: Option<&str>) -> Result<bool, String> {
    match value {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(format!("expected true or false, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_parse() {
        assert_eq!(parse_cases("all").unwrap().len(), ALL_CASES.len());
        assert_eq!(
            parse_cases("empty_unary, ping_pong").unwrap(),
            vec!["empty_unary", "ping_pong"]
        );
        assert!(parse_cases("nope").is_err());
        assert!(parse_cases(",").is_err());
    }

    #[test]
    fn bools_parse() {
        assert_eq!(parse_bool(None), Ok(false));
        assert_eq!(parse_bool(Some("true")), Ok(true));
        assert_eq!(parse_bool(Some("0")), Ok(false));
        assert!(parse_bool(Some("yes")).is_err());
    }
}
