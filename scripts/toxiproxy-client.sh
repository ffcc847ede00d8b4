#!/usr/bin/env bash
# Toxiproxy's Python client (toxiproxy-python, module `toxiproxy`), for the end-to-end test of
# the Toxiproxy-compatible server (tests/tests/e2e/toxiproxy_client.rs) and for trying the
# server by hand.
#
# Usage:
#   scripts/toxiproxy-client.sh install   creates (once) a Python venv with the pinned client and
#                                         prints the path of its `python` on the last line of stdout
#   scripts/toxiproxy-client.sh python    prints that path if the client is installed; exits 1
#                                         (saying to run `install`) if not
#
# Environment:
#   CHAOS_TOXIPROXY_VENV   the venv directory (default: target/toxiproxy-client-venv, relative to
#                          the repo root; target/ is $CARGO_TARGET_DIR when set)
#
# `install` is idempotent and quick once done (a stamp file records the pins; a change of the
# pins reinstalls), and safe to run from several processes at once (an exclusive lock on
# <venv>.lock while installing).
set -euo pipefail
cd "$(dirname "$0")/.."

# toxiproxy-python imports `future` and uses `requests`; both pinned for repeatable runs.
PINS=(toxiproxy-python==0.1.1 future==1.0.0 requests==2.32.3)

target="${CARGO_TARGET_DIR:-target}"
venv="${CHAOS_TOXIPROXY_VENV:-$target/toxiproxy-client-venv}"
stamp="$venv/.chaos-toxiproxy-stamp"

installed() {
    [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "${PINS[*]}" ]]
}

abs_python() {
    echo "$(cd "$venv/bin" && pwd)/python"
}

do_install() {
    if installed; then
        abs_python
        return
    fi
    command -v python3 >/dev/null || { echo "toxiproxy-client.sh: python3 not found" >&2; exit 1; }
    mkdir -p "$(dirname "$venv")"
    # Serialize concurrent first-time installs: the lock is released when this process exits.
    local lock="$venv.lock"
    if command -v flock >/dev/null; then
        exec 9>"$lock"
        flock 9
    else
        # No flock(1) (e.g. macOS): a lock directory, taken over when older than 10 minutes.
        local waited=0
        until mkdir "$lock.d" 2>/dev/null; do
            if [[ -n "$(find "$lock.d" -maxdepth 0 -mmin +10 2>/dev/null)" ]]; then
                rmdir "$lock.d" 2>/dev/null || true
                continue
            fi
            sleep 1
            waited=$((waited + 1))
            ((waited < 900)) || { echo "toxiproxy-client.sh: timed out waiting for $lock.d" >&2; exit 1; }
        done
        trap 'rmdir "$lock.d" 2>/dev/null || true' EXIT
    fi
    # Another process may have finished the install while this one waited.
    if ! installed; then
        echo "toxiproxy-client.sh: installing ${PINS[*]} into $venv" >&2
        rm -f "$stamp"
        if [[ ! -x "$venv/bin/python" ]]; then
            rm -rf "$venv"
            python3 -m venv "$venv" >&2 || { echo "toxiproxy-client.sh: python3 -m venv failed" >&2; exit 1; }
        fi
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries 2 \
            --timeout 60 "${PINS[@]}" >&2 ||
            { echo "toxiproxy-client.sh: pip install ${PINS[*]} failed" >&2; exit 1; }
        "$venv/bin/python" -c 'import toxiproxy' ||
            { echo "toxiproxy-client.sh: the venv's python cannot import toxiproxy" >&2; exit 1; }
        echo "${PINS[*]}" >"$stamp"
    fi
    abs_python
}

do_python() {
    if ! installed; then
        echo "toxiproxy-client.sh: the Toxiproxy Python client is not installed in $venv; run: bash scripts/toxiproxy-client.sh install" >&2
        exit 1
    fi
    abs_python
}

case "${1:-}" in
    install) do_install ;;
    python) do_python ;;
    *)
        echo "usage: $0 install|python" >&2
        exit 2
        ;;
esac
