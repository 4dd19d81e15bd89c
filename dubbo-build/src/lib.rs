//! Code generation for [`dubbo-runtime`](https://docs.rs/dubbo-runtime): turns `.proto`
//! services into typed clients and server traits for unary, server-streaming,
//! client-streaming and bidi-streaming methods, plus prost messages that can also travel as
//! Hessian objects over Dubbo2.
//!
//! Use it from `build.rs`:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     dubbo_build::compile_protos("proto/greeter.proto")?;
//!     Ok(())
//! }
//! ```
//!
//! and include the result where you want it:
//!
//! ```ignore
//! pub mod greeter {
//!     dubbo_runtime::include_proto!("org.apache.dubbo.sample");
//! }
//! ```
//!
//! protoc comes from `protoc-bin-vendored` unless `PROTOC` is set. The same generator runs in
//! the `protoc-gen-dubbo-rust` plugin; both produce byte-identical files.
#![warn(missing_docs)]

mod builder;
mod generator;
mod messages;
mod model;
mod options;
pub mod plugin;
mod protoc;
mod service;

use std::io;
use std::path::Path;

pub use builder::Builder;
pub use generator::GeneratedFile;

/// A builder with default settings (clients and servers, Hessian support on).
pub fn configure() -> Builder {
    Builder::new()
}

/// Compiles one `.proto` file with default settings, resolving imports against its
/// directory, into `OUT_DIR`.
pub fn compile_protos(proto: impl AsRef<Path>) -> io::Result<()> {
    let proto = proto.as_ref();
    let dir = proto
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    configure().compile_protos(&[proto], &[dir])
}
