//! Helpers shared by the integration tests: servers on port 0 and a raw HTTP/2 client for
//! checking wire details our own client would hide.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use dubbo_runtime::triple::TripleConfig;
use dubbo_runtime::{Server, ServerHandle, ServiceOptions};
use examples::greeter::{GreeterClient, GreeterServer, HelloRequest};
use examples::greeter_service::GreeterService;
use http::HeaderMap;

/// Starts the contract Greeter on 127.0.0.1:0.
pub async fn start_greeter(config: TripleConfig, options: ServiceOptions) -> ServerHandle {
    Server::builder()
        .triple_config(config)
        .add_service_with(GreeterServer::new(GreeterService), options)
        .start("tri://127.0.0.1:0")
        .await
        .expect("server starts")
}

/// A client for the server at `addr`.
pub async fn client(addr: SocketAddr) -> GreeterClient {
    GreeterClient::connect(format!("tri://{addr}"))
        .await
        .expect("client connects")
}

/// A request with just a name.
pub fn named(name: &str) -> HelloRequest {
    HelloRequest {
        name: name.to_owned(),
        ..Default::default()
    }
}

/// Frames a raw protobuf payload as one gRPC message.
pub fn grpc_frame(flags: u8, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(flags);
    b.put_u32(payload.len() as u32);
    b.put_slice(payload);
    b.freeze()
}

/// The protobuf encoding of `HelloRequest { name }`.
pub fn hello_bytes(name: &str) -> Vec<u8> {
    let mut out = vec![0x0a, name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out
}

/// What a raw HTTP/2 exchange produced.
#[derive(Debug)]
pub struct RawResponse {
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    /// `true` when the headers frame ended the stream (trailers-only).
    pub headers_only: bool,
    pub data: Vec<u8>,
    pub trailers: Option<HeaderMap>,
}

impl RawResponse {
    /// `grpc-status` from the trailers, or from the headers of a trailers-only answer.
    pub fn grpc_status(&self) -> Option<String> {
        let source = if self.headers_only {
            Some(&self.headers)
        } else {
            self.trailers.as_ref()
        };
        source
            .and_then(|h| h.get("grpc-status"))
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// Sends one request with arbitrary headers and body over a fresh HTTP/2 connection.
pub async fn raw_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> RawResponse {
    raw_call_in_parts(addr, method, path, headers, vec![body], Duration::ZERO).await
}

/// Like [`raw_call`], but sends the body as separate DATA frames with `pause` between them.
pub async fn raw_call_in_parts(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    parts: Vec<Bytes>,
    pause: Duration,
) -> RawResponse {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let (response, mut send) = client
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pause).await;
        }
        send.send_data(part, i == last).unwrap();
    }
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("response in time")
        .unwrap();
    let (parts, mut recv) = response.into_parts();
    let headers_only = recv.is_end_stream();
    let mut data = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.unwrap();
        let _ = recv.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = if headers_only {
        None
    } else {
        recv.trailers().await.unwrap()
    };
    RawResponse {
        status: parts.status,
        headers: parts.headers,
        headers_only,
        data,
        trailers,
    }
}

/// Standard gRPC request headers.
pub const GRPC: &[(&str, &str)] = &[("content-type", "application/grpc"), ("te", "trailers")];
