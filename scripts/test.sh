#!/usr/bin/env bash
# Runs the whole test suite: every crate's unit and integration tests, the example experiments,
# the compile-fail UI tests (cargo nextest, one process per test) and the doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --workspace --all-features --no-fail-fast "$@"
cargo test --workspace --all-features --doc
