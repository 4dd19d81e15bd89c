//! The README's "run it" command: starts a Greeter server and a client in one process, makes
//! a few calls of each kind, runs the contract checks, and shuts down gracefully.
//!
//! ```text
//! cargo run -p examples
//! ```

use std::time::Duration;

use dubbo_runtime::{Request, Server, ServiceOptions};
use examples::greeter::{GreeterClient, GreeterServer, HelloRequest};
use examples::greeter_checks::{Target, run_all};
use examples::greeter_service::GreeterService;
use futures_util::StreamExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    examples::init_tracing();
    let server = Server::builder()
        .application("demo-provider")
        .add_service_with(
            GreeterServer::new(GreeterService),
            ServiceOptions::new().version("1.0.0"),
        )
        .start("tri://127.0.0.1:0")
        .await?;
    let url = format!("tri://{}", server.local_addr());
    println!("server: Greeter 1.0.0 on {url}");

    let client = GreeterClient::builder(url.as_str())
        .version("1.0.0")
        .application("demo-consumer")
        .timeout(Duration::from_secs(5))
        .connect()
        .await?;

    let reply = client
        .say_hello(HelloRequest {
            name: "Dubbo".into(),
            ..Default::default()
        })
        .await?;
    println!("unary:            {}", reply.get_ref().message);

    let mut stream = client
        .say_hello_server_stream(HelloRequest {
            name: "stream".into(),
            count: 3,
            ..Default::default()
        })
        .await?
        .into_inner();
    while let Some(reply) = stream.message().await? {
        println!("server-streaming: {}", reply.message);
    }

    let names = ["Ada", "Grace", "Linus"].map(|n| HelloRequest {
        name: n.into(),
        ..Default::default()
    });
    let reply = client
        .say_hello_client_stream(futures_util::stream::iter(names.clone()))
        .await?;
    println!("client-streaming: {}", reply.get_ref().message);

    let mut replies = client
        .say_hello_bidi(futures_util::stream::iter(names))
        .await?
        .into_inner();
    while let Some(reply) = replies.next().await {
        println!("bidi-streaming:   {}", reply?.message);
    }

    let mut req = Request::new(HelloRequest {
        name: "error:5".into(),
        ..Default::default()
    });
    req.set_timeout(Duration::from_secs(1));
    match client.say_hello(req).await {
        Ok(_) => println!("error call:       unexpectedly succeeded"),
        Err(status) => println!("error call:       {status}"),
    }

    println!("\ncontract checks:");
    let results = run_all(&Target {
        url,
        version: Some("1.0.0".into()),
        group: None,
    })
    .await;
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();

    server.shutdown().await;
    println!(
        "\nserver shut down gracefully; {} checks, {failed} failed",
        results.len()
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
