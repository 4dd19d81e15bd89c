#!/usr/bin/env bash
# Builds the benchmark programs in release mode and runs every scenario (see bench/README.md).
# Usage: bench/run.sh [--rounds 5] [--duration-s 5] [--warmup-s 1] [--only a,b] [--quick]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -p bench --bins --examples
exec target/release/bench "$@"
