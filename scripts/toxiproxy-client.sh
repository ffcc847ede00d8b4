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

# shellcheck source=lib/venv.sh
source scripts/lib/venv.sh

installed() {
    venv_pinned "$venv" "$stamp" "${PINS[@]}"
}

abs_python() {
    echo "$(cd "$venv/bin" && pwd)/python"
}

do_install() {
    if ! installed; then
        venv_install toxiproxy-client.sh "$venv" "$stamp" "${PINS[@]}"
        "$venv/bin/python" -c 'import toxiproxy' ||
            { echo "toxiproxy-client.sh: the venv's python cannot import toxiproxy" >&2; exit 1; }
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
