#!/usr/bin/env bash
# Installs the npm peers of the Dubbo2 interop tests (interop/node: sofa-rpc-node and
# dubbo-remoting, exact versions from package-lock.json) with `npm ci`.
#
# Idempotent: a stamp file (interop/node/node_modules/.lock.sha256) holds the hash of the lock
# file that was installed, so a second run returns at once. Safe to run from several
# processes at once (flock on interop/node/.install.lock). Prints the directory holding
# node_modules as its last stdout line.
set -euo pipefail

die() {
    echo "setup-node: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/interop/node"
lockfile="$dir/package-lock.json"
modules="$dir/node_modules"
stamp="$modules/.lock.sha256"
lock="$dir/.install.lock"

[ -f "$lockfile" ] || die "missing $lockfile"
command -v node >/dev/null 2>&1 || die "node not found on PATH (install Node.js 18 or newer, e.g. apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH (e.g. apt-get install npm)"
command -v flock >/dev/null 2>&1 || die "flock not found (util-linux)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils)"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 18 ] 2>/dev/null || die "node $(node --version) is too old (need 18 or newer)"

want="$(sha256sum "$lockfile" | cut -d' ' -f1)"

up_to_date() {
    [ -d "$modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

# Fast path: nothing to do, no lock needed (the stamp is written last, atomically).
if ! up_to_date; then
    exec 9>"$lock"
    # Bounded wait: an install takes seconds; 10 minutes means something hangs.
    flock -w 600 9 || die "timed out waiting for $lock"
    if ! up_to_date; then
        echo "setup-node: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >&2) \
            || die "npm ci in $dir failed"
        (cd "$dir" && node -e 'require("sofa-rpc-node"); require("dubbo-remoting")' >&2) \
            || die "installed packages do not load"
        printf '%s\n' "$want" >"$stamp.tmp.$$"
        mv -f "$stamp.tmp.$$" "$stamp"
    fi
    exec 9>&-
fi

echo "$dir"
