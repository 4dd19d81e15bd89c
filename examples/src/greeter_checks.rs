//! Client-side checks of the Greeter contract (see [`crate::greeter_service`]), used by the
//! `greeter-client` binary, the demo, and the interop tests against other implementations.

use std::future::Future;
use std::time::{Duration, Instant};

use dubbo_runtime::{Code, Request, Status};

use crate::greeter::{GreeterClient, HelloReply, HelloRequest};

/// Where and how to connect.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `tri://host:port` or `host:port`.
    pub url: String,
    /// Service version to ask for.
    pub version: Option<String>,
    /// Service group to ask for.
    pub group: Option<String>,
}

/// One check's outcome.
#[derive(Debug)]
pub struct CheckResult {
    /// Check name.
    pub name: &'static str,
    /// `Err` with the reason on failure.
    pub outcome: Result<(), String>,
}

fn request(name: &str) -> HelloRequest {
    HelloRequest {
        name: name.to_owned(),
        ..Default::default()
    }
}

fn expect(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn expect_status(
    result: Result<impl std::fmt::Debug, Status>,
    code: Code,
) -> Result<Status, String> {
    match result {
        Ok(v) => Err(format!("expected {code}, got success {v:?}")),
        Err(status) if status.code() == code => Ok(status),
        Err(status) => Err(format!("expected {code}, got {status}")),
    }
}

async fn connect(target: &Target, gzip: bool) -> Result<GreeterClient, String> {
    let mut builder = GreeterClient::builder(target.url.as_str()).application("greeter-client");
    if let Some(v) = &target.version {
        builder = builder.version(v.clone());
    }
    if let Some(g) = &target.group {
        builder = builder.group(g.clone());
    }
    if gzip {
        builder = builder.send_gzip();
    }
    builder
        .connect()
        .await
        .map_err(|e| format!("connect failed: {e}"))
}

async fn unary(client: &GreeterClient) -> Result<(), String> {
    let reply = client
        .say_hello(HelloRequest {
            name: "world".into(),
            count: 0,
            payload: vec![1, 2, 3],
        })
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    expect(reply.message == "Hello world", || {
        format!("message {:?}", reply.message)
    })?;
    expect(reply.payload == [1, 2, 3], || {
        format!("payload {:?}", reply.payload)
    })
}

async fn metadata(client: &GreeterClient) -> Result<(), String> {
    let mut req = Request::new(request("meta"));
    req.metadata_mut()
        .insert("x-echo-color", "blue")
        .map_err(|e| e.to_string())?;
    req.metadata_mut()
        .insert_bin("x-echo-raw-bin", [0u8, 1, 254, 255])
        .map_err(|e| e.to_string())?;
    req.metadata_mut()
        .insert("x-not-echoed", "1")
        .map_err(|e| e.to_string())?;
    let response = client.say_hello(req).await.map_err(|s| s.to_string())?;
    let headers = response.metadata();
    expect(headers.get("x-echo-color") == Some("blue"), || {
        format!("x-echo-color header missing: {headers:?}")
    })?;
    let raw = headers.get_bin("x-echo-raw-bin").and_then(Result::ok);
    expect(raw.as_deref() == Some(&[0u8, 1, 254, 255][..]), || {
        format!("x-echo-raw-bin header wrong: {raw:?}")
    })?;
    expect(!headers.contains_key("x-not-echoed"), || {
        "x-not-echoed was echoed".into()
    })?;
    expect(response.trailers().get("x-trailer") == Some("done"), || {
        format!("x-trailer missing: {:?}", response.trailers())
    })
}

async fn server_stream(client: &GreeterClient) -> Result<(), String> {
    let mut req = request("stream");
    req.count = 5;
    let mut stream = client
        .say_hello_server_stream(req)
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    let mut got = Vec::new();
    while let Some(reply) = stream.message().await.map_err(|s| s.to_string())? {
        got.push(reply.message);
    }
    let want: Vec<String> = (0..5).map(|i| format!("Hello stream {i}")).collect();
    expect(got == want, || format!("replies {got:?}"))?;
    let trailer = stream.trailers().and_then(|t| t.get("x-trailer"));
    expect(trailer == Some("done"), || format!("x-trailer {trailer:?}"))
}

async fn client_stream(client: &GreeterClient) -> Result<(), String> {
    let requests = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, n)| HelloRequest {
            name: (*n).to_owned(),
            count: 0,
            payload: vec![i as u8],
        });
    let reply = client
        .say_hello_client_stream(futures_util::stream::iter(requests.collect::<Vec<_>>()))
        .await
        .map_err(|s| s.to_string())?;
    let trailer_ok = reply.trailers().get("x-trailer") == Some("done");
    let reply = reply.into_inner();
    expect(reply.message == "Hello abc", || {
        format!("message {:?}", reply.message)
    })?;
    expect(reply.payload == [0, 1, 2], || {
        format!("payload {:?}", reply.payload)
    })?;
    expect(trailer_ok, || "x-trailer missing".into())
}

async fn bidi(client: &GreeterClient) -> Result<(), String> {
    let (tx, rx) = tokio::sync::mpsc::channel::<HelloRequest>(4);
    let requests =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    let mut replies = client
        .say_hello_bidi(requests)
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    // Ping-pong: each reply arrives before the next request is sent.
    for name in ["x", "y", "z"] {
        tx.send(request(name)).await.map_err(|e| e.to_string())?;
        let reply: HelloReply = replies
            .message()
            .await
            .map_err(|s| s.to_string())?
            .ok_or("stream ended early")?;
        expect(reply.message == format!("Hello {name}"), || {
            format!("reply {:?}", reply.message)
        })?;
    }
    drop(tx);
    let end = replies.message().await.map_err(|s| s.to_string())?;
    expect(end.is_none(), || format!("unexpected extra reply {end:?}"))?;
    let trailer = replies.trailers().and_then(|t| t.get("x-trailer"));
    expect(trailer == Some("done"), || format!("x-trailer {trailer:?}"))
}

