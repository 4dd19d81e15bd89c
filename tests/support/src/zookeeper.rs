//! A real ZooKeeper server for tests: installed from Debian packages when missing
//! (`scripts/install-zookeeper.sh`), started on a free loopback port with a temporary data
//! directory, stopped when dropped.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{ChildGuard, repo_root, run_bounded, spawn, tail};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running ZooKeeper server.
#[derive(Debug)]
pub struct ZooKeeper {
    guard: ChildGuard,
    port: u16,
    _dir: tempfile::TempDir,
}

fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let root = repo_root();
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("scripts/install-zookeeper.sh"))
            .current_dir(&root);
        let out = run_bounded("install-zookeeper.sh", cmd, INSTALL_TIMEOUT);
        assert!(
            out.success(),
            "installing ZooKeeper failed ({}):\n{}",
            out.describe_status(),
            tail(&out.stderr, 8000)
        );
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Sends a four-letter command and returns the answer.
pub fn four_letter(port: u16, command: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(command.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn launch(port: u16) -> Result<(ChildGuard, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("zoo.cfg");
    std::fs::write(
        &config,
        format!(
            "tickTime=200\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,cons\n\
             minSessionTimeout=400\nmaxSessionTimeout=60000\n",
            dir.path().join("data").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut cmd = Command::new("java");
    cmd.args(["-Xmx256m", "-cp", "/usr/share/java/zookeeper.jar"])
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(&config)
        .current_dir(dir.path());
    let child = spawn("zookeeper", cmd);
    let (mut guard, stderr, _done) = ChildGuard::new("zookeeper", child);
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline && !guard.has_exited() {
        if four_letter(port, "ruok").as_deref() == Some("imok") {
            return Ok((guard, dir));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "ZooKeeper did not answer ruok on port {port} (exited: {}): {}",
        guard.has_exited(),
        tail(&stderr.text(), 4000)
    ))
}

impl ZooKeeper {
    /// Installs (if needed) and starts a standalone server on a free port.
    pub fn start() -> ZooKeeper {
        ensure_installed();
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match launch(port) {
                Ok((guard, dir)) => {
                    return ZooKeeper {
                        guard,
                        port,
                        _dir: dir,
                    };
                }
                Err(err) => last_error = err,
            }
        }
        panic!("{last_error}");
    }

    /// Replaces the server with a new one on the same port and an empty data directory.
    /// Clients' sessions are unknown to it, so they are told their sessions expired.
    pub fn restart_fresh(&mut self) {
        self.guard.stop();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match launch(self.port) {
                Ok((guard, dir)) => {
                    self.guard = guard;
                    self._dir = dir;
                    return;
                }
                Err(err) if Instant::now() > deadline => panic!("{err}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `zookeeper://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("zookeeper://127.0.0.1:{}", self.port)
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        self.guard.stop();
    }
}
