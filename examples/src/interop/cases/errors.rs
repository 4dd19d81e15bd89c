//! Deadlines, cancellation, statuses and unimplemented methods and services.

use std::time::Duration;

use dubbo_runtime::{Code, Request};

use super::{CaseResult, channel_stream, failed, output_request, send};
use crate::interop::client::InteropClient;
use crate::interop::messages::{SPECIAL_STATUS_MESSAGE, check_zeros, expect_status, zeros};
use crate::interop::proto::{
    EchoStatus, Empty, SimpleRequest, StreamingInputCallRequest, StreamingOutputCallRequest,
};

pub(super) async fn timeout_on_sleeping_server(client: &InteropClient) -> CaseResult {
    let (tx, requests) = channel_stream();
    send(
        &tx,
        StreamingOutputCallRequest {
            payload: Some(zeros(27_182)),
            ..Default::default()
        },
    )?;
    let mut request = Request::new(requests);
    request.set_timeout(Duration::from_millis(1));
    let result = async {
        let mut responses = client.test.full_duplex_call(request).await?.into_inner();
        let mut count = 0usize;
        while responses.message().await?.is_some() {
            count += 1;
        }
        Ok(count)
    }
    .await;
    // The request stream stays open (the sender lives) until the call is over.
    drop(tx);
    expect_status(result, Code::DeadlineExceeded, None)
}

pub(super) async fn cancel_after_begin(client: &InteropClient) -> CaseResult {
    let (tx, requests) = channel_stream::<StreamingInputCallRequest>();
    let call = client.test.streaming_input_call(requests);
    // The call starts (headers go out) and waits for requests; the time-out drops it, which
    // cancels it.
    if let Ok(result) = tokio::time::timeout(Duration::from_millis(200), call).await {
        return Err(format!(
            "StreamingInputCall ended before it was cancelled: {result:?}"
        ));
    }
    drop(tx);
    connection_still_usable(client).await
}

pub(super) async fn cancel_after_first_response(client: &InteropClient) -> CaseResult {
    let (tx, requests) = channel_stream();
    send(&tx, output_request(&[(27_182, 31_415)]))?;
    let mut responses = client
        .test
        .full_duplex_call(requests)
        .await
        .map_err(failed("FullDuplexCall"))?
        .into_inner();
    let first = responses
        .message()
        .await
        .map_err(failed("FullDuplexCall"))?
        .ok_or("the stream ended without a response")?;
    check_zeros(first.payload.as_ref(), 31_415)?;
    // Dropping the call while it runs cancels it.
    drop(responses);
    drop(tx);
    connection_still_usable(client).await
}

async fn connection_still_usable(client: &InteropClient) -> CaseResult {
    client
        .test
        .empty_call(Empty {})
        .await
        .map(drop)
        .map_err(failed("EmptyCall after the cancelled call"))
}

async fn echo_status_both_ways(client: &InteropClient, message: &str) -> CaseResult {
    let status = EchoStatus {
        code: Code::Unknown.as_i32(),
        message: message.to_owned(),
    };
    let unary = client
        .test
        .unary_call(SimpleRequest {
            response_status: Some(status.clone()),
            ..Default::default()
        })
        .await;
    expect_status(unary, Code::Unknown, Some(message)).map_err(|e| format!("UnaryCall: {e}"))?;
    let request = StreamingOutputCallRequest {
        response_status: Some(status),
        ..Default::default()
    };
    let duplex = async {
        let mut responses = client
            .test
            .full_duplex_call(futures_util::stream::iter([request]))
            .await?
            .into_inner();
        let mut count = 0usize;
        while responses.message().await?.is_some() {
            count += 1;
        }
        Ok(count)
    }
    .await;
    expect_status(duplex, Code::Unknown, Some(message)).map_err(|e| format!("FullDuplexCall: {e}"))
}

pub(super) async fn status_code_and_message(client: &InteropClient) -> CaseResult {
    echo_status_both_ways(client, "test status message").await
}

pub(super) async fn special_status_message(client: &InteropClient) -> CaseResult {
    let status = EchoStatus {
        code: Code::Unknown.as_i32(),
        message: SPECIAL_STATUS_MESSAGE.to_owned(),
    };
    let result = client
        .test
        .unary_call(SimpleRequest {
            response_status: Some(status),
            ..Default::default()
        })
        .await;
    expect_status(result, Code::Unknown, Some(SPECIAL_STATUS_MESSAGE))
}

pub(super) async fn unimplemented_method(client: &InteropClient) -> CaseResult {
    expect_status(
        client.test.unimplemented_call(Empty {}).await,
        Code::Unimplemented,
        None,
    )
}

pub(super) async fn unimplemented_service(client: &InteropClient) -> CaseResult {
    expect_status(
        client.unimplemented.unimplemented_call(Empty {}).await,
        Code::Unimplemented,
        None,
    )
}
