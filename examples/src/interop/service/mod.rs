//! The interop server: `grpc.testing.TestService` as gRPC's interop-test descriptions
//! specify it (`EmptyCall`, `UnaryCall`, `StreamingOutputCall`, `StreamingInputCall`,
//! `FullDuplexCall`, `HalfDuplexCall`; `UnimplementedCall` answers `UNIMPLEMENTED`), with
//! echoed metadata, requested statuses, request-compression checks and compressed responses.
//!
//! The typed [`TestServiceImpl`] cannot choose compression per streamed message (typed
//! streams yield bare messages), so [`InteropService`] serves the streaming-output methods at
//! the payload level, marking each message compressed or not as its `ResponseParameters` ask,
//! and hands every other method to the typed implementation.

mod payload;
mod streams;

use dubbo_runtime::{BoxStream, Code, Metadata, Request, Response, Status, Streaming};

pub use payload::InteropService;
use streams::{EndGuard, duplex_stream, messages_only, output_stream};

use super::messages::{body_len, requested_status, response_payload};
use super::proto::{
    BoolValue, Empty, SimpleRequest, SimpleResponse, StreamingInputCallRequest,
    StreamingInputCallResponse, StreamingOutputCallRequest, StreamingOutputCallResponse,
    TestService,
};
use super::{ECHO_INITIAL_KEY, ECHO_TRAILING_KEY};

/// The metadata a call asked to have echoed.
#[derive(Debug, Clone, Default)]
struct Echo {
    initial: Metadata,
    trailing: Metadata,
}

impl Echo {
    fn from_request(metadata: &Metadata) -> Echo {
        let mut echo = Echo::default();
        if let Some(value) = metadata.get(ECHO_INITIAL_KEY) {
            let _ = echo.initial.insert(ECHO_INITIAL_KEY, value);
        }
        if let Some(Ok(value)) = metadata.get_bin(ECHO_TRAILING_KEY) {
            let _ = echo.trailing.insert_bin(ECHO_TRAILING_KEY, value);
        }
        echo
    }

    fn response<T>(&self, message: T) -> Response<T> {
        let mut response = Response::new(message);
        response.metadata_mut().merge(&self.initial);
        response.trailers_mut().merge(&self.trailing);
        response
    }

    /// An error status carrying the echoed trailing metadata.
    fn status(&self, mut status: Status) -> Status {
        status.metadata_mut().merge(&self.trailing);
        status
    }
}

/// Checks a request message's compression against its `expect_compressed`, as the
/// `CompressedRequest` server feature requires (`INVALID_ARGUMENT` on a mismatch).
fn check_compression(expect: Option<&BoolValue>, received: Option<bool>) -> Result<(), Status> {
    match expect.map(|b| b.value) {
        Some(true) if received != Some(true) => Err(Status::invalid_argument(
            "expected a compressed request message, got an uncompressed one",
        )),
        Some(false) if received == Some(true) => Err(Status::invalid_argument(
            "expected an uncompressed request message, got a compressed one",
        )),
        _ => Ok(()),
    }
}

/// `grpc.testing.TestService` with typed handlers. Streamed responses follow the call's
/// compression; [`InteropService`] adds per-message control.
#[derive(Debug, Default, Clone)]
pub struct TestServiceImpl;

impl TestServiceImpl {
    async fn unary(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let echo = Echo::from_request(request.metadata());
        let compressed = request.compression();
        let request = request.into_inner();
        check_compression(request.expect_compressed.as_ref(), compressed)
            .map_err(|s| echo.status(s))?;
        if let Some(status) = requested_status(request.response_status.as_ref()) {
            return Err(echo.status(status));
        }
        let payload = response_payload(request.response_type, request.response_size)
            .map_err(|s| echo.status(s))?;
        let mut response = echo.response(SimpleResponse {
            payload: Some(payload),
            ..Default::default()
        });
        response.set_compression(request.response_compressed.map(|b| b.value));
        Ok(response)
    }
}

