//! The gRPC interop-test client: runs test cases against any `grpc.testing.TestService`
//! server and exits 0 only if every case passed.
//!
//! ```text
//! interop-client --server_host H --server_port N --test_case NAME[,NAME…|all]
//!                [--use_tls true --ca_file ca.pem] [--server_host_override NAME]
//! ```
//!
//! Prints one line per case: `ok   NAME (time)` or `FAIL NAME: reason`.

use std::time::Duration;

use examples::args::Args;
use examples::interop::{ALL_CASES, ClientSettings, InteropClient, parse_bool, parse_cases};

const USAGE: &str = "interop-client --server_host HOST (default localhost) --server_port PORT \
--test_case NAME[,NAME...|all] [--use_tls true|false] [--ca_file PEM] \
[--server_host_override NAME] [--use_test_ca true] [--case_timeout_secs N (default 20)]

Runs gRPC interop test cases against grpc.testing.TestService. With --use_tls true the
server certificate must be signed by a CA in --ca_file and match --server_host_override
(default: --server_host). Exit code 0 only when every case passed.";

fn fail(message: &str) -> ! {
    eprintln!(
        "interop-client: {message}\n\nusage: {USAGE}\n\ncases: {}",
        ALL_CASES.join(", ")
    );
    std::process::exit(2);
}

fn settings(args: &Args) -> ClientSettings {
    let port: u16 = args
        .get("server_port")
        .unwrap_or_else(|| fail("--server_port is required"))
        .parse()
        .unwrap_or_else(|_| fail("--server_port must be a port number"));
    let mut settings = ClientSettings::new(args.get_or("server_host", "localhost"), port);
    settings.use_tls =
        parse_bool(args.get("use_tls")).unwrap_or_else(|e| fail(&format!("--use_tls: {e}")));
    settings.ca_file = args.get("ca_file").map(Into::into);
    settings.server_host_override = args
        .get("server_host_override")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(secs) = args.get("case_timeout_secs") {
        let secs: u64 = secs
            .parse()
            .unwrap_or_else(|_| fail("--case_timeout_secs must be a number"));
        settings.case_timeout = Duration::from_secs(secs.max(1));
    }
    settings
}

#[tokio::main]
async fn main() {
    examples::init_tracing();
    let args = Args::parse(USAGE);
    let cases = parse_cases(
        args.get("test_case")
            .unwrap_or_else(|| fail("--test_case is required")),
    )
    .unwrap_or_else(|e| fail(&e));
    let client = match InteropClient::connect(settings(&args)).await {
        Ok(client) => client,
        Err(err) => {
            for case in &cases {
                println!("FAIL {case}: {err}");
            }
            std::process::exit(1);
        }
    };
    let mut failures = 0usize;
    for case in cases.iter().copied() {
        let outcome = client.run(case).await;
        failures += usize::from(outcome.result.is_err());
        println!("{}", outcome.line());
    }
    println!("{} passed, {failures} failed", cases.len() - failures);
    std::process::exit(i32::from(failures > 0));
}
