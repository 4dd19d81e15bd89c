//! Load generator for the benchmarks. Speaks Triple over raw HTTP/2 (`h2`, no framework, so
//! it is cheap enough for one core to out-run one server core) and Dubbo2 over TCP.
//!
//! ```text
//! loadgen --target 127.0.0.1:PORT --mode unary|rate|stream|pingpong|idle [--protocol triple|dubbo2]
//!         [--connections M] [--concurrency N] [--duration-s D] [--warmup-s W]
//!         [--payload BYTES] [--rate R] [--arrivals poisson|fixed] [--stream-count K]
//!         [--idle N] [--hold-s S] [--target-b 127.0.0.1:PORT --slice-ms MS]
//! ```
//!
//! Prints one line of `key=value` results, e.g.
//! `total=… qps=… p50_us=… p90_us=… p99_us=… p999_us=… errors=…`; in `rate` mode with
//! `--target-b`, one line per target, starting `side=a` and `side=b`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench::args::Args;
use bench::proto::HelloRequest;
use bench::stats::Latencies;
use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use prost::Message as _;

mod dubbo2_load;

const USAGE: &str =
    "usage: loadgen --target 127.0.0.1:PORT [--mode unary|rate|stream|pingpong|idle]
        [--protocol triple|dubbo2] [--connections M] [--concurrency N] [--duration-s D]
        [--warmup-s W] [--payload BYTES] [--rate R] [--arrivals poisson|fixed]
        [--stream-count K] [--idle N] [--hold-s S] [--target-b 127.0.0.1:PORT --slice-ms MS]";

const PATH_UNARY: &str = "/org.apache.dubbo.sample.Greeter/SayHello";
const PATH_STREAM: &str = "/org.apache.dubbo.sample.Greeter/SayHelloServerStream";
const PATH_BIDI: &str = "/org.apache.dubbo.sample.Greeter/SayHelloBidi";

/// Shared run state: when measurement starts and stops, and the counters.
pub(crate) struct Run {
    measure_from: Instant,
    stop_at: Instant,
    stop: AtomicBool,
    pub(crate) total: AtomicU64,
    pub(crate) errors: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl Run {
    fn new(warmup: Duration, duration: Duration) -> Arc<Run> {
        let now = Instant::now();
        Arc::new(Run {
            measure_from: now + warmup,
            stop_at: now + warmup + duration,
            stop: AtomicBool::new(false),
            total: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        })
    }

    pub(crate) fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && Instant::now() < self.stop_at
    }

    pub(crate) fn measuring(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.stop_at
    }
}

fn grpc_frame(message: &HelloRequest) -> Bytes {
    let mut buf = BytesMut::with_capacity(5 + message.encoded_len());
    buf.put_u8(0);
    buf.put_u32(message.encoded_len() as u32);
    message.encode(&mut buf).expect("encoding into BytesMut");
    buf.freeze()
}

struct Template {
    uri: Uri,
    headers: HeaderMap,
}

impl Template {
    fn new(target: &str, path: &str) -> Template {
        let uri: Uri = format!("http://{target}{path}").parse().expect("uri");
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("te", HeaderValue::from_static("trailers"));
        Template { uri, headers }
    }

