//! The npm peers of the Dubbo2 interop tests (`interop/node`), installed once per test binary
//! by `scripts/setup-node.sh` (idempotent, and safe to run from several processes at once).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::{SETUP_TIMEOUT, repo_root, run_bounded, tail};

/// `interop/node` with its `node_modules` installed from the lock file. Panics with the
/// script's output if installation fails.
pub fn node_peers() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let script = root.join("scripts/setup-node.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).current_dir(&root);
        let out = run_bounded("setup-node.sh", cmd, SETUP_TIMEOUT);
        assert!(
            out.success(),
            "{} failed ({}) after {:?}\n---- stderr ----\n{}\n---- stdout ----\n{}",
            script.display(),
            out.describe_status(),
            out.elapsed,
            tail(&out.stderr, 16000),
            out.stdout,
        );
        let line = out.stdout.lines().last().unwrap_or_default().trim();
        let dir = PathBuf::from(line);
        assert!(
            dir.join("node_modules").is_dir(),
            "setup-node.sh printed {line:?}, which has no node_modules"
        );
        dir
    })
}

/// A `node` command running `script` (relative to `interop/node`) from that directory.
pub fn node_command(script: &str) -> Command {
    let dir = node_peers();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join(script)).current_dir(dir);
    cmd
}
