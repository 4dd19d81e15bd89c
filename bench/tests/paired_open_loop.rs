//! The load generator's paired open loop: one arrival schedule alternated between two servers
//! in slices, with results for each.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn triple_server() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench-triple-server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Server(child), addr)
}

fn value(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        .parse()
        .expect("number")
}

#[test]
fn two_targets_share_the_schedule_slice_by_slice() {
    let (_a, addr_a) = triple_server();
    let (_b, addr_b) = triple_server();
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--target", &addr_a, "--target-b", &addr_b])
        .args(["--mode", "rate", "--rate", "2000", "--connections", "2"])
        .args(["--slice-ms", "50", "--duration-s", "1", "--warmup-s", "0.2"])
        .output()
        .expect("loadgen runs");
    assert!(output.status.success(), "loadgen failed: {output:?}");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one line per target: {text}");
    assert!(lines[0].starts_with("side=a "), "{text}");
    assert!(lines[1].starts_with("side=b "), "{text}");
    // 1.2 s at 2,000/s is about 2,400 requests; 24 slices of 50 ms split them about evenly.
    let totals: Vec<f64> = lines.iter().map(|l| value(l, "total")).collect();
    let all: f64 = totals.iter().sum();
    assert!((2000.0..2800.0).contains(&all), "{text}");
    for (line, total) in lines.iter().zip(&totals) {
        assert!(
            (0.4..0.6).contains(&(total / all)),
            "uneven split {totals:?}: {text}"
        );
        assert_eq!(value(line, "errors"), 0.0, "{text}");
        assert!(value(line, "p50_us") > 0.0, "{text}");
        // Each side had the load for half of the 1 s window, at the full rate while it did.
        assert!((1800.0..2200.0).contains(&value(line, "qps")), "{text}");
    }
}

#[test]
fn one_target_prints_one_line_without_a_side() {
    let (_a, addr) = triple_server();
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--target", &addr, "--mode", "rate", "--rate", "1000"])
        .args(["--duration-s", "0.5", "--warmup-s", "0.1"])
        .output()
        .expect("loadgen runs");
    assert!(output.status.success(), "loadgen failed: {output:?}");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("total="), "{text}");
    assert_eq!(value(&text, "errors"), 0.0, "{text}");
    assert!((800.0..1200.0).contains(&value(&text, "qps")), "{text}");
}
