//! Echoed initial and trailing metadata.

use dubbo_runtime::{Metadata, Request};

use super::{
    CaseResult, LARGE_REQUEST, LARGE_RESPONSE, check_large_response, failed, large_request,
    output_request,
};
use crate::interop::client::InteropClient;
use crate::interop::messages::check_zeros;
use crate::interop::{ECHO_INITIAL_KEY, ECHO_TRAILING_KEY};

const ECHO_INITIAL_VALUE: &str = "test_initial_metadata_value";
const ECHO_TRAILING_VALUE: [u8; 3] = [0xab, 0xab, 0xab];

fn echo_metadata() -> Result<Metadata, String> {
    let mut metadata = Metadata::new();
    metadata
        .insert(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE)
        .and_then(|()| metadata.insert_bin(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))
        .map_err(|e| e.to_string())?;
    Ok(metadata)
}

fn check_echo(what: &str, initial: Option<&Metadata>, trailing: Option<&Metadata>) -> CaseResult {
    let got = initial.and_then(|m| m.get(ECHO_INITIAL_KEY));
    if got != Some(ECHO_INITIAL_VALUE) {
        return Err(format!(
            "{what}: initial metadata {ECHO_INITIAL_KEY} is {got:?}, expected {ECHO_INITIAL_VALUE:?}"
        ));
    }
    let got = trailing.and_then(|m| m.get_bin(ECHO_TRAILING_KEY));
    match got {
        Some(Ok(value)) if value == ECHO_TRAILING_VALUE => Ok(()),
        other => Err(format!(
            "{what}: trailing metadata {ECHO_TRAILING_KEY} is {other:?}, expected {ECHO_TRAILING_VALUE:?}"
        )),
    }
}

pub(super) async fn custom_metadata(client: &InteropClient) -> CaseResult {
    let metadata = echo_metadata()?;
    let mut request = Request::new(large_request());
    *request.metadata_mut() = metadata.clone();
    let response = client
        .test
        .unary_call(request)
        .await
        .map_err(failed("UnaryCall"))?;
    check_large_response(response.get_ref())?;
    check_echo(
        "UnaryCall",
        Some(response.metadata()),
        Some(response.trailers()),
    )?;

    let duplex_request = output_request(&[(LARGE_REQUEST, LARGE_RESPONSE)]);
    let mut request = Request::new(futures_util::stream::iter([duplex_request]));
    *request.metadata_mut() = metadata;
    let mut responses = client
        .test
        .full_duplex_call(request)
        .await
        .map_err(failed("FullDuplexCall"))?
        .into_inner();
    let mut count = 0usize;
    while let Some(response) = responses
        .message()
        .await
        .map_err(failed("FullDuplexCall"))?
    {
        check_zeros(response.payload.as_ref(), LARGE_RESPONSE)?;
        count += 1;
    }
    if count != 1 {
        return Err(format!("FullDuplexCall: {count} responses, expected 1"));
    }
    check_echo("FullDuplexCall", responses.headers(), responses.trailers())
}
