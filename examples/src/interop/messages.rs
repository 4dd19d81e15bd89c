//! Payload and status helpers shared by the interop server and client.

use dubbo_runtime::{Code, Status};

use super::proto::{self, EchoStatus, PayloadType};

/// The largest payload the server builds on a client's request (the interop cases need at
/// most 314159 bytes; a request for more is refused instead of allocated).
pub const MAX_RESPONSE_SIZE: usize = 4 * 1024 * 1024;

/// The status message of `special_status_message`: whitespace, BMP and non-BMP characters.
pub const SPECIAL_STATUS_MESSAGE: &str =
    "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n";

/// A `COMPRESSABLE` payload of `size` zero bytes.
pub fn zeros(size: usize) -> proto::Payload {
    proto::Payload {
        r#type: PayloadType::Compressable as i32,
        body: vec![0; size],
    }
}

/// The payload a server sends for a requested `size` and `response_type`, or
/// `INVALID_ARGUMENT` for a negative or oversized size or an unknown type.
pub fn response_payload(response_type: i32, size: i32) -> Result<proto::Payload, Status> {
    if response_type != PayloadType::Compressable as i32 {
        return Err(Status::invalid_argument(format!(
            "response_type {response_type} is not supported (only COMPRESSABLE)"
        )));
    }
    let size = usize::try_from(size)
        .map_err(|_| Status::invalid_argument(format!("negative response size {size}")))?;
    if size > MAX_RESPONSE_SIZE {
        return Err(Status::invalid_argument(format!(
            "response size {size} is larger than this server's limit of {MAX_RESPONSE_SIZE}"
        )));
    }
    Ok(zeros(size))
}

/// The status a request's `response_status` asks for, if it asks for a non-OK one.
pub fn requested_status(echo: Option<&EchoStatus>) -> Option<Status> {
    let echo = echo?;
    (echo.code != 0).then(|| Status::new(Code::from_i32(echo.code), echo.message.clone()))
}

/// Checks that a received payload has `size` zero bytes.
pub fn check_zeros(payload: Option<&proto::Payload>, size: usize) -> Result<(), String> {
    let body = payload.map_or(&[][..], |p| p.body.as_slice());
    if body.len() != size {
        return Err(format!(
            "expected a payload of {size} bytes, got {}",
            body.len()
        ));
    }
    if body.iter().any(|&b| b != 0) {
        return Err(format!("payload of {size} bytes is not all zeros"));
    }
    Ok(())
}

/// Size of a request payload as the `aggregated_payload_size` counts it.
pub fn body_len(payload: Option<&proto::Payload>) -> usize {
    payload.map_or(0, |p| p.body.len())
}

/// Checks that a call failed with `code` (and `message`, when given).
pub fn expect_status<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    message: Option<&str>,
) -> Result<(), String> {
    match result {
        Ok(value) => Err(format!(
            "expected status {}, but the call succeeded with {value:?}",
            code.name()
        )),
        Err(status) if status.code() != code => Err(format!(
            "expected status {}, got {} ({:?})",
            code.name(),
            status.code().name(),
            status.message()
        )),
        Err(status) => match message {
            Some(want) if status.message() != want => Err(format!(
                "expected status message {want:?}, got {:?}",
                status.message()
            )),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_sizes_are_bounded() {
        assert_eq!(response_payload(0, 3).unwrap().body, vec![0; 3]);
        assert_eq!(
            response_payload(0, -1).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(
            response_payload(0, i32::MAX).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(
            response_payload(7, 1).unwrap_err().code(),
            Code::InvalidArgument
        );
    }

    #[test]
    fn checks_report_mismatches() {
        assert!(check_zeros(Some(&zeros(4)), 4).is_ok());
        assert!(check_zeros(Some(&zeros(4)), 5).is_err());
        assert!(check_zeros(None, 0).is_ok());
        let mut p = zeros(2);
        p.body[1] = 1;
        assert!(check_zeros(Some(&p), 2).is_err());
        assert!(requested_status(Some(&EchoStatus::default())).is_none());
        let status = requested_status(Some(&EchoStatus {
            code: 2,
            message: "m".into(),
        }))
        .unwrap();
        assert_eq!((status.code(), status.message()), (Code::Unknown, "m"));
        assert!(expect_status::<()>(Err(Status::unknown("m")), Code::Unknown, Some("m")).is_ok());
        assert!(expect_status::<()>(Err(Status::unknown("x")), Code::Unknown, Some("m")).is_err());
        assert!(expect_status(Ok(1), Code::Unknown, None).is_err());
    }
}
