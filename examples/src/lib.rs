//! Shared code for the example binaries: the generated Greeter stubs, the Greeter contract
//! implementation, the client-side checks, and a tiny argument parser.

pub mod args;
pub mod greeter_checks;
pub mod greeter_service;
pub mod interop;
pub mod tagged;

/// Code generated from `proto/greeter.proto`.
#[allow(missing_docs)]
pub mod greeter {
    dubbo_runtime::include_proto!("org.apache.dubbo.sample");
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
pub mod demo_service;
pub mod dubbo2_checks;
