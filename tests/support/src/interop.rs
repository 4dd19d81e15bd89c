//! Helpers for the gRPC interop-case tests: a server whose stderr stays readable while it
//! runs, a scratch directory, and the per-case report lines both interop clients print
//! (`ok   NAME ...` / `FAIL NAME: reason`).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{ChildGuard, RunningServer, SERVER_START_TIMEOUT, SharedBuf, spawn};

/// A directory under the system temp dir, removed when dropped.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates a fresh, uniquely named directory.
    pub fn new(prefix: &str) -> ScratchDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{prefix}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        ScratchDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Like [`crate::start_server`], but also returns the server's stderr, which keeps filling
/// while the server runs.
pub fn start_server_with_stderr(name: &str, cmd: Command) -> (RunningServer, SharedBuf) {
    let mut child = spawn(name, cmd);
    let stdout = child.stdout.take().expect("piped stdout");
    let (guard, stderr, _stderr_done) = ChildGuard::new(name, child);
    let (line_tx, line_rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = line_tx.send(line);
        }
    });
    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    let mut seen = Vec::new();
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match line_rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = line.trim().strip_prefix("listening on ") {
                    break addr.trim().to_owned();
                }
                seen.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{name} printed no `listening on` line within {SERVER_START_TIMEOUT:?}; stdout so far: {seen:?}"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "{name} closed stdout without a `listening on` line (exited?); stdout: {seen:?}\nstderr: {}",
                stderr.text()
            ),
        }
    };
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{name} reported an unexpected address {addr:?}"
    );
    (RunningServer { guard, addr }, stderr)
}

/// Waits (at most `timeout`) until `buf` contains `needle`.
pub fn wait_for_text(buf: &SharedBuf, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if buf.text().contains(needle) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The per-case lines of an interop client's output.
#[derive(Debug, Default)]
pub struct CaseReport {
    /// Cases reported `ok`.
    pub passed: Vec<String>,
    /// Cases reported `FAIL`, with the reason.
    pub failed: Vec<(String, String)>,
}

impl CaseReport {
    /// Reads `ok   NAME ...` and `FAIL NAME: reason` lines.
    pub fn parse(stdout: &str) -> CaseReport {
        let mut report = CaseReport::default();
        for line in stdout.lines() {
            if let Some(rest) = line.strip_prefix("ok   ") {
                let name = rest.split_whitespace().next().unwrap_or_default();
                report.passed.push(name.to_owned());
            } else if let Some(rest) = line.strip_prefix("FAIL ") {
                let (name, reason) = rest.split_once(':').unwrap_or((rest, ""));
                report
                    .failed
                    .push((name.trim().to_owned(), reason.trim().to_owned()));
            }
        }
        report
    }

    /// Whether `case` was reported `ok` (and not also `FAIL`).
    pub fn passed(&self, case: &str) -> bool {
        self.passed.iter().any(|c| c == case) && !self.failed.iter().any(|(c, _)| c == case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse() {
        let report =
            CaseReport::parse("ok   a (1ms)\nFAIL b: boom: x\nnoise\n1 passed, 1 failed\n");
        assert!(report.passed("a"));
        assert!(!report.passed("b"));
        assert_eq!(report.failed, vec![("b".to_owned(), "boom: x".to_owned())]);
    }
}
