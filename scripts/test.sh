#!/usr/bin/env bash
# Runs the whole test suite: the doc tests, then every crate's unit and integration tests, the
# example experiments (cargo nextest, one process per test), then the compile-fail UI tests.
#
# The UI tests run on their own without features: trybuild builds the cases in a target
# directory of its own, and with `--all-features` that would compile aws-sdk-ec2 and kube a
# second time (about ten minutes) for tests that use neither.
set -euo pipefail
cd "$(dirname "$0")/.."
# moto's server for the EC2 tests, installed once up front rather than by the first tests at once.
bash scripts/moto.sh install
bash scripts/toxiproxy-client.sh install
# Chaos Toolkit, to run the same experiment files through it and through this framework.
bash scripts/chaostoolkit.sh install
# xmllint, to check JUnit files against the schema; Chromium, to open the HTML report.
bash scripts/system-packages.sh install
if ! command -v kubectl >/dev/null && [ "${CHAOS_SKIP_KUBECTL:-}" != 1 ]; then
    echo "scripts/test.sh: kubectl is not on the PATH; the kubectl check of the simulated cluster needs it (CHAOS_SKIP_KUBECTL=1 skips it)" >&2
fi
cargo test --workspace --all-features --doc
cargo nextest run --workspace --all-features --no-fail-fast \
    -E 'not (package(chaos-harness) and binary(ui))' "$@"
cargo nextest run -p chaos-harness --test ui --no-fail-fast
