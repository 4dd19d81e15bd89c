//! Runs every benchmark scenario against our servers and tonic's and prints a table.
//!
//! ```text
//! bench/run.sh [--rounds 5] [--duration-s 5] [--warmup-s 1] [--only NAME,NAME] [--quick]
//!              [--verbose] [--unpaired]
//! ```
//!
//! Each measurement: the server pinned to CPU 0 (CPUs 0 and 1 where a scenario says so) and
//! the load generator to CPU 1 (`taskset`), server CPU time per request from
//! `/proc/<pid>/stat`, server RSS from `/proc/<pid>/status`.
//! Rounds interleave the servers (ours, tonic, tonic, ours, …). Open-loop scenarios are
//! paired instead: both servers run at once and the load generator alternates between them
//! every 100 ms, so both see the same machine. The table shows medians over rounds, the median
//! of the per-round ratios ours/theirs, and in how many rounds ours won; `--verbose` prints
//! every round's figures, `--unpaired` measures the open-loop scenarios one server at a time too.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bench::args::Args;
use bench::procfs;
use bench::stats::median;

/// One server program.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Server {
    Triple,
    Tonic,
    Dubbo2,
    /// `h2` with no gRPC work at all: what any server on `h2` and tokio costs at least.
    H2Floor,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Triple => "ours (Triple)",
            Server::Tonic => "tonic",
            Server::Dubbo2 => "ours (Dubbo2)",
            Server::H2Floor => "h2 floor",
        }
    }

    fn binary(self, dir: &Path) -> PathBuf {
        match self {
            Server::Triple => dir.join("bench-triple-server"),
            Server::Tonic => dir.join("examples").join("tonic-server"),
            Server::Dubbo2 => dir.join("bench-dubbo2-server"),
            Server::H2Floor => dir.join("examples").join("h2-floor-server"),
        }
    }
}

/// Which way is better for a metric.
#[derive(Clone, Copy, Debug)]
enum Better {
    Lower,
    Higher,
}

/// A benchmark scenario: load generator arguments and the metric it is judged by.
struct Scenario {
    name: &'static str,
    loadgen: Vec<String>,
    /// Load generator arguments for the baseline when they differ (Dubbo2 vs Triple).
    baseline_loadgen: Option<Vec<String>>,
    /// (ours, baseline)
    servers: (Server, Server),
    metrics: &'static [(&'static str, Better)],
    idle: bool,
    /// The CPUs the server may run on (`taskset -c`); the load generator always gets CPU 1.
    server_cpus: &'static str,
    /// Both servers run at once and one load generator alternates between them in short
    /// slices (open-loop scenarios, whose latencies drift with the machine by more than the
    /// differences measured); otherwise each server gets a run of its own.
    paired: bool,
}

fn scenario(
    name: &'static str,
    loadgen: &str,
    servers: (Server, Server),
    metrics: &'static [(&'static str, Better)],
) -> Scenario {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    // A Dubbo2 scenario's Triple baseline gets the same load over Triple.
    let baseline_loadgen = (servers.0 == Server::Dubbo2)
        .then(|| words(&loadgen.replace("--protocol dubbo2", "--protocol triple")));
    Scenario {
        name,
        loadgen: words(loadgen),
        baseline_loadgen,
        servers,
        metrics,
        idle: false,
        server_cpus: "0",
        paired: loadgen.contains("--mode rate"),
    }
}

const UNARY: &[(&str, Better)] = &[
    ("cpu_us_per_req", Better::Lower),
    ("qps", Better::Higher),
    ("p50_us", Better::Lower),
    ("p99_us", Better::Lower),
    ("p999_us", Better::Lower),
];
const LATENCY: &[(&str, Better)] = &[
    ("p50_us", Better::Lower),
    ("p90_us", Better::Lower),
    ("p99_us", Better::Lower),
    ("cpu_us_per_req", Better::Lower),
];
const STREAM: &[(&str, Better)] = &[
    ("msgs_per_s", Better::Higher),
    ("mb_per_s", Better::Higher),
    ("cpu_us_per_msg", Better::Lower),
];
const IDLE: &[(&str, Better)] = &[("rss_kb_per_conn", Better::Lower)];

