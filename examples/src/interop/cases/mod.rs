//! The client side of each interop test case (gRPC's `doc/interop-test-descriptions.md`).
//! Every case returns `Err` with a reason on any deviation from what the case asserts.
//!
//! Cancellation is dropping the call (the runtime then resets the HTTP/2 stream with
//! `CANCEL`), so the two cancel cases pass once the call was dropped while still running and
//! the connection stays usable afterwards.

mod basic;
mod compression;
mod errors;
mod metadata;

use std::sync::Arc;

use dubbo_runtime::{Body, Client, Invocation, Metadata, Payload, Status};
use futures_util::Stream;

use super::client::InteropClient;
use super::messages::{check_zeros, zeros};
use super::proto::{
    BoolValue, ResponseParameters, SimpleRequest, SimpleResponse, StreamingInputCallRequest,
    StreamingOutputCallRequest, TEST_SERVICE_DESCRIPTOR,
};

/// What a case returns.
pub type CaseResult = Result<(), String>;

pub(super) const LARGE_REQUEST: usize = 271_828;
pub(super) const LARGE_RESPONSE: usize = 314_159;

/// Runs the case called `name`.
pub async fn run(client: &InteropClient, name: &str) -> CaseResult {
    match name {
        "empty_unary" => basic::empty_unary(client).await,
        "large_unary" => basic::large_unary(client).await,
        "client_streaming" => basic::client_streaming(client).await,
        "server_streaming" => basic::server_streaming(client).await,
        "ping_pong" => basic::ping_pong(client).await,
        "empty_stream" => basic::empty_stream(client).await,
        "timeout_on_sleeping_server" => errors::timeout_on_sleeping_server(client).await,
        "cancel_after_begin" => errors::cancel_after_begin(client).await,
        "cancel_after_first_response" => errors::cancel_after_first_response(client).await,
        "status_code_and_message" => errors::status_code_and_message(client).await,
        "special_status_message" => errors::special_status_message(client).await,
        "unimplemented_method" => errors::unimplemented_method(client).await,
        "unimplemented_service" => errors::unimplemented_service(client).await,
        "custom_metadata" => metadata::custom_metadata(client).await,
        "client_compressed_unary" => compression::client_compressed_unary(client).await,
        "server_compressed_unary" => compression::server_compressed_unary(client).await,
        "client_compressed_streaming" => compression::client_compressed_streaming(client).await,
        "server_compressed_streaming" => compression::server_compressed_streaming(client).await,
        other => Err(format!("unknown test case {other:?}")),
    }
}

pub(super) fn failed(what: &'static str) -> impl FnOnce(Status) -> String {
    move |status| {
        format!(
            "{what} failed: {} {:?}",
            status.code().name(),
            status.message()
        )
    }
}

/// A request stream fed through a channel, so a case can send after reading replies; the
/// stream half-closes when the sender is dropped.
pub(super) fn channel_stream<T: Send + 'static>() -> (
    tokio::sync::mpsc::UnboundedSender<T>,
    impl Stream<Item = T> + Send + 'static,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    (
        tx,
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)),
    )
}

pub(super) fn send<T>(tx: &tokio::sync::mpsc::UnboundedSender<T>, message: T) -> CaseResult {
    tx.send(message)
        .map_err(|_| "the request stream was closed by the runtime".to_owned())
}

pub(super) fn large_request() -> SimpleRequest {
    SimpleRequest {
        response_size: LARGE_RESPONSE as i32,
        payload: Some(zeros(LARGE_REQUEST)),
        ..Default::default()
    }
}

pub(super) fn output_request(sizes: &[(usize, usize)]) -> StreamingOutputCallRequest {
    // (request payload size, response size); only the first request payload counts here.
    StreamingOutputCallRequest {
        response_parameters: sizes
            .iter()
            .map(|&(_, size)| ResponseParameters {
                size: size as i32,
                ..Default::default()
            })
            .collect(),
        payload: sizes.first().map(|&(len, _)| zeros(len)),
        ..Default::default()
    }
}

pub(super) fn input_request(
    size: usize,
    expect_compressed: Option<bool>,
) -> StreamingInputCallRequest {
    StreamingInputCallRequest {
        payload: Some(zeros(size)),
        expect_compressed: expect_compressed.map(|value| BoolValue { value }),
    }
}

pub(super) fn check_large_response(response: &SimpleResponse) -> CaseResult {
    check_zeros(response.payload.as_ref(), LARGE_RESPONSE)
}

/// Makes a call of `method` at the payload level (to set or read per-message compression).
pub(super) async fn invoke(client: &Client, method: &str, body: Body) -> Result<Payload, Status> {
    let method = TEST_SERVICE_DESCRIPTOR
        .method(method)
        .ok_or_else(|| Status::internal(format!("no method {method}")))?;
    let invocation = Invocation::new(
        Arc::new(client.target().clone()),
        method,
        Metadata::new(),
        body,
    );
    let reply = client.invoker().invoke(invocation).await?;
    reply.body.into_unary().await
}
