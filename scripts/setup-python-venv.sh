#!/usr/bin/env bash
# Creates .venv in the repository root and installs interop/python/requirements.txt into it.
#
# Idempotent: a stamp file (.venv/.requirements.sha256) holds the hash of the requirements
# that were installed, so a second run returns at once. Safe to run from several processes
# at once (flock on .venv.lock). Prints the venv's python path as its last stdout line.
set -euo pipefail

die() {
    echo "setup-python-venv: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/interop/python/requirements.txt"
stamp="$venv/.requirements.sha256"
lock="$root/.venv.lock"
python="${PYTHON:-python3}"

[ -f "$requirements" ] || die "missing $requirements"
command -v "$python" >/dev/null 2>&1 || die "$python not found on PATH"
command -v flock >/dev/null 2>&1 || die "flock not found (util-linux)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils)"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"

up_to_date() {
    [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

# Fast path: nothing to do, no lock needed (the stamp is written last, atomically).
if ! up_to_date; then
    exec 9>"$lock"
    # Bounded wait: a first install takes well under a minute; 10 minutes means something hangs.
    flock -w 600 9 || die "timed out waiting for $lock"
    # Another process may have finished the job while we waited.
    if ! up_to_date; then
        if [ ! -x "$venv/bin/python" ]; then
            rm -rf "$venv"
            echo "setup-python-venv: creating $venv" >&2
            "$python" -m venv "$venv" >&2 || die "'$python -m venv $venv' failed (is the venv module / python3-venv installed?)"
        fi
        rm -f "$stamp"
        echo "setup-python-venv: installing $requirements" >&2
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
            --only-binary :all: -r "$requirements" >&2 \
            || die "pip install -r $requirements failed"
        "$venv/bin/python" -c 'import grpc, grpc_tools.protoc, google.protobuf' >&2 \
            || die "installed packages do not import"
        printf '%s\n' "$want" >"$stamp.tmp.$$"
        mv -f "$stamp.tmp.$$" "$stamp"
    fi
    exec 9>&-
fi

echo "$venv/bin/python"
