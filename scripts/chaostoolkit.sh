#!/usr/bin/env bash
# Chaos Toolkit's `chaos` command, for the test that runs the same experiment files through it
# and through this framework (tests/tests/e2e/chaostoolkit.rs) and for comparing by hand.
#
# Usage:
#   scripts/chaostoolkit.sh install   creates (once) a Python venv with pinned chaostoolkit,
#                                     chaostoolkit-lib, chaostoolkit-kubernetes and chaostoolkit-aws
#                                     (whose functions the tests run on the simulated cluster and
#                                     on moto) and prints the path of its `chaos` on the last line
#                                     of stdout
#   scripts/chaostoolkit.sh chaos     prints that path if installed; exits 1 (saying to run
#                                     `install`) if not
#
# Environment:
#   CHAOS_CTK_VENV   the venv directory (default: target/chaostoolkit-venv, relative to the repo
#                    root; target/ is $CARGO_TARGET_DIR when set)
#
# `install` is idempotent and quick once done (a stamp file records the pins), and safe to run
# from several processes at once (an exclusive lock on <venv>.lock while installing).
set -euo pipefail
cd "$(dirname "$0")/.."

PINS=(chaostoolkit==1.19.0 chaostoolkit-lib==1.44.0 chaostoolkit-kubernetes==0.39.0 chaostoolkit-aws==0.35.1)

target="${CARGO_TARGET_DIR:-target}"
venv="${CHAOS_CTK_VENV:-$target/chaostoolkit-venv}"
stamp="$venv/.chaos-ctk-stamp"

# shellcheck source=lib/venv.sh
source scripts/lib/venv.sh

installed() {
    venv_pinned "$venv" "$stamp" "${PINS[@]}" && [[ -x "$venv/bin/chaos" ]]
}

abs_chaos() {
    echo "$(cd "$venv/bin" && pwd)/chaos"
}

do_install() {
    if ! installed; then
        venv_install chaostoolkit.sh "$venv" "$stamp" "${PINS[@]}"
        [[ -x "$venv/bin/chaos" ]] || { echo "chaostoolkit.sh: no chaos in $venv/bin" >&2; exit 1; }
    fi
    abs_chaos
}

do_chaos() {
    if ! installed; then
        echo "chaostoolkit.sh: Chaos Toolkit is not installed in $venv; run: bash scripts/chaostoolkit.sh install" >&2
        exit 1
    fi
    abs_chaos
}

case "${1:-}" in
    install) do_install ;;
    chaos) do_chaos ;;
    *)
        echo "usage: $0 install|chaos" >&2
        exit 2
        ;;
esac