    fn request(&self) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

async fn connect(target: &str) -> SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(target)
        .await
        .expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(2 * 1024 * 1024)
        .initial_connection_window_size(4 * 1024 * 1024)
        .handshake::<_, Bytes>(tcp)
        .await
        .expect("HTTP/2 handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// One unary call; `Ok(())` when the server answered grpc-status 0.
async fn unary_call(
    client: &mut SendRequest<Bytes>,
    template: &Template,
    body: &Bytes,
) -> Result<usize, ()> {
    let ready = client.clone().ready().await.map_err(drop)?;
    *client = ready;
    let (response, mut send) = client
        .send_request(template.request(), false)
        .map_err(drop)?;
    send.send_data(body.clone(), true).map_err(drop)?;
    let response = response.await.map_err(drop)?;
    let mut recv = response.into_body();
    let mut received = 0;
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.map_err(drop)?;
        received += chunk.len();
        let _ = recv.flow_control().release_capacity(chunk.len());
    }
    let trailers = recv.trailers().await.map_err(drop)?;
    match trailers.as_ref().and_then(|t| t.get("grpc-status")) {
        Some(v) if v == "0" => Ok(received),
        _ => Err(()),
    }
}

async fn closed_loop(args: &Args, run: Arc<Run>) -> Latencies {
    let target = args.require("target").to_owned();
    let connections: usize = args.get("connections", 1);
    let concurrency: usize = args.get("concurrency", 1);
    let payload: usize = args.get("payload", 0);
    let body = grpc_frame(&HelloRequest {
        name: String::new(),
        count: 0,
        payload: vec![b'x'; payload],
    });
    let template = Arc::new(Template::new(&target, PATH_UNARY));
    let mut clients = Vec::new();
    for _ in 0..connections.max(1) {
        clients.push(connect(&target).await);
    }
    let mut tasks = Vec::new();
    for i in 0..concurrency.max(1) {
        let mut client = clients[i % clients.len()].clone();
        let template = Arc::clone(&template);
        let body = body.clone();
        let run = Arc::clone(&run);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            while run.running() {
                let started = Instant::now();
                let result = unary_call(&mut client, &template, &body).await;
                let done = Instant::now();
                run.total.fetch_add(1, Ordering::Relaxed);
                match result {
                    Ok(_) if run.measuring(started) => {
                        latencies.record(done - started);
                    }
                    Ok(_) => {}
                    Err(()) => {
                        run.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Latencies::default();
    for t in tasks {
        all.merge(t.await.unwrap_or_default());
    }
    all
}

/// What one open-loop target saw.
#[derive(Default)]
struct Side {
    total: u64,
    errors: u64,
    latencies: Latencies,
}

/// Open loop: requests start on a schedule whether or not earlier ones finished, and latency
/// counts from the scheduled start (no coordinated omission). Arrivals are a Poisson process
/// at `--rate` (exponential gaps from a fixed seed, so every run offers the same schedule),
/// as independent clients produce; `--arrivals fixed` spaces them evenly instead.
///
/// With `--target-b` the schedule alternates between two servers in slices of `--slice-ms`
/// (A, B, A, …), each on its own connections, and each gets its own results: a drift in the
/// machine's speed then lands on both alike instead of on whichever ran in the slower second.
async fn open_loop(args: &Args, run: Arc<Run>) -> Vec<Side> {
    let mut targets = vec![args.require("target").to_owned()];
    targets.extend(args.str("target-b").map(str::to_owned));
    let slice = Duration::from_millis(args.get("slice-ms", 100)).max(Duration::from_millis(1));
    let connections: usize = args.get("connections", 4).max(1);
    let rate: f64 = args.get("rate", 10_000.0);
    let payload: usize = args.get("payload", 0);
    let body = grpc_frame(&HelloRequest {
        name: String::new(),
        count: 0,
        payload: vec![b'x'; payload],
    });
    let mut templates = Vec::new();
    let mut clients = Vec::new();
    for target in &targets {
        templates.push(Arc::new(Template::new(target, PATH_UNARY)));
        let mut own = Vec::new();
        for _ in 0..connections {
            own.push(connect(target).await);
        }
        clients.push(own);
    }
    let mean_gap = 1.0 / rate.max(1.0);
    let poisson = args.str("arrivals").unwrap_or("poisson") != "fixed";
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(usize, Result<Option<Duration>, ()>)>();
    let start = Instant::now();
    let mut offset = 0.0f64;
    let mut n: u64 = 0;
    while run.running() {
        let scheduled = start + Duration::from_secs_f64(offset);
        offset += if poisson {
            // xorshift64*, then an exponential gap: -ln(U) * mean, U in (0, 1].
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            let bits = rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
            let u = (bits as f64 + 1.0) / (1u64 << 53) as f64;
            -u.ln() * mean_gap
        } else {
            mean_gap
        };
        pace(scheduled).await;
        let side = ((scheduled - start).as_nanos() / slice.as_nanos()) as usize % targets.len();
        let own = &clients[side];
        let mut client = own[(n as usize) % own.len()].clone();
        let template = Arc::clone(&templates[side]);
        let body = body.clone();
        let run2 = Arc::clone(&run);
        let tx = tx.clone();
        tokio::spawn(async move {
            let result = unary_call(&mut client, &template, &body).await;
            let done = Instant::now();
            let sample = result.map(|_| run2.measuring(scheduled).then(|| done - scheduled));
            let _ = tx.send((side, sample));
        });
        n += 1;
    }
    drop(tx);
    let mut sides: Vec<Side> = targets.iter().map(|_| Side::default()).collect();
    let drain = async {
        while let Some((side, sample)) = rx.recv().await {
            let side = &mut sides[side];
            side.total += 1;
            match sample {
                Ok(Some(latency)) => side.latencies.record(latency),
                Ok(None) => {}
                Err(()) => side.errors += 1,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), drain).await;
    sides
}

/// Waits until `at` precisely: tokio's timer has millisecond granularity, which would send
/// an open-loop rate in 1 ms bursts and add up to a millisecond to every latency. Sleeps
/// to just before `at`, then yields (letting responses be read) until it is reached. The
/// load generator has its own core, so the spinning costs the measured server nothing.
async fn pace(at: Instant) {
    let now = Instant::now();
    if at > now + Duration::from_millis(2) {
        tokio::time::sleep_until((at - Duration::from_millis(2)).into()).await;
    }
    while Instant::now() < at {
        tokio::task::yield_now().await;
    }
}

/// Server streaming: each stream asks for `stream-count` replies of `payload` bytes.
async fn streaming(args: &Args, run: Arc<Run>) -> Latencies {
    let target = args.require("target").to_owned();
    let connections: usize = args.get("connections", 1);
    let concurrency: usize = args.get("concurrency", 1);
    let payload: usize = args.get("payload", 1024);
    let count: i32 = args.get("stream-count", 1000);
    let body = grpc_frame(&HelloRequest {
        name: String::new(),
        count,
        payload: vec![b'x'; payload],
    });
    let template = Arc::new(Template::new(&target, PATH_STREAM));
    let mut clients = Vec::new();
    for _ in 0..connections.max(1) {
        clients.push(connect(&target).await);
    }
    let mut tasks = Vec::new();
    for i in 0..concurrency.max(1) {
        let mut client = clients[i % clients.len()].clone();
        let template = Arc::clone(&template);
        let body = body.clone();
        let run = Arc::clone(&run);
        let reply_frame = 5 + bench::proto::HelloReply {
            message: String::new(),
            payload: vec![0; payload],
        }
        .encoded_len() as u64;
        tasks.push(tokio::spawn(async move {
            while run.running() {
                let before = Instant::now();
                match unary_call(&mut client, &template, &body).await {
                    Ok(received) => {
                        run.total.fetch_add(1, Ordering::Relaxed);
                        if run.measuring(before) {
                            let messages = received as u64 / reply_frame.max(1);
                            run.messages.fetch_add(messages, Ordering::Relaxed);
                            run.bytes.fetch_add(received as u64, Ordering::Relaxed);
                        }
                    }
                    Err(()) => {
                        run.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Latencies::default()
}

/// Bidi ping-pong: each stream sends one message and waits for its echo, repeatedly.
async fn ping_pong(args: &Args, run: Arc<Run>) -> Latencies {
    let target = args.require("target").to_owned();
    let connections: usize = args.get("connections", 1);
    let concurrency: usize = args.get("concurrency", 1);
    let payload: usize = args.get("payload", 0);
    let body = grpc_frame(&HelloRequest {
        name: String::new(),
        count: 0,
        payload: vec![b'x'; payload],
    });
    let template = Arc::new(Template::new(&target, PATH_BIDI));
    let mut clients = Vec::new();
    for _ in 0..connections.max(1) {
        clients.push(connect(&target).await);
    }
    let mut tasks = Vec::new();
    for i in 0..concurrency.max(1) {
        let client = clients[i % clients.len()].clone();
        let template = Arc::clone(&template);
        let body = body.clone();
        let run = Arc::clone(&run);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let Ok(mut client) = client.ready().await else {
                return latencies;
            };
            let Ok((response, mut send)) = client.send_request(template.request(), false) else {
                return latencies;
            };
            // The first message makes servers that wait for it send their headers.
            if send.send_data(body.clone(), false).is_err() {
                return latencies;
            }
            let Ok(response) = response.await else {
                return latencies;
            };
            let mut recv = response.into_body();
            let mut pending = 0usize;
            let mut started = Instant::now();
            let frame_len = body.len();
            loop {
                match recv.data().await {
                    Some(Ok(chunk)) => {
                        let _ = recv.flow_control().release_capacity(chunk.len());
                        pending += chunk.len();
                        while pending >= frame_len {
                            pending -= frame_len;
                            let done = Instant::now();
                            run.total.fetch_add(1, Ordering::Relaxed);
                            if run.measuring(started) {
                                latencies.record(done - started);
                            }
                            if !run.running() {
                                let _ = send.send_data(Bytes::new(), true);
                                return latencies;
                            }
                            started = Instant::now();
                            if send.send_data(body.clone(), false).is_err() {
                                run.errors.fetch_add(1, Ordering::Relaxed);
                                return latencies;
                            }
                        }
                    }
                    _ => {
                        run.errors.fetch_add(1, Ordering::Relaxed);
                        return latencies;
                    }
                }
            }
        }));
    }
    let mut all = Latencies::default();
    for t in tasks {
        all.merge(t.await.unwrap_or_default());
    }
    all
}

/// Opens `idle` HTTP/2 connections (handshake and one PING each), says `ready`, holds them for
/// `hold-s` seconds.
async fn idle(args: &Args) {
    let target = args.require("target").to_owned();
    let count: usize = args.get("idle", 10_000);
    let hold = Duration::from_secs(args.get("hold-s", 5));
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let tcp = match tokio::net::TcpStream::connect(&target).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("connection {i} failed: {e}");
                std::process::exit(1);
            }
        };
        let (client, mut connection) = h2::client::handshake(tcp).await.expect("handshake");
        let mut ping = connection.ping_pong().expect("ping handle");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let _ = tokio::time::timeout(Duration::from_secs(5), ping.ping(h2::Ping::opaque())).await;
        held.push((client, ping));
    }
    println!("ready connections={count}");
    tokio::time::sleep(hold).await;
    println!("done");
}

fn main() {
    let args = Args::from_env();
    if args.str("help").is_some() {
        println!("{USAGE}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mode = args.str("mode").unwrap_or("unary").to_owned();
        if mode == "idle" {
            idle(&args).await;
            return;
        }
        let warmup = Duration::from_secs_f64(args.get("warmup-s", 1.0));
        let duration = Duration::from_secs_f64(args.get("duration-s", 5.0));
        let run = Run::new(warmup, duration);
        let protocol = args.str("protocol").unwrap_or("triple").to_owned();
        let seconds = duration.as_secs_f64();
        if (protocol.as_str(), mode.as_str()) == ("triple", "rate") {
            let sides = open_loop(&args, Arc::clone(&run)).await;
            // Each of two alternating targets had the load for half the window: its qps is
            // the rate it served while it had the load, as with one target.
            let share = seconds / sides.len() as f64;
            let paired = sides.len() > 1;
            for (side, name) in sides.into_iter().zip(["a", "b"]) {
                let label = paired.then_some(name);
                report(label, side.total, side.errors, side.latencies, share, 0, 0);
            }
            return;
        }
        let latencies = match (protocol.as_str(), mode.as_str()) {
            ("triple", "unary") => closed_loop(&args, Arc::clone(&run)).await,
            ("triple", "stream") => streaming(&args, Arc::clone(&run)).await,
            ("triple", "pingpong") => ping_pong(&args, Arc::clone(&run)).await,
            ("dubbo2", "unary") => dubbo2_load::closed_loop(&args, Arc::clone(&run)).await,
            (p, m) => {
                eprintln!("unsupported --protocol {p} --mode {m}");
                std::process::exit(2);
            }
        };
        report(
            None,
            run.total.load(Ordering::Relaxed),
            run.errors.load(Ordering::Relaxed),
            latencies,
            seconds,
            run.messages.load(Ordering::Relaxed),
            run.bytes.load(Ordering::Relaxed),
        );
    });
}

/// Prints one result line (`side=a|b` first when two targets alternated).
fn report(
    side: Option<&str>,
    total: u64,
    errors: u64,
    mut latencies: Latencies,
    seconds: f64,
    messages: u64,
    bytes: u64,
) {
    let measured = latencies.len() as f64;
    let [p50, p90, p99, p999] = latencies.percentiles(&[50.0, 90.0, 99.0, 99.9])[..] else {
        unreachable_percentiles()
    };
    let side = side.map(|s| format!("side={s} ")).unwrap_or_default();
    println!(
        "{side}total={total} qps={:.0} p50_us={p50:.2} p90_us={p90:.2} p99_us={p99:.2} p999_us={p999:.2} errors={errors} msgs_per_s={:.0} mb_per_s={:.2}",
        measured / seconds,
        messages as f64 / seconds,
        bytes as f64 / seconds / 1e6,
    );
}

fn unreachable_percentiles() -> ! {
    eprintln!("percentile computation returned the wrong number of values");
    std::process::exit(3)
}
