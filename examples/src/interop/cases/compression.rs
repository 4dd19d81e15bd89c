//! Compressed requests and responses, per call and per message.

use dubbo_runtime::message::StreamItem;
use dubbo_runtime::{Body, Code, Payload, Request};

use super::{CaseResult, check_large_response, failed, input_request, invoke, large_request};
use crate::interop::client::InteropClient;
use crate::interop::messages::{check_zeros, expect_status};
use crate::interop::proto::{
    BoolValue, ResponseParameters, SimpleRequest, SimpleResponse, StreamingInputCallResponse,
    StreamingOutputCallRequest,
};

fn compressible_request(expect_compressed: bool) -> SimpleRequest {
    SimpleRequest {
        expect_compressed: Some(BoolValue {
            value: expect_compressed,
        }),
        ..large_request()
    }
}

pub(super) async fn client_compressed_unary(client: &InteropClient) -> CaseResult {
    // Feature probe: an uncompressed request that claims to be compressed must be refused.
    let mut probe = Request::new(compressible_request(true));
    probe.set_compression(Some(false));
    expect_status(
        client.test.unary_call(probe).await,
        Code::InvalidArgument,
        None,
    )
    .map_err(|e| format!("feature probe: {e}"))?;
    for compressed in [true, false] {
        let mut request = Request::new(compressible_request(compressed));
        request.set_compression(Some(compressed));
        let response = client
            .test
            .unary_call(request)
            .await
            .map_err(|s| format!("compressed={compressed}: {}", failed("UnaryCall")(s)))?;
        check_large_response(response.get_ref())?;
    }
    Ok(())
}

pub(super) async fn server_compressed_unary(client: &InteropClient) -> CaseResult {
    for compressed in [true, false] {
        let request = SimpleRequest {
            response_compressed: Some(BoolValue { value: compressed }),
            ..large_request()
        };
        let payload = invoke(
            client.test.client(),
            "UnaryCall",
            Body::Unary(Payload::typed(request)),
        )
        .await
        .map_err(|s| format!("compressed={compressed}: {}", failed("UnaryCall")(s)))?;
        if payload.compression() != Some(compressed) {
            return Err(format!(
                "asked for response_compressed={compressed}, the response's compressed flag is {:?}",
                payload.compression()
            ));
        }
        let response = payload
            .decode::<SimpleResponse>()
            .map_err(failed("decoding the response"))?;
        check_large_response(&response)?;
    }
    Ok(())
}

pub(super) async fn client_compressed_streaming(client: &InteropClient) -> CaseResult {
    // Feature probe on a call that compresses nothing.
    let probe = client
        .test
        .streaming_input_call(futures_util::stream::iter([input_request(
            27_182,
            Some(true),
        )]))
        .await;
    expect_status(probe, Code::InvalidArgument, None).map_err(|e| format!("feature probe: {e}"))?;
    // One call (announcing gzip): the first message compressed, the second not.
    let messages = [
        Payload::typed(input_request(27_182, Some(true))).with_compression(Some(true)),
        Payload::typed(input_request(45_904, Some(false))).with_compression(Some(false)),
    ];
    let body = Body::Stream(Box::pin(futures_util::stream::iter(
        messages.map(|p| Ok(StreamItem::Message(p))),
    )));
    let response = invoke(client.gzip.client(), "StreamingInputCall", body)
        .await
        .map_err(failed("StreamingInputCall"))?
        .decode::<StreamingInputCallResponse>()
        .map_err(failed("decoding the response"))?;
    if response.aggregated_payload_size != 73_086 {
        return Err(format!(
            "aggregated_payload_size is {}, expected 73086",
            response.aggregated_payload_size
        ));
    }
    Ok(())
}

pub(super) async fn server_compressed_streaming(client: &InteropClient) -> CaseResult {
    let expected = [(31_415usize, true), (92_653usize, false)];
    let request = StreamingOutputCallRequest {
        response_parameters: expected
            .iter()
            .map(|&(size, compressed)| ResponseParameters {
                size: size as i32,
                compressed: Some(BoolValue { value: compressed }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut responses = client
        .test
        .streaming_output_call(request)
        .await
        .map_err(failed("StreamingOutputCall"))?
        .into_inner();
    let mut count = 0usize;
    while let Some(response) = responses
        .message()
        .await
        .map_err(failed("StreamingOutputCall"))?
    {
        let &(size, compressed) = expected
            .get(count)
            .ok_or("more than 2 responses".to_owned())?;
        check_zeros(response.payload.as_ref(), size)
            .map_err(|e| format!("response {count}: {e}"))?;
        if responses.last_message_compressed() != Some(compressed) {
            return Err(format!(
                "response {count}: asked for compressed={compressed}, its compressed flag is {:?}",
                responses.last_message_compressed()
            ));
        }
        count += 1;
    }
    if count != expected.len() {
        return Err(format!("{count} responses, expected 2"));
    }
    Ok(())
}
