//! Client-side checks of the Dubbo2 contract — `DemoService` 1.0.0 (see
//! [`crate::demo_service`]) and the Greeter (unversioned) over `dubbo://` — used by the
//! `dubbo2-consumer` binary and the interop tests against other implementations.

use std::future::Future;
use std::time::Duration;

use dubbo_runtime::hessian2::Value;
use dubbo_runtime::java::{JavaClient, java_exception};
use dubbo_runtime::{Code, Request, Status};

use crate::demo_service::{DEMO_SERVICE, DEMO_VERSION, FAIL_EXCEPTION};
use crate::greeter::{GreeterClient, HelloRequest};
use crate::greeter_checks::CheckResult;

/// Where the provider listens.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `host:port`.
    pub address: String,
    /// Skip the Greeter checks (for providers that serve only `DemoService`).
    pub skip_greeter: bool,
}

const STRING: &[&str] = &["java.lang.String"];
const OBJECT: &[&str] = &["java.lang.Object"];

fn expect(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
) -> Result<Status, String> {
    match result {
        Ok(v) => Err(format!("expected {code}, got success {v:?}")),
        Err(status) if status.code() == code => Ok(status),
        Err(status) => Err(format!("expected {code}, got {status}")),
    }
}

async fn demo(target: &Target, version: &str) -> Result<JavaClient, String> {
    JavaClient::builder(format!("dubbo://{}", target.address))
        .interface(DEMO_SERVICE)
        .version(version)
        .application("dubbo2-consumer")
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("connect failed: {e}"))
}

async fn say_hello(client: &JavaClient) -> Result<(), String> {
    for name in ["world", "中文 ünïcödé"] {
        let reply: String = client
            .call("sayHello", STRING, (name,))
            .await
            .map_err(|s| s.to_string())?;
        expect(reply == format!("Hello {name}"), || {
            format!("got {reply:?}")
        })?;
    }
    Ok(())
}

async fn echo(client: &JavaClient) -> Result<(), String> {
    let values = [
        Value::from("echo"),
        Value::Int(42),
        Value::Long(1 << 40),
        Value::Double(1.5),
        Value::Bool(true),
        Value::list(vec![Value::Int(1), Value::from("a")]),
        Value::map(vec![(Value::from("k"), Value::from("v"))]),
    ];
    for value in values {
        let back: Value = client
            .call("echo", OBJECT, (value.clone(),))
            .await
            .map_err(|s| format!("echo({value:?}): {s}"))?;
        // Java peers may return an ArrayList/HashMap typed or untyped: compare contents.
        let same = match (&value, &back) {
            (Value::List { items: a, .. }, Value::List { items: b, .. }) => a == b,
            (Value::Map { entries: a, .. }, Value::Map { entries: b, .. }) => a == b,
            (a, b) => a == b,
        };
        expect(same, || format!("echo({value:?}) returned {back:?}"))?;
    }
    Ok(())
}

async fn fail(client: &JavaClient) -> Result<(), String> {
    let result: Result<String, Status> = client.call("fail", STRING, ("boom",)).await;
    let status = match result {
        Ok(v) => return Err(format!("expected an exception, got {v:?}")),
        Err(s) => s,
    };
    let thrown =
        java_exception(&status).ok_or_else(|| format!("no Java exception in {status:?}"))?;
    expect(thrown.class_name == FAIL_EXCEPTION, || {
        format!("exception class {:?}", thrown.class_name)
    })?;
    expect(thrown.message() == Some("boom"), || {
        format!("exception message {:?}", thrown.message())
    })?;
    expect(status.message().contains("boom"), || {
        format!("status message {:?}", status.message())
    })
}

async fn generic(client: &JavaClient) -> Result<(), String> {
    let reply = client
        .invoke_generic("sayHello", STRING, vec![Value::from("generic")])
        .await
        .map_err(|s| s.to_string())?;
    expect(reply.as_str() == Some("Hello generic"), || {
        format!("got {reply:?}")
    })
}

async fn attachments(client: &JavaClient) -> Result<(), String> {
    let mut request = Request::new(("meta",));
    request
        .metadata_mut()
        .insert("x-user", "alice")
        .map_err(|e| e.to_string())?;
    request.set_timeout(Duration::from_secs(3));
    let reply = client
        .call_with::<_, String>("sayHello", STRING, request)
        .await
        .map_err(|s| s.to_string())?;
    expect(reply.get_ref() == "Hello meta", || {
        format!("got {:?}", reply.get_ref())
    })
}

async fn unknown_method(client: &JavaClient) -> Result<(), String> {
    let result: Result<Value, Status> = client.call("noSuchMethod", STRING, ("x",)).await;
    expect_code(result, Code::Unimplemented).map(drop)
}

async fn unknown_version(target: &Target) -> Result<(), String> {
    let client = demo(target, "9.9.9").await?;
    let result: Result<String, Status> = client.call("sayHello", STRING, ("x",)).await;
    expect_code(result, Code::Unimplemented).map(drop)
}

async fn concurrent(client: &JavaClient) -> Result<(), String> {
    let calls = (0..100).map(|i| {
        let client = client.clone();
        async move {
            let reply: String = client.call("sayHello", STRING, (format!("c{i}"),)).await?;
            Ok::<_, Status>(reply == format!("Hello c{i}"))
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(true))).count();
    expect(ok == 100, || format!("{ok}/100 concurrent calls succeeded"))
}

async fn greeter(target: &Target) -> Result<GreeterClient, String> {
    GreeterClient::builder(format!("dubbo://{}", target.address).as_str())
        .application("dubbo2-consumer")
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("connect failed: {e}"))
}

async fn greeter_unary(target: &Target) -> Result<(), String> {
    let client = greeter(target).await?;
    let reply = client
        .say_hello(HelloRequest {
            name: "dubbo".into(),
            count: 3,
            payload: vec![1, 2, 3],
        })
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    expect(reply.message == "Hello dubbo", || {
        format!("message {:?}", reply.message)
    })?;
    expect(reply.payload == [1, 2, 3], || {
        format!("payload {:?}", reply.payload)
    })
}

async fn greeter_streaming(target: &Target) -> Result<(), String> {
    let client = greeter(target).await?;
    let status = expect_code(
        client
            .say_hello_server_stream(HelloRequest::default())
            .await
            .map(drop),
        Code::Unimplemented,
    )?;
    expect(status.message().contains("Dubbo2 has no streams"), || {
        format!("message {:?}", status.message())
    })
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
    let client = match demo(target, DEMO_VERSION).await {
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
    check(&mut results, "sayHello", say_hello(&client)).await;
    check(&mut results, "echo", echo(&client)).await;
    check(&mut results, "fail-exception", fail(&client)).await;
    check(&mut results, "generic-invoke", generic(&client)).await;
    check(&mut results, "attachments", attachments(&client)).await;
    check(&mut results, "unknown-method", unknown_method(&client)).await;
    check(&mut results, "unknown-version", unknown_version(target)).await;
    check(&mut results, "100-concurrent", concurrent(&client)).await;
    if !target.skip_greeter {
        check(&mut results, "greeter-unary", greeter_unary(target)).await;
        check(&mut results, "greeter-streaming", greeter_streaming(target)).await;
    }
    results
}
