//! Shared helpers for tests that drive other processes: servers reporting their address,
//! bounded runs of checkers, the Python venv with interop peers. Every child runs in its own
//! process group and is stopped (SIGTERM, then SIGKILL) when its guard drops, so no test can
//! hang or leave processes behind.

#![cfg(unix)]

pub mod interop;
pub mod pki;
pub mod zookeeper;

use std::io::{BufRead as _, BufReader, Read};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Making the venv from nothing downloads a few wheels.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a server may take to print its `listening on` line.
pub const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// A whole run of either checker (the deadline check alone takes about 0.2 s; a hung check
/// is cut at 20 s by the checkers themselves).
pub const CHECKS_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a child may take to exit after SIGTERM before it gets SIGKILL.
pub const GRACEFUL_STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// After a process exits, how long its output pipes may stay open (a grandchild holding them).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A child process leading its own process group (see [`spawn`]), stopped and reaped when
/// dropped, whatever path the test takes.
#[derive(Debug)]
pub struct ChildGuard {
    /// Name used in messages.
    pub name: String,
    child: Child,
    stderr: SharedBuf,
    /// Set once the child is reaped; from then on its pid is no longer ours to signal.
    status: Option<ExitStatus>,
}

impl ChildGuard {
    pub fn new(name: &str, mut child: Child) -> (ChildGuard, SharedBuf, mpsc::Receiver<()>) {
        let (done_tx, done_rx) = mpsc::channel();
        let stderr = SharedBuf::default();
        stderr.fill_from(child.stderr.take().expect("piped stderr"), done_tx);
        let guard = ChildGuard {
            name: name.to_owned(),
            child,
            stderr: stderr.clone(),
            status: None,
        };
        (guard, stderr, done_rx)
    }

    /// Whether the child has exited, without reaping it (a zombie keeps its pid and process
    /// group id reserved, so signalling the group afterwards cannot reach anyone else).
    pub fn has_exited(&mut self) -> bool {
        if self.status.is_some() {
            return true;
        }
        match std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) {
            // The state follows the parenthesised command name: "pid (comm) S ...".
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
            // No procfs: fall back to reaping.
            Err(_) => {
                if let Ok(Some(status)) = self.child.try_wait() {
                    self.status = Some(status);
                }
                self.status.is_some()
            }
        }
    }

    /// Sends `signal` to the child's process group through kill(1) (std has no signal API).
    pub fn signal_group(&self, signal: &str) {
        if self.status.is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// SIGTERM to the group so servers can clean up, a bounded wait, then SIGKILL to the
    /// group (which also ends anything the child left behind, e.g. pip under the setup
    /// script), and reaping. Returns how the child ended.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if !self.has_exited() {
                self.signal_group("-TERM");
                let deadline = Instant::now() + GRACEFUL_STOP_TIMEOUT;
                while Instant::now() < deadline && !self.has_exited() {
                    thread::sleep(Duration::from_millis(20));
                }
            }
            self.signal_group("-KILL");
            if self.status.is_none() {
                let _ = self.child.kill();
                self.status = self.child.wait().ok();
            }
        }
        self.status
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            let stderr = self.stderr.text();
            if !stderr.is_empty() {
                eprintln!("---- stderr of {} ----\n{}", self.name, tail(&stderr, 8000));
            }
        }
    }
}

/// Spawns `cmd` in a new process group, with no stdin and piped stdout and stderr.
pub fn spawn(name: &str, mut cmd: Command) -> Child {
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn()
        .unwrap_or_else(|e| panic!("could not start {name} ({cmd:?}): {e}"))
}

/// Bytes read from a child's pipe by a background thread.
#[derive(Clone, Default, Debug)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Copies `pipe` into the buffer on a thread; `done` gets a message at end of file.
    pub fn fill_from(&self, mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) {
        let buf = self.clone();
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf
                        .0
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&chunk[..n]),
                }
            }
            let _ = done.send(());
        });
    }
}

pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// What a bounded run of a command produced.
#[derive(Debug)]
pub struct Finished {
    /// Exit status; `None` when it had to be killed.
    pub status: Option<ExitStatus>,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn describe_status(&self) -> String {
        match self.status {
            Some(status) => format!("{status}"),
            None => "killed: no exit within the time limit".to_owned(),
        }
    }
}

/// Runs `cmd` to completion, stopping it if it is still running after `timeout`.
pub fn run_bounded(name: &str, cmd: Command, timeout: Duration) -> Finished {
    let started = Instant::now();
    let mut child = spawn(name, cmd);
    let stdout_pipe = child.stdout.take().expect("piped stdout");
    let (mut guard, stderr, stderr_done) = ChildGuard::new(name, child);
    let (stdout_tx, stdout_done) = mpsc::channel();
    let stdout = SharedBuf::default();
    stdout.fill_from(stdout_pipe, stdout_tx);
    let deadline = started + timeout;
    let mut exited = guard.has_exited();
    while !exited && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        exited = guard.has_exited();
    }
    let status = guard.stop().filter(|_| exited);
    drop(guard);
    let drain_deadline = Instant::now() + DRAIN_TIMEOUT;
    for done in [stdout_done, stderr_done] {
        let left = drain_deadline.saturating_duration_since(Instant::now());
        let _ = done.recv_timeout(left);
    }
    Finished {
        status,
        stdout: stdout.text(),
        stderr: stderr.text(),
        elapsed: started.elapsed(),
    }
}

/// The venv's python, made once per test binary by `scripts/setup-python-venv.sh` (which is
/// itself idempotent and safe to run from several processes at once).
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = repo_root();
        let script = root.join("scripts/setup-python-venv.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).current_dir(&root);
        let out = run_bounded("setup-python-venv.sh", cmd, SETUP_TIMEOUT);
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
        let python = PathBuf::from(line);
        assert!(
            python.is_file(),
            "setup-python-venv.sh printed {line:?} as the venv's python, which does not exist"
        );
        python
    })
}

/// A server child process and the address it reported.
#[derive(Debug)]
pub struct RunningServer {
    /// The process.
    pub guard: ChildGuard,
    /// `host:port` it printed.
    pub addr: String,
}

/// Starts `cmd` and waits (bounded) for its `listening on HOST:PORT` line on stdout.
pub fn start_server(name: &str, cmd: Command) -> RunningServer {
    let mut child = spawn(name, cmd);
    let stdout = child.stdout.take().expect("piped stdout");
    let (guard, _stderr, _stderr_done) = ChildGuard::new(name, child);
    let (line_tx, line_rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        // Keeps draining stdout after the address line so the server never blocks on it.
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
                "{name} closed stdout without a `listening on` line (exited?); stdout: {seen:?}"
            ),
        }
    };
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{name} reported an unexpected address {addr:?}"
    );
    RunningServer { guard, addr }
}

/// Runs a checker against `server`, prints its report, and fails the test unless it passed.
pub fn assert_checks_pass(checker: &str, cmd: Command, server: RunningServer) {
    let out = run_bounded(checker, cmd, CHECKS_TIMEOUT);
    println!(
        "---- {checker} against {} at {} ({}, {:?}) ----\n{}",
        server.guard.name,
        server.addr,
        out.describe_status(),
        out.elapsed,
        out.stdout
    );
    if !out.stderr.trim().is_empty() {
        println!(
            "---- stderr of {checker} ----\n{}",
            tail(&out.stderr, 16000)
        );
    }
    let failed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert!(
        out.success() && failed.is_empty(),
        "{checker} against {} did not pass ({}): {failed:#?}",
        server.guard.name,
        out.describe_status(),
    );
    assert!(
        out.stdout.lines().any(|l| l.starts_with("ok   ")),
        "{checker} ran no check"
    );
    drop(server);
}
pub mod node;
