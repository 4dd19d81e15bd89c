#!/usr/bin/env bash
# Installs ZooKeeper from Debian packages when it is missing (needs root, as in CI).
# Idempotent and safe to run concurrently (flock). Prints the ZooKeeper jar directory.
set -euo pipefail

die() { echo "install-zookeeper: $*" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$root/.zookeeper-install.lock"

installed() {
    [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1
}

if ! installed; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ZooKeeper 3.x yourself"
    exec 9>"$lock"
    flock -w 900 9 || die "timed out waiting for $lock"
    if ! installed; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot apt-get install zookeeper"
            sudo="sudo"
        fi
        echo "install-zookeeper: apt-get update && apt-get install zookeeper" >&2
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
            || die "apt-get update failed"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper >&2 \
            || die "apt-get install zookeeper failed"
        # The package starts nothing by itself on a container; make sure no system
        # instance holds port 2181 for us (tests use their own ports anyway).
    fi
    exec 9>&-
fi
installed || die "zookeeper.jar still missing after installation"
echo /usr/share/java
