//! Response streams of the streaming-output methods, each message paired with whether it
//! asked to be compressed, and the guard that logs handlers dropped by a cancelled call.

use std::collections::VecDeque;
use std::time::Duration;

use dubbo_runtime::{BoxStream, Code, Status, Streaming};
use futures_util::StreamExt as _;

use crate::interop::messages::{requested_status, response_payload};
use crate::interop::proto::{
    ResponseParameters, StreamingOutputCallRequest, StreamingOutputCallResponse,
};

/// A response message and whether to compress it (`None`: as the call decides).
pub(super) type Outgoing = (StreamingOutputCallResponse, Option<bool>);

/// Logs when a streaming handler is dropped before it finished, which is how a cancelled
/// call (RST_STREAM from the client, or the deadline) looks from the handler's side.
#[derive(Debug)]
pub(super) struct EndGuard {
    method: &'static str,
    pub(super) finished: bool,
}

impl EndGuard {
    pub(super) fn new(method: &'static str) -> EndGuard {
        EndGuard {
            method,
            finished: false,
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(
                "{} ended before completion (cancelled by the client or past its deadline)",
                self.method
            );
        }
    }
}

/// Sleeps for `interval_us`, then builds the response `params` ask for.
pub(super) async fn respond(
    params: ResponseParameters,
    response_type: i32,
) -> Result<Outgoing, Status> {
    if let Ok(us) = u64::try_from(params.interval_us)
        && us > 0
    {
        tokio::time::sleep(Duration::from_micros(us)).await;
    }
    let payload = response_payload(response_type, params.size)?;
    let compression = params.compressed.map(|b| b.value);
    Ok((
        StreamingOutputCallResponse {
            payload: Some(payload),
        },
        compression,
    ))
}

/// The responses of `StreamingOutputCall`: one per `ResponseParameters`, in order.
pub(super) fn output_stream(request: StreamingOutputCallRequest) -> BoxStream<Outgoing> {
    let response_type = request.response_type;
    Box::pin(
        futures_util::stream::iter(request.response_parameters)
            .then(move |params| respond(params, response_type)),
    )
}

/// State of a `FullDuplexCall` / `HalfDuplexCall` response stream.
struct Duplex {
    requests: Streaming<StreamingOutputCallRequest>,
    pending: VecDeque<(ResponseParameters, i32)>,
    /// `HalfDuplexCall`: read every request before answering.
    buffer_all: bool,
    input_done: bool,
    done: bool,
    guard: EndGuard,
}

impl Duplex {
    fn finish(&mut self) {
        self.done = true;
        self.guard.finished = true;
    }

    async fn next(&mut self) -> Option<Result<Outgoing, Status>> {
        loop {
            if self.done {
                return None;
            }
            if !self.input_done && (self.buffer_all || self.pending.is_empty()) {
                match self.requests.message().await {
                    Ok(Some(request)) => {
                        if let Some(status) = requested_status(request.response_status.as_ref()) {
                            // Echo Status: end the call, processing nothing further.
                            self.finish();
                            return Some(Err(status));
                        }
                        let response_type = request.response_type;
                        self.pending.extend(
                            request
                                .response_parameters
                                .into_iter()
                                .map(|p| (p, response_type)),
                        );
                    }
                    Ok(None) => self.input_done = true,
                    Err(status) => {
                        self.done = true;
                        // A reset request stream is the call being cancelled: leave the guard
                        // to report it.
                        self.guard.finished = status.code() != Code::Cancelled;
                        return Some(Err(status));
                    }
                }
                continue;
            }
            match self.pending.pop_front() {
                Some((params, response_type)) => {
                    let item = respond(params, response_type).await;
                    if item.is_err() {
                        self.finish();
                    }
                    return Some(item);
                }
                None => self.finish(),
            }
        }
    }
}

/// The responses of `FullDuplexCall` (answering each request as it arrives) or, with
/// `buffer_all`, of `HalfDuplexCall` (answering after the client half-closes).
pub(super) fn duplex_stream(
    requests: Streaming<StreamingOutputCallRequest>,
    method: &'static str,
    buffer_all: bool,
) -> BoxStream<Outgoing> {
    let state = Duplex {
        requests,
        pending: VecDeque::new(),
        buffer_all,
        input_done: false,
        done: false,
        guard: EndGuard::new(method),
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        },
    ))
}

pub(super) fn messages_only(stream: BoxStream<Outgoing>) -> BoxStream<StreamingOutputCallResponse> {
    Box::pin(stream.map(|item| item.map(|(message, _)| message)))
}
