#!/usr/bin/env bash
# Where the time of one open-loop request goes, from kernel tracepoints (needs root and `perf`,
# Debian package linux-perf). For each server in turn: start it on CPU 0, drive it from CPU 1
# at a fixed rate, record system calls of both sides for 2 s, and split each request into
#   wake:   load generator's writev (the request) -> the server's epoll_wait returns
#   server: the server's epoll_wait returns -> its send/writev (the response)
#   client: the server's send/writev -> the load generator's recvfrom returns
# Tracing adds about a microsecond to every system call, so compare servers with each other,
# not with the latencies `bench` prints.
#
# Usage: bench/latency-breakdown.sh [--rate 10000] [--rounds 2]
# Run after `bench/run.sh` (or `cargo build --release -p bench --bins --examples`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rate=10000
rounds=2
while [ $# -gt 0 ]; do
    case "$1" in
    --rate) rate=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--rate N] [--rounds N]" >&2; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }
bin=target/release
for b in $bin/bench-triple-server $bin/examples/tonic-server $bin/examples/h2-floor-server $bin/loadgen; do
    [ -x "$b" ] || { echo "$b missing: cargo build --release -p bench --bins --examples" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one() {
    local server=$1
    taskset -c 0 "$server" --addr 127.0.0.1:0 >"$work/addr" 2>/dev/null &
    local pid=$!
    for _ in $(seq 1 50); do grep -q listening "$work/addr" 2>/dev/null && break; sleep 0.1; done
    local addr
    addr=$(head -1 "$work/addr" | sed 's/listening on //')
    taskset -c 1 "$bin/loadgen" --target "$addr" --mode rate --connections 4 --rate "$rate" \
        --duration-s 5 --warmup-s 1 >"$work/load" &
    local load=$!
    sleep 2
    perf record -q -a -o "$work/perf.data" \
        -e syscalls:sys_enter_sendto,syscalls:sys_enter_writev \
        -e syscalls:sys_exit_epoll_wait,syscalls:sys_exit_recvfrom -- sleep 2 2>/dev/null
    wait "$load"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    perf script -i "$work/perf.data" -F pid,time,event --ns 2>/dev/null >"$work/events"
    printf '%-16s %s\n' "$(basename "$server")" "$(sed 's/ msgs_per_s.*//' "$work/load")"
    python3 - "$pid" "$load" "$work/events" <<'EOF'
import bisect, re, sys

server, client = int(sys.argv[1]), int(sys.argv[2])
events = []
for line in open(sys.argv[3]):
    m = re.match(r"\s*(\d+)\s+([\d.]+):\s+syscalls:(\w+):", line)
    if m:
        events.append((float(m.group(2)) * 1e6, int(m.group(1)), m.group(3)))
srv = [e for e in events if e[1] == server]
cli = [e for e in events if e[1] == client]
sends = ("sys_enter_sendto", "sys_enter_writev")
wakes = [t for t, _, e in srv if e == "sys_exit_epoll_wait"]
srv_sends = [t for t, _, e in srv if e in sends]
requests = [t for t, _, e in cli if e == "sys_enter_writev"]
replies = [t for t, _, e in cli if e == "sys_exit_recvfrom"]

def following(starts, ends, limit=2000.0):
    out = []
    for t in starts:
        i = bisect.bisect_left(ends, t)
        if i < len(ends) and ends[i] - t < limit:
            out.append(ends[i] - t)
    return out

# server: from a wake-up to the first send after it (wake-ups that send nothing are skipped)
server_times, woke = [], None
for t, _, e in srv:
    if e == "sys_exit_epoll_wait":
        woke = t
    elif e in sends and woke is not None:
        server_times.append(t - woke)
        woke = None

def show(name, values):
    values = sorted(values)
    if not values:
        print(f"  {name:<7} no samples")
        return
    n = len(values)
    print(f"  {name:<7} p50 {values[n // 2]:6.1f} us  p90 {values[int(n * 0.9)]:6.1f} us  (n={n})")

show("wake", following(requests, wakes))
show("server", server_times)
show("client", following(srv_sends, replies))
EOF
}

for round in $(seq 1 "$rounds"); do
    echo "# round $round, $rate req/s over 4 connections"
    for server in $bin/bench-triple-server $bin/examples/tonic-server $bin/examples/h2-floor-server; do
        one "$server"
    done
done