fn scenarios() -> Vec<Scenario> {
    let tonic = (Server::Triple, Server::Tonic);
    let dubbo2 = (Server::Dubbo2, Server::Triple);
    // Reference rows: how far below tonic a server on h2 and tokio can get at all.
    let floor = (Server::H2Floor, Server::Tonic);
    let mut all = vec![
        scenario(
            "unary-empty-c1",
            "--mode unary --connections 1 --concurrency 1",
            tonic,
            UNARY,
        ),
        scenario(
            "unary-empty-c16",
            "--mode unary --connections 1 --concurrency 16",
            tonic,
            UNARY,
        ),
        scenario(
            "unary-empty-c256x4",
            "--mode unary --connections 4 --concurrency 256",
            tonic,
            UNARY,
        ),
        scenario(
            "unary-1k-c16",
            "--mode unary --connections 1 --concurrency 16 --payload 1024",
            tonic,
            UNARY,
        ),
        scenario(
            "unary-64k-c16",
            "--mode unary --connections 1 --concurrency 16 --payload 65536",
            tonic,
            UNARY,
        ),
        scenario(
            "open-10k-rps",
            "--mode rate --connections 4 --rate 10000",
            tonic,
            LATENCY,
        ),
        scenario(
            "open-20k-rps",
            "--mode rate --connections 4 --rate 20000",
            tonic,
            LATENCY,
        ),
        // As deployed: the server's runtime gets a worker per CPU (two) and shares CPU 1 with
        // the load generator, so waking a second worker costs a futex call and a thread hop.
        Scenario {
            server_cpus: "0,1",
            ..scenario(
                "open-10k-rps-2workers",
                "--mode rate --connections 4 --rate 10000",
                tonic,
                LATENCY,
            )
        },
        // Our server against itself: how far apart two identical servers land in one run,
        // i.e. the noise in the open-loop rows above.
        scenario(
            "noise-open-10k-rps",
            "--mode rate --connections 4 --rate 10000",
            (Server::Triple, Server::Triple),
            LATENCY,
        ),
        scenario(
            "floor-unary-empty-c16",
            "--mode unary --connections 1 --concurrency 16",
            floor,
            UNARY,
        ),
        scenario(
            "floor-open-10k-rps",
            "--mode rate --connections 4 --rate 10000",
            floor,
            LATENCY,
        ),
        scenario(
            "floor-open-20k-rps",
            "--mode rate --connections 4 --rate 20000",
            floor,
            LATENCY,
        ),
        scenario(
            "server-stream-1k",
            "--mode stream --connections 1 --concurrency 4 --payload 1024 --stream-count 1000",
            tonic,
            STREAM,
        ),
        scenario(
            "bidi-pingpong-c16",
            "--mode pingpong --connections 1 --concurrency 16",
            tonic,
            UNARY,
        ),
        scenario(
            "dubbo2-unary-c1",
            "--protocol dubbo2 --mode unary --connections 1 --concurrency 1",
            dubbo2,
            UNARY,
        ),
        scenario(
            "dubbo2-unary-c16",
            "--protocol dubbo2 --mode unary --connections 1 --concurrency 16",
            dubbo2,
            UNARY,
        ),
        scenario(
            "dubbo2-unary-c256x4",
            "--protocol dubbo2 --mode unary --connections 4 --concurrency 256",
            dubbo2,
            UNARY,
        ),
    ];
    all.push(Scenario {
        name: "idle-10k-conns",
        loadgen: "--mode idle --idle 10000 --hold-s 4"
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        baseline_loadgen: None,
        servers: tonic,
        metrics: IDLE,
        idle: true,
        server_cpus: "0",
        paired: false,
    });
    all
}

