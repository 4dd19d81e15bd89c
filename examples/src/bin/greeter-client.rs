//! Checks a Greeter server against the contract, one line per check; exits non-zero if any
//! check fails.
//!
//! ```text
//! greeter-client --target 127.0.0.1:50051 [--version 1.0.0] [--group blue]
//! ```

use examples::args::Args;
use examples::greeter_checks::{Target, run_all};

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse("greeter-client --target HOST:PORT [--version V] [--group G]");
    let target = Target {
        url: format!("tri://{}", args.get_or("target", "127.0.0.1:50051")),
        version: args.get("version").map(str::to_owned),
        group: args.get("group").map(str::to_owned),
    };
    let results = run_all(&target).await;
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    println!("{} checks, {failed} failed", results.len());
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
