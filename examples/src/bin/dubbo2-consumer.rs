//! Checks a Dubbo2 provider of `DemoService` 1.0.0 and the Greeter, one line per check;
//! exits non-zero if any check fails.
//!
//! ```text
//! dubbo2-consumer --target 127.0.0.1:20880 [--skip-greeter]
//! ```

use examples::args::Args;
use examples::dubbo2_checks::{Target, run_all};

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse("dubbo2-consumer --target HOST:PORT [--skip-greeter]");
    let target = Target {
        address: args.get_or("target", "127.0.0.1:20880").to_owned(),
        skip_greeter: args.flag("skip-greeter"),
    };
    let results = run_all(&target).await;
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    println!("{} checks, {failed} failed", results.len());
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
