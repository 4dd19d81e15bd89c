//! The `build.rs` front end: runs protoc, then the shared generator, and writes the files.

use std::io;
use std::path::{Path, PathBuf};

use crate::generator::{self, GeneratedFile};
use crate::options::Options;

/// Configures code generation. Create one with [`configure()`](crate::configure); every
/// method takes and returns the builder by value.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     dubbo_build::configure()
///         .build_client(true)
///         .build_server(true)
///         .type_attribute(".org.apache.dubbo.sample.HelloReply", "#[derive(Eq)]")
///         .include_file("protos.rs")
///         .compile_protos(&["proto/greeter.proto"], &["proto"])?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    protoc_args: Vec<String>,
    emit_rerun_if_changed: bool,
}

impl Builder {
    pub(crate) fn new() -> Builder {
        Builder {
            emit_rerun_if_changed: true,
            ..Builder::default()
        }
    }

    /// Generate clients (default true).
    pub fn build_client(mut self, enable: bool) -> Builder {
        self.options.build_client = enable;
        self
    }

    /// Generate server traits and dispatchers (default true).
    pub fn build_server(mut self, enable: bool) -> Builder {
        self.options.build_server = enable;
        self
    }

    /// Derive serde on messages so they travel as Hessian objects over `dubbo://`
    /// (default true). Turn it off when messages contain types without serde support.
    pub fn hessian(mut self, enable: bool) -> Builder {
        self.options.hessian = enable;
        self
    }

    /// Where to write the generated files (default: `OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Adds an attribute to messages, enums and oneofs matching `path` (prost-build rules:
    /// `.` for everything, `.pkg.Msg` for one type and what is nested in it).
    pub fn type_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Builder {
        self.options
            .type_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds an attribute to messages matching `path`.
    pub fn message_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Builder {
        self.options
            .message_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds an attribute to enums matching `path`.
    pub fn enum_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Builder {
        self.options
            .enum_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds an attribute to fields matching `path` (e.g. `.pkg.Msg.field`).
    pub fn field_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Builder {
        self.options
            .field_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Uses existing Rust types for a proto package or type instead of generating them,
    /// e.g. `.extern_path(".common", "::common_protos")`.
    pub fn extern_path(
        mut self,
        proto_path: impl Into<String>,
        rust_path: impl Into<String>,
    ) -> Builder {
        self.options
            .extern_paths
            .push((proto_path.into(), rust_path.into()));
        self
    }

    /// Generates `bytes::Bytes` instead of `Vec<u8>` for `bytes` fields matching `path`.
    pub fn bytes(mut self, path: impl Into<String>) -> Builder {
        self.options.bytes.push(path.into());
        self
    }

    /// Generates `BTreeMap` instead of `HashMap` for map fields matching `path`.
    pub fn btree_map(mut self, path: impl Into<String>) -> Builder {
        self.options.btree_map.push(path.into());
        self
    }

    /// Leaves out the comments of items matching `path`.
    pub fn disable_comments(mut self, path: impl Into<String>) -> Builder {
        self.options.disable_comments.push(path.into());
        self
    }

    /// Also writes `name`, a file of nested `pub mod`s including every generated file, so a
    /// single `include!(concat!(env!("OUT_DIR"), "/name"))` brings in all packages.
    pub fn include_file(mut self, name: impl Into<String>) -> Builder {
        self.options.include_file = Some(name.into());
        self
    }

    /// Passes an extra argument to protoc.
    pub fn protoc_arg(mut self, arg: impl Into<String>) -> Builder {
        self.protoc_args.push(arg.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default true).
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Builder {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// Compiles `protos`, resolving imports against `includes`, and writes the generated
    /// Rust files. protoc is `$PROTOC` if set, else the vendored binary.
    pub fn compile_protos(
        self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    io::Error::other("OUT_DIR is not set; call out_dir() or run from build.rs")
                })?,
        };
        let files = self.generate(protos, includes)?;
        std::fs::create_dir_all(&out_dir)?;
        for file in files {
            write_if_changed(&out_dir.join(&file.name), file.content.as_bytes())?;
        }
        Ok(())
    }

    /// Like [`compile_protos`](Self::compile_protos) but returns the files instead of writing
    /// them.
    pub fn generate(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<Vec<GeneratedFile>> {
        let mut includes: Vec<PathBuf> = includes.iter().map(|p| p.as_ref().to_owned()).collect();
        let vendored = crate::protoc::include_dir();
        if let Some(dir) = &vendored {
            includes.push(dir.clone());
        }
        let protoc = crate::protoc::path()?;
        let mut config = prost_build::Config::new();
        config.protoc_executable(&protoc);
        for arg in &self.protoc_args {
            config.protoc_arg(arg);
        }
        let fds = config.load_fds(protos, &includes)?;
        if self.emit_rerun_if_changed {
            for proto in protos {
                println!("cargo:rerun-if-changed={}", proto.as_ref().display());
            }
            for file in &fds.file {
                for dir in includes.iter().filter(|d| Some(*d) != vendored.as_ref()) {
                    let candidate = dir.join(file.name());
                    if candidate.exists() {
                        println!("cargo:rerun-if-changed={}", candidate.display());
                        break;
                    }
                }
            }
            println!("cargo:rerun-if-env-changed=PROTOC");
        }
        let names: Vec<String> = fds.file.iter().map(|f| f.name().to_owned()).collect();
        generator::generate(&self.options, fds, &names).map_err(io::Error::other)
    }
}

fn write_if_changed(path: &Path, content: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content)
}