async fn unary_error(client: &GreeterClient) -> Result<(), String> {
    let status = expect_status(client.say_hello(request("error:5")).await, Code::NotFound)?;
    expect(status.message() == "requested", || {
        format!("message {:?}", status.message())
    })?;
    expect(status.metadata().get("x-trailer") == Some("done"), || {
        format!("x-trailer missing: {:?}", status.metadata())
    })
}

async fn stream_errors(client: &GreeterClient) -> Result<(), String> {
    let result = client.say_hello_server_stream(request("error:9")).await;
    let result = match result {
        Ok(response) => {
            let mut stream = response.into_inner();
            stream.message().await.map(|_| ())
        }
        Err(status) => Err(status),
    };
    expect_status(result, Code::FailedPrecondition)?;
    let requests = futures_util::stream::iter(vec![request("ok"), request("error:10")]);
    let mut replies = client
        .say_hello_bidi(requests)
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    let first = replies.message().await.map_err(|s| s.to_string())?;
    expect(first.is_some_and(|r| r.message == "Hello ok"), || {
        "first bidi reply".into()
    })?;
    let status = expect_status(replies.message().await, Code::Aborted)?;
    expect(status.metadata().get("x-trailer") == Some("done"), || {
        format!("x-trailer missing on bidi error: {:?}", status.metadata())
    })?;
    let status = expect_status(
        client
            .say_hello_client_stream(futures_util::stream::iter(vec![request("error:3")]))
            .await,
        Code::InvalidArgument,
    )?;
    expect(status.message() == "requested", || {
        format!("message {:?}", status.message())
    })
}

async fn deadline(client: &GreeterClient) -> Result<(), String> {
    let mut req = Request::new(request("sleep:2000"));
    req.set_timeout(Duration::from_millis(200));
    let started = Instant::now();
    expect_status(client.say_hello(req).await, Code::DeadlineExceeded)?;
    let elapsed = started.elapsed();
    expect(elapsed < Duration::from_millis(1500), || {
        format!("took {elapsed:?}")
    })?;
    let mut req = Request::new(request("sleep:10"));
    req.set_timeout(Duration::from_secs(5));
    client
        .say_hello(req)
        .await
        .map(drop)
        .map_err(|s| s.to_string())
}

async fn gzip(target: &Target) -> Result<(), String> {
    let client = connect(target, true).await?;
    let payload: Vec<u8> = (0..65536u32).map(|i| (i % 7) as u8).collect();
    let reply = client
        .say_hello(HelloRequest {
            name: "gzip".into(),
            count: 0,
            payload: payload.clone(),
        })
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    expect(reply.payload == payload, || "gzip payload mismatch".into())
}

async fn large(client: &GreeterClient) -> Result<(), String> {
    let payload: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let reply = client
        .say_hello(HelloRequest {
            name: "large".into(),
            count: 0,
            payload: payload.clone(),
        })
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    expect(
        reply.payload.len() == payload.len() && reply.payload == payload,
        || format!("1 MiB payload came back as {} bytes", reply.payload.len()),
    )
}

async fn concurrent(client: &GreeterClient) -> Result<(), String> {
    let calls = (0..100).map(|i| {
        let client = client.clone();
        async move {
            let reply = client.say_hello(request(&format!("c{i}"))).await?;
            Ok::<_, Status>(reply.into_inner().message == format!("Hello c{i}"))
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(true))).count();
    expect(ok == 100, || format!("{ok}/100 concurrent calls succeeded"))
}

async fn check(
    results: &mut Vec<CheckResult>,
    name: &'static str,
    f: impl Future<Output = Result<(), String>>,
) {
    let outcome = match tokio::time::timeout(Duration::from_secs(20), f).await {
        Ok(outcome) => outcome,
        Err(_) => Err("timed out after 20 s".into()),
    };
    match &outcome {
        Ok(()) => println!("ok   {name}"),
        Err(reason) => println!("FAIL {name}: {reason}"),
    }
    results.push(CheckResult { name, outcome });
}

/// Runs every check against `target`, printing one line per check.
pub async fn run_all(target: &Target) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let client = match connect(target, false).await {
        Ok(c) => c,
        Err(reason) => {
            println!("FAIL connect: {reason}");
            results.push(CheckResult {
                name: "connect",
                outcome: Err(reason),
            });
            return results;
        }
    };
    check(&mut results, "unary", unary(&client)).await;
    check(&mut results, "metadata", metadata(&client)).await;
    check(&mut results, "server-streaming", server_stream(&client)).await;
    check(&mut results, "client-streaming", client_stream(&client)).await;
    check(&mut results, "bidi-streaming", bidi(&client)).await;
    check(&mut results, "unary-error", unary_error(&client)).await;
    check(&mut results, "streaming-errors", stream_errors(&client)).await;
    check(&mut results, "deadline", deadline(&client)).await;
    check(&mut results, "gzip", gzip(target)).await;
    check(&mut results, "1mib-message", large(&client)).await;
    check(&mut results, "100-concurrent", concurrent(&client)).await;
    results
}