fn pinned(cpu: &str, program: &Path) -> Command {
    if Path::new("/usr/bin/taskset").exists() {
        let mut cmd = Command::new("/usr/bin/taskset");
        cmd.args(["-c", cpu]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

struct Running {
    child: Child,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(server: Server, dir: &Path, cpus: &str) -> Running {
    let binary = server.binary(dir);
    let mut child = pinned(cpus, &binary)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !line.starts_with("listening on ") {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || Instant::now() > deadline {
            panic!("{} did not report its address", binary.display());
        }
    }
    let addr = line.trim().trim_start_matches("listening on ").to_owned();
    Running { child, addr }
}

/// One run's named figures, as printed by the load generator.
type Metrics = Vec<(String, f64)>;

fn parse(line: &str) -> Metrics {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_owned(), v)))
        .collect()
}

fn get(values: &[(String, f64)], key: &str) -> f64 {
    values
        .iter()
        .find(|(k, _)| k == key)
        .map_or(0.0, |(_, v)| *v)
}

/// The load generator for `scenario` against `targets` (one address, or two to alternate).
fn loadgen(scenario: &Scenario, baseline: bool, dir: &Path, targets: &[&str]) -> Command {
    let mut cmd = pinned("1", &dir.join("loadgen"));
    let args = match (&scenario.baseline_loadgen, baseline) {
        (Some(baseline), true) => baseline,
        _ => &scenario.loadgen,
    };
    cmd.args(["--target", targets[0]]);
    if let Some(second) = targets.get(1) {
        cmd.args(["--target-b", second]);
    }
    cmd.args(args);
    cmd
}

/// A value of `--name` in `common`, or `default`.
fn common_arg(common: &[String], name: &str, default: f64) -> f64 {
    common
        .windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

/// Adds the server-side figures to one run's `values`: CPU per request (or per message) from
/// `cpu` spent over the whole run, and the server's RSS at the end.
fn add_server_figures(values: &mut Metrics, cpu: Duration, pid: u32, common: &[String]) {
    let total = get(values, "total");
    let msgs = get(values, "msgs_per_s");
    if total > 0.0 {
        values.push(("cpu_us_per_req".into(), cpu.as_secs_f64() * 1e6 / total));
    }
    if msgs > 0.0 {
        // Messages counted only in the measurement window; scale total CPU by window share.
        let window = common_arg(common, "--duration-s", 5.0);
        let warmup = common_arg(common, "--warmup-s", 1.0);
        let share = window / (window + warmup);
        values.push((
            "cpu_us_per_msg".into(),
            cpu.as_secs_f64() * share * 1e6 / (msgs * window),
        ));
    }
    values.push((
        "rss_mb".into(),
        procfs::rss_bytes(pid).unwrap_or(0) as f64 / 1e6,
    ));
}

/// One measurement of one server (`baseline`: for the right-hand column).
fn measure(
    server: Server,
    baseline: bool,
    scenario: &Scenario,
    dir: &Path,
    common: &[String],
) -> Metrics {
    let running = start(server, dir, scenario.server_cpus);
    let pid = running.child.id();
    std::thread::sleep(Duration::from_millis(300));
    let rss_before = procfs::rss_bytes(pid).unwrap_or(0);
    let cpu_before = procfs::cpu_time(pid).unwrap_or_default();
    let mut cmd = loadgen(scenario, baseline, dir, &[&running.addr]);
    if !scenario.idle {
        cmd.args(common);
    }
    let mut values = if scenario.idle {
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("loadgen");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let connections = get(&parse(&line), "connections");
        std::thread::sleep(Duration::from_secs(1));
        let rss_after = procfs::rss_bytes(pid).unwrap_or(0);
        let _ = child.wait();
        let per_conn = rss_after.saturating_sub(rss_before) as f64 / connections.max(1.0) / 1024.0;
        vec![("rss_kb_per_conn".to_owned(), per_conn)]
    } else {
        let output = cmd.output().expect("loadgen runs");
        let text = String::from_utf8_lossy(&output.stdout);
        parse(text.lines().last().unwrap_or(""))
    };
    let cpu = procfs::cpu_time(pid)
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    add_server_figures(&mut values, cpu, pid, common);
    values
}

/// One paired measurement: both servers run at once, `first` gets the load generator's first
/// slice. Returns (ours, baseline).
fn measure_pair(
    scenario: &Scenario,
    ours_first: bool,
    dir: &Path,
    common: &[String],
) -> (Metrics, Metrics) {
    let (ours, theirs) = scenario.servers;
    let order = if ours_first {
        [ours, theirs]
    } else {
        [theirs, ours]
    };
    let running = order.map(|server| start(server, dir, scenario.server_cpus));
    std::thread::sleep(Duration::from_millis(300));
    let pids = [running[0].child.id(), running[1].child.id()];
    let cpu_before = pids.map(|pid| procfs::cpu_time(pid).unwrap_or_default());
    let output = loadgen(scenario, false, dir, &[&running[0].addr, &running[1].addr])
        .args(common)
        .output()
        .expect("loadgen runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let side = |name: &str| {
        let prefix = format!("side={name} ");
        let line = text.lines().find_map(|line| line.strip_prefix(&prefix));
        parse(line.unwrap_or_else(|| {
            panic!(
                "{}: the load generator printed no `{prefix}` line ({}): {}",
                scenario.name,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        }))
    };
    let mut values = [side("a"), side("b")];
    for (i, values) in values.iter_mut().enumerate() {
        let cpu = procfs::cpu_time(pids[i])
            .unwrap_or_default()
            .saturating_sub(cpu_before[i]);
        add_server_figures(values, cpu, pids[i], common);
    }
    let [first, second] = values;
    if ours_first {
        (first, second)
    } else {
        (second, first)
    }
}

fn main() {
    let args = Args::from_env();
    if args.str("help").is_some() {
        println!(
            "usage: bench [--rounds N] [--duration-s S] [--warmup-s S] [--only NAME,NAME] [--quick] [--verbose] [--unpaired]\n\
             scenarios: {}",
            scenarios()
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return;
    }
    let quick = args.str("quick").is_some();
    let verbose = args.str("verbose").is_some();
    let unpaired = args.str("unpaired").is_some();
    let rounds: usize = args.get("rounds", if quick { 1 } else { 5 });
    let duration: f64 = args.get("duration-s", if quick { 2.0 } else { 5.0 });
    let warmup: f64 = args.get("warmup-s", if quick { 0.5 } else { 1.0 });
    let only: Vec<String> = args
        .str("only")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let known: Vec<&str> = scenarios().iter().map(|s| s.name).collect();
    if let Some(unknown) = only.iter().find(|o| !known.contains(&o.as_str())) {
        eprintln!("unknown scenario {unknown:?}; known: {}", known.join(", "));
        std::process::exit(2);
    }
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .expect("binary directory");
    let common = vec![
        "--duration-s".to_owned(),
        duration.to_string(),
        "--warmup-s".to_owned(),
        warmup.to_string(),
    ];
    println!(
        "# {rounds} round(s), {duration} s per run after {warmup} s warm-up; server on CPU 0, load on CPU 1\n"
    );
    println!(
        "| scenario | metric | ours | baseline | ours/baseline (median of rounds) | ours won |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for scenario in scenarios() {
        if !only.is_empty() && !only.iter().any(|o| o == scenario.name) {
            continue;
        }
        if [scenario.servers.0, scenario.servers.1]
            .iter()
            .any(|s| !s.binary(&dir).exists())
        {
            println!(
                "| {} | (skipped: server binary missing) | | | | |",
                scenario.name
            );
            continue;
        }
        let (ours, theirs) = scenario.servers;
        let mut samples: Vec<(Metrics, Metrics)> = Vec::new();
        for round in 0..rounds {
            if scenario.paired && !unpaired {
                samples.push(measure_pair(&scenario, round % 2 == 0, &dir, &common));
                continue;
            }
            // By column, not by server: a noise scenario runs the same server in both.
            let order = if round % 2 == 0 {
                [(true, ours), (false, theirs)]
            } else {
                [(false, theirs), (true, ours)]
            };
            let mut a = Vec::new();
            let mut b = Vec::new();
            for (is_ours, server) in order {
                let values = measure(server, !is_ours, &scenario, &dir, &common);
                if is_ours {
                    a = values;
                } else {
                    b = values;
                }
            }
            samples.push((a, b));
        }
        for &(metric, better) in scenario.metrics {
            let mut ours_v: Vec<f64> = samples.iter().map(|(a, _)| get(a, metric)).collect();
            let mut theirs_v: Vec<f64> = samples.iter().map(|(_, b)| get(b, metric)).collect();
            let wins = ours_v
                .iter()
                .zip(&theirs_v)
                .filter(|(o, t)| match better {
                    Better::Lower => o < t,
                    Better::Higher => o > t,
                })
                .count();
            // The ratio within each round (the two columns measured back to back, or at
            // once when paired), then the median of those: the machine's drift between rounds
            // cancels, where a ratio of the two medians could take them from different rounds.
            let mut ratios: Vec<f64> = ours_v
                .iter()
                .zip(&theirs_v)
                .map(|(o, t)| if *t > 0.0 { o / t } else { 0.0 })
                .collect();
            let ratio = median(&mut ratios);
            let (mo, mt) = (median(&mut ours_v), median(&mut theirs_v));
            println!(
                "| {} ({} vs {}) | {metric} | {mo:.2} | {mt:.2} | {ratio:.3} | {wins}/{rounds} |",
                scenario.name,
                ours.name(),
                theirs.name(),
            );
            if verbose {
                let rounds: Vec<String> = samples
                    .iter()
                    .map(|(a, b)| format!("{:.2}/{:.2}", get(a, metric), get(b, metric)))
                    .collect();
                eprintln!(
                    "  {} {metric} by round: {}",
                    scenario.name,
                    rounds.join(" ")
                );
            }
        }
        let errors: f64 = samples
            .iter()
            .map(|(a, b)| get(a, "errors") + get(b, "errors"))
            .sum();
        if errors > 0.0 {
            println!("| {} | errors | {errors} | | | |", scenario.name);
        }
    }
}