impl TestService for TestServiceImpl {
    async fn empty_call(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        Ok(Echo::from_request(request.metadata()).response(Empty {}))
    }

    async fn unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        self.unary(request).await
    }

    async fn cacheable_unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        self.unary(request).await
    }

    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
    ) -> Result<Response<BoxStream<StreamingOutputCallResponse>>, Status> {
        let echo = Echo::from_request(request.metadata());
        let request = request.into_inner();
        if let Some(status) = requested_status(request.response_status.as_ref()) {
            return Err(echo.status(status));
        }
        Ok(echo.response(messages_only(output_stream(request))))
    }

    async fn streaming_input_call(
        &self,
        request: Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<Response<StreamingInputCallResponse>, Status> {
        let mut guard = EndGuard::new("StreamingInputCall");
        let echo = Echo::from_request(request.metadata());
        let mut requests = request.into_inner();
        let mut total = 0usize;
        let result = async {
            while let Some(message) = requests.message().await? {
                check_compression(
                    message.expect_compressed.as_ref(),
                    requests.last_message_compressed(),
                )?;
                total = total.saturating_add(body_len(message.payload.as_ref()));
            }
            Ok::<_, Status>(())
        }
        .await;
        // A request stream reset by the client is the call being cancelled: leave the guard
        // to report it.
        guard.finished = !matches!(&result, Err(s) if s.code() == Code::Cancelled);
        result.map_err(|s| echo.status(s))?;
        let aggregated_payload_size = i32::try_from(total)
            .map_err(|_| echo.status(Status::invalid_argument("aggregated payload too large")))?;
        Ok(echo.response(StreamingInputCallResponse {
            aggregated_payload_size,
        }))
    }

    async fn full_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<BoxStream<StreamingOutputCallResponse>>, Status> {
        let echo = Echo::from_request(request.metadata());
        let stream = duplex_stream(request.into_inner(), "FullDuplexCall", false);
        Ok(echo.response(messages_only(stream)))
    }

    async fn half_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<BoxStream<StreamingOutputCallResponse>>, Status> {
        let echo = Echo::from_request(request.metadata());
        let stream = duplex_stream(request.into_inner(), "HalfDuplexCall", true);
        Ok(echo.response(messages_only(stream)))
    }

    async fn unimplemented_call(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Empty>, Status> {
        Err(Status::unimplemented(
            "grpc.testing.TestService/UnimplementedCall is not implemented by this server",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_expectations() {
        let yes = BoolValue { value: true };
        let no = BoolValue { value: false };
        assert!(check_compression(None, Some(true)).is_ok());
        assert!(check_compression(Some(&yes), Some(true)).is_ok());
        assert_eq!(
            check_compression(Some(&yes), Some(false))
                .unwrap_err()
                .code(),
            Code::InvalidArgument
        );
        assert_eq!(
            check_compression(Some(&yes), None).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert!(check_compression(Some(&no), Some(false)).is_ok());
        assert_eq!(
            check_compression(Some(&no), Some(true)).unwrap_err().code(),
            Code::InvalidArgument
        );
    }

    #[test]
    fn echo_copies_only_the_echo_keys() {
        let mut md = Metadata::new();
        md.insert(ECHO_INITIAL_KEY, "v").unwrap();
        md.insert_bin(ECHO_TRAILING_KEY, [0xab, 0xab]).unwrap();
        md.insert("x-other", "o").unwrap();
        let echo = Echo::from_request(&md);
        let response = echo.response(());
        assert_eq!(response.metadata().get(ECHO_INITIAL_KEY), Some("v"));
        assert_eq!(response.metadata().len(), 1);
        assert_eq!(
            response
                .trailers()
                .get_bin(ECHO_TRAILING_KEY)
                .unwrap()
                .unwrap(),
            vec![0xab, 0xab]
        );
        let status = echo.status(Status::unknown("x"));
        assert!(status.metadata().contains_key(ECHO_TRAILING_KEY));
    }
}
