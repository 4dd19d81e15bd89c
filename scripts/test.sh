#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine, installing what the interop tests need:
#   - Python peers (grpcio) into .venv in the checkout (scripts/setup-python-venv.sh)
#   - Node peers (sofa-rpc-node, dubbo-remoting) into interop/node/node_modules
#     (scripts/setup-node.sh, from the committed package-lock.json)
#   - ZooKeeper from Debian packages when missing (scripts/install-zookeeper.sh); tests start
#     their own servers on free loopback ports with temporary data directories
# Then every Rust test in the workspace (unit, integration, interop, doc tests).
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null || { echo "test.sh: cargo is required" >&2; exit 1; }

step "Python interop peers (.venv)"
scripts/setup-python-venv.sh >/dev/null

step "Node interop peers (interop/node)"
scripts/setup-node.sh >/dev/null

step "ZooKeeper (Debian package)"
scripts/install-zookeeper.sh >/dev/null

step "Building"
cargo build --workspace --all-targets --locked

step "Tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
    step "Doc tests"
    cargo test --workspace --doc --locked "$@"
else
    cargo test --workspace --locked --no-fail-fast "$@"
fi
step "All tests passed"
