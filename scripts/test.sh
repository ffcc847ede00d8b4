#!/usr/bin/env bash
# Runs the whole test suite: the doc tests, then every crate's unit and integration tests, the
# example experiments and the compile-fail UI tests (cargo nextest, one process per test).
set -euo pipefail
cd "$(dirname "$0")/.."
# moto's server for the EC2 tests, installed once up front rather than by the first tests at once.
bash scripts/moto.sh install
cargo test --workspace --all-features --doc
cargo nextest run --workspace --all-features --no-fail-fast "$@"
