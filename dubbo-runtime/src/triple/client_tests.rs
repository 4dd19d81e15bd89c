//! Unit tests of the Triple client's call logic against bare `h2` servers.

use super::*;

/// A server on an in-memory connection that answers its first request at once with a
/// trailers-only `UNIMPLEMENTED` and drops the request unread (so h2 resets the stream with
/// `NO_ERROR`, as RFC 9113 asks of early responses).
async fn early_answering_server() -> SendRequest<Bytes> {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut conn = h2::server::handshake(server_io).await.unwrap();
        if let Some(Ok((request, mut respond))) = conn.accept().await {
            let response = http::Response::builder()
                .status(200)
                .header("content-type", "application/grpc")
                .header("grpc-status", "12")
                .body(())
                .unwrap();
            respond.send_response(response, true).unwrap();
            drop(request);
        }
        while conn.accept().await.is_some() {}
    });
    let (sender, conn) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(conn);
    sender
}

fn request() -> Request<()> {
    Request::post("http://test/pkg.Svc/Method")
        .body(())
        .unwrap()
}

/// The write of the request message fails once the server has answered and reset the
/// stream; the call must end with the server's status. (It failed with INTERNAL "inactive
/// stream" when the client was descheduled between sending the headers and the message.)
#[tokio::test]
async fn early_answer_wins_over_the_failed_message_write() {
    let mut sender = early_answering_server().await;
    let (response, mut send) = sender.send_request(request(), false).unwrap();
    let reason = poll_fn(|cx| send.poll_reset(cx)).await.unwrap();
    assert_eq!(reason, h2::Reason::NO_ERROR);
    assert!(
        send.send_data(Bytes::new(), false).is_err(),
        "the stream is closed"
    );

    send_unary_message(&mut send, Bytes::from_static(&[0, 0, 0, 0, 0])).unwrap();
    let response = response.await.unwrap();
    let status = match accept_response(response, 1024, None, false) {
        Ok(_) => panic!("a trailers-only answer is the call's status"),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unimplemented, "{status}");
}

/// A write that fails for a local reason, on a stream the server did not reset, fails the
/// call (and resets the stream, so the server stops waiting for the message).
#[tokio::test]
async fn failed_message_write_on_a_live_stream_fails_the_call() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut conn = h2::server::handshake(server_io).await.unwrap();
        while conn.accept().await.is_some() {}
    });
    let (mut sender, conn) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(conn);
    let (_response, mut send) = sender.send_request(request(), false).unwrap();
    send.send_data(Bytes::new(), true).unwrap();
    // The stream is half-closed by us: a second write is a local error.
    let status = send_unary_message(&mut send, Bytes::from_static(b"x")).unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status}");
}
