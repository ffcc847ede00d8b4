#!/usr/bin/env bash
# The cold build of a new user's crate: one experiment (README's quick start) and
# `chaos-harness` with default features, built from an empty target directory with the
# registry already downloaded, as a newcomer's first `cargo test --no-run` builds it.
#
# Usage: scripts/bench-default-build.sh [REV...]
#   With no REV, measures the working tree. With REVs (for example `c778fb9 HEAD`), measures
#   each revision from a `git worktree` of its own, one after the other in this run, so the
#   figures can be compared side by side on the same machine.
#
# Prints per build: the wall time, the number of crates compiled, and whether a C TLS library
# (aws-lc-sys) or ring was compiled. SLOW: a few minutes per build on two cores. Everything it
# writes is under target/bench-default-build/ (nothing is shared with the workspace's build).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$root/target/bench-default-build"
mkdir -p "$work"
export CARGO_TERM_COLOR=never

# One build of a fresh user crate against the chaos-harness found at $1; prints one line named $2.
measure() {
    local harness="$1" name="$2"
    local crate="$work/$name/user"
    rm -rf "$work/$name"
    mkdir -p "$crate/src" "$crate/tests"
    cat >"$crate/Cargo.toml" <<EOF
[package]
name = "user"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dev-dependencies]
chaos-harness = { path = "$harness" }

[[test]]
name = "chaos"
harness = false
EOF
    : >"$crate/src/lib.rs"
    cat >"$crate/tests/chaos.rs" <<'EOF'
use chaos_harness::prelude::*;

#[experiment(title = "checkout answers while a worker is killed", timeout = 1m)]
async fn worker_loss(cx: &Context) {
    steady_state! {
        probe "checkout answers 200" [timeout = 3s] {
            http::get(cx.var("checkout_url")?).await?.status()
        } => == 200;
    }
    method! {
        action "kill one worker" { process::run("pkill").args(["-n", "worker"]).check().await? };
        pause 5s;
    }
    rollback! {
        action "restart workers" [timeout = 30s] {
            process::run("systemctl").args(["start", "workers"]).check().await?
        };
    }
}

chaos_harness::main!();
EOF
    # The workspace's lock file, so the user crate resolves the same versions offline.
    cp "$root/Cargo.lock" "$crate/Cargo.lock"
    (cd "$crate" && cargo fetch --quiet >/dev/null 2>&1 || true)
    local start end log="$work/$name/build.log"
    start=$(date +%s.%N)
    (cd "$crate" && CARGO_TARGET_DIR="$work/$name/target" cargo test --no-run --offline >"$log" 2>&1)
    end=$(date +%s.%N)
    local crates aws_lc ring
    crates=$(grep -c '^ *Compiling ' "$log" || true)
    aws_lc=$(grep -q 'Compiling aws-lc-sys' "$log" && echo yes || echo no)
    ring=$(grep -q 'Compiling ring ' "$log" && echo yes || echo no)
    awk -v n="$name" -v a="$start" -v b="$end" -v c="$crates" -v l="$aws_lc" -v r="$ring" \
        'BEGIN { printf "%-12s cold build %6.1f s  crates compiled %4d  aws-lc-sys %-3s  ring %s\n", n, b - a, c, l, r }'
}

if [ "$#" -eq 0 ]; then
    measure "$root/chaos-harness" "worktree"
else
    for rev in "$@"; do
        tree="$work/tree-$rev"
        rm -rf "$tree"
        git worktree prune
        git worktree add --detach --quiet "$tree" "$rev"
        measure "$tree/chaos-harness" "$rev"
        git worktree remove --force "$tree"
    done
fi
