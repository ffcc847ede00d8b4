#!/usr/bin/env bash
# Creates (once) a Python venv with Chaos Toolkit and its Kubernetes and AWS extensions
# (chaosk8s, chaosaws) for the side-by-side comparisons of `cargo bench -p chaos-tests --bench
# hello`, `--bench k8s`, `--bench ctk` and `--bench ctk_corpus`, and prints the path of its
# `chaos`.
#
# Usage: scripts/bench-chaostoolkit-venv.sh [VENV_DIR]   (default: target/bench-chaostoolkit-venv)
# Exits non-zero, with a note on stderr, when python3, venv or pip cannot provide it; the bench
# then skips Chaos Toolkit.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${CARGO_TARGET_DIR:-target}/bench-chaostoolkit-venv}"
if [[ ! -x "$venv/bin/chaos" ]]; then
    command -v python3 >/dev/null || { echo "note: python3 not found" >&2; exit 1; }
    python3 -m venv "$venv" >&2 || { echo "note: python3 -m venv failed" >&2; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 2 --timeout 20 chaostoolkit >&2 \
        || { echo "note: pip install chaostoolkit failed" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c "import chaosk8s" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 2 --timeout 20 chaostoolkit-kubernetes >&2 \
        || { echo "note: pip install chaostoolkit-kubernetes failed" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c "import chaosaws" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 2 --timeout 20 chaostoolkit-aws >&2 \
        || { echo "note: pip install chaostoolkit-aws failed" >&2; exit 1; }
fi
"$venv/bin/chaos" --no-log-file --version >&2
echo "$(cd "$venv" && pwd)/bin/chaos"
