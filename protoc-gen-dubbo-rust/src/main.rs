//! `protoc-gen-dubbo-rust`: a protoc plugin generating dubbo-runtime clients and servers.
//!
//! ```text
//! protoc --plugin=protoc-gen-dubbo-rust=$(which protoc-gen-dubbo-rust) \
//!        --dubbo-rust_out=src/gen --dubbo-rust_opt=include_file=mod.rs proto/greeter.proto
//! ```
//!
//! It reads a `CodeGeneratorRequest` on stdin and writes a `CodeGeneratorResponse` on stdout.
//! Errors in the input or options are reported in the response (exit code 0), as protoc
//! expects.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut request = Vec::new();
    if let Err(err) = std::io::stdin().read_to_end(&mut request) {
        eprintln!("protoc-gen-dubbo-rust: cannot read the request from stdin: {err}");
        return ExitCode::FAILURE;
    }
    let response = dubbo_build::plugin::run(&request);
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(&response).and_then(|()| stdout.flush()) {
        eprintln!("protoc-gen-dubbo-rust: cannot write the response to stdout: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
