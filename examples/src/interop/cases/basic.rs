//! The plain call shapes: unary, client/server streaming, ping-pong, empty streams.

use super::{
    CaseResult, channel_stream, check_large_response, failed, input_request, large_request,
    output_request, send,
};
use crate::interop::client::InteropClient;
use crate::interop::messages::check_zeros;
use crate::interop::proto::Empty;

pub(super) async fn empty_unary(client: &InteropClient) -> CaseResult {
    let response = client
        .test
        .empty_call(Empty {})
        .await
        .map_err(failed("EmptyCall"))?;
    let _empty: Empty = response.into_inner();
    Ok(())
}

pub(super) async fn large_unary(client: &InteropClient) -> CaseResult {
    let response = client
        .test
        .unary_call(large_request())
        .await
        .map_err(failed("UnaryCall"))?;
    check_large_response(response.get_ref())
}

pub(super) async fn client_streaming(client: &InteropClient) -> CaseResult {
    let requests = [27_182, 8, 1_828, 45_904].map(|size| input_request(size, None));
    let response = client
        .test
        .streaming_input_call(futures_util::stream::iter(requests))
        .await
        .map_err(failed("StreamingInputCall"))?;
    let got = response.get_ref().aggregated_payload_size;
    if got != 74_922 {
        return Err(format!("aggregated_payload_size is {got}, expected 74922"));
    }
    Ok(())
}

pub(super) async fn server_streaming(client: &InteropClient) -> CaseResult {
    let sizes = [31_415, 9, 2_653, 58_979];
    let request = output_request(&sizes.map(|s| (0, s)));
    let mut responses = client
        .test
        .streaming_output_call(request)
        .await
        .map_err(failed("StreamingOutputCall"))?
        .into_inner();
    let mut count = 0;
    while let Some(response) = responses
        .message()
        .await
        .map_err(failed("StreamingOutputCall"))?
    {
        let size = *sizes
            .get(count)
            .ok_or_else(|| format!("more than {} responses", sizes.len()))?;
        check_zeros(response.payload.as_ref(), size)
            .map_err(|e| format!("response {count}: {e}"))?;
        count += 1;
    }
    if count != sizes.len() {
        return Err(format!("{count} responses, expected {}", sizes.len()));
    }
    Ok(())
}

pub(super) async fn ping_pong(client: &InteropClient) -> CaseResult {
    let (tx, requests) = channel_stream();
    let mut responses = client
        .test
        .full_duplex_call(requests)
        .await
        .map_err(failed("FullDuplexCall"))?
        .into_inner();
    for (i, step) in [(27_182, 31_415), (8, 9), (1_828, 2_653), (45_904, 58_979)]
        .into_iter()
        .enumerate()
    {
        send(&tx, output_request(&[step]))?;
        let response = responses
            .message()
            .await
            .map_err(failed("FullDuplexCall"))?
            .ok_or_else(|| format!("the stream ended after {i} responses"))?;
        check_zeros(response.payload.as_ref(), step.1).map_err(|e| format!("response {i}: {e}"))?;
    }
    drop(tx);
    match responses
        .message()
        .await
        .map_err(failed("FullDuplexCall"))?
    {
        Some(_) => Err("more than 4 responses".to_owned()),
        None => Ok(()),
    }
}

pub(super) async fn empty_stream(client: &InteropClient) -> CaseResult {
    let mut responses = client
        .test
        .full_duplex_call(futures_util::stream::empty())
        .await
        .map_err(failed("FullDuplexCall"))?
        .into_inner();
    match responses
        .message()
        .await
        .map_err(failed("FullDuplexCall"))?
    {
        Some(_) => Err("received a response on an empty stream".to_owned()),
        None => Ok(()),
    }
}
