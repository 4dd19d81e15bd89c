//! Locating protoc: `$PROTOC` when set, else the binary vendored by `protoc-bin-vendored`.

use std::io;
use std::path::PathBuf;

/// The protoc executable to run.
pub(crate) fn path() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PROTOC").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    protoc_bin_vendored::protoc_bin_path().map_err(|e| {
        io::Error::other(format!(
            "no PROTOC set and no vendored protoc for this platform: {e}"
        ))
    })
}

/// The vendored well-known-type `.proto` files (`google/protobuf/*.proto`).
pub(crate) fn include_dir() -> Option<PathBuf> {
    protoc_bin_vendored::include_path().ok()
}
