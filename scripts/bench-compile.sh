#!/usr/bin/env bash
# FIGURE 4: the compile cost of #[experiment].
#
# SLOW: the first run builds the whole dependency tree (tokio, reqwest, rustls with aws-lc, ...)
# from scratch in its own target directory, several minutes on two cores; later runs reuse it and
# take about a minute or two.
#
# Usage: scripts/bench-compile.sh            (BENCH_ROUNDS=N for N rounds, default 3)
#
# Generates throwaway crates under target/bench-compile-src/ that depend on chaos-harness by path,
# each with one `harness = false` test target holding 100 hello-world-sized experiments (an HTTP
# probe with a timeout and a tolerance, a process action, a pause and a rollback), and builds them
# with CARGO_TARGET_DIR=target/bench-compile: nothing is shared with the workspace's own build,
# and that build is not disturbed (no `cargo clean` anywhere). Per round:
#   (a) the first build of the test target, after its dependencies and its (empty) library are
#       built (`cargo build --test chaos`, dev profile, as `cargo test` builds it);
#   (b) incremental rebuilds after changing a string literal in one experiment (2 per round).
# Then the expansion: `cargo rustc --test chaos -- -Zunpretty=expanded` (RUSTC_BOOTSTRAP) on one
# crate, and the expanded lines per experiment: the lines from each generated `fn eNNN` to the
# next (the builder fn and its inventory submission), and (total expanded - source) / 100.
# Reports medians; asserts no timing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
rounds="${BENCH_ROUNDS:-3}"
count=100
export CARGO_TARGET_DIR="$root/target/bench-compile"
export CARGO_TERM_COLOR=never
src="$root/target/bench-compile-src"
mkdir -p "$src" "$CARGO_TARGET_DIR"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
offline=--offline

# The experiment file: $count experiments; experiment 050's echo argument is "$1".
experiments() {
    local edited="$1"
    echo "//! $count generated experiments for scripts/bench-compile.sh."
    echo
    echo "use chaos_harness::prelude::*;"
    echo
    for i in $(seq -f '%03g' 0 $((count - 1))); do
        local arg="hello $i"
        [[ "$i" == 050 ]] && arg="$edited"
        cat <<EOF
#[experiment(title = "experiment $i: the service stays up while we echo", tags = ["bench"])]
async fn e$i(cx: &Context) {
    steady_state! {
        probe "service answers 200" [timeout = 3s] {
            http::get(cx.var("service_url")?).await?.status()
        } => == 200;
    }
    method! {
        action "say hello" { process::run("echo").arg("$arg").check().await? };
        pause 10ms;
    }
    rollback! {
        action "say goodbye" { process::run("echo").arg("goodbye").await? };
    }
}

EOF
    done
    echo "chaos_harness::main!();"
}

# A fresh crate named compile-bench-<tag> in $src/<tag>.
new_crate() {
    local dir="$src/$1"
    rm -rf "$dir"
    mkdir -p "$dir/src" "$dir/tests"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "compile-bench-$1"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

# A normal dependency, so that building the (empty) library builds it and everything below it.
[dependencies]
chaos-harness = { path = "$root/chaos-harness" }

[[test]]
name = "chaos"
path = "tests/chaos.rs"
harness = false
EOF
    echo "//! Empty: the experiments are in tests/chaos.rs." >"$dir/src/lib.rs"
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
    echo "$dir"
}

cargo_in() {
    local dir="$1"
    shift
    (cd "$dir" && cargo "$@" $offline)
}

# Times `cargo build --test chaos` in crate $1; prints the seconds. Warns when something besides
# the crate itself was compiled (someone edited chaos-harness meanwhile: that sample is off).
timed_build() {
    local dir="$1" t0 t1 log="$1/build.log"
    t0=$(now)
    cargo_in "$dir" build --test chaos 2>"$log" || { cat "$log" >&2; exit 1; }
    t1=$(now)
    if grep '^ *Compiling' "$log" | grep -qv 'compile-bench-'; then
        echo "warning: this build also compiled: $(grep '^ *Compiling' "$log" | grep -v 'compile-bench-' | sed 's/^ *Compiling //' | tr '\n' ' ')" >&2
    fi
    elapsed "$t0" "$t1"
}

echo "== FIGURE 4: compile cost of $count #[experiment]s (target dir $CARGO_TARGET_DIR) =="
first=()
incr=()
for r in $(seq 1 "$rounds"); do
    dir="$(new_crate "r$r")"
    experiments "hello 050" >"$dir/tests/chaos.rs"
    t0=$(now)
    if ! cargo_in "$dir" build -q --lib 2>"$dir/deps.log"; then
        # No offline copy of some dependency: let cargo fetch it.
        offline=
        cargo_in "$dir" build -q --lib 2>"$dir/deps.log" || { cat "$dir/deps.log"; exit 1; }
    fi
    echo "round $r: dependencies and empty lib ready in $(elapsed "$t0" "$(now)") s"
    a=$(timed_build "$dir")
    first+=("$a")
    line="round $r: (a) first build of the test target: $a s; (b) after editing one literal:"
    for e in 1 2; do
        experiments "hello 050 edit $r.$e" >"$dir/tests/chaos.rs"
        b=$(timed_build "$dir")
        incr+=("$b")
        line="$line $b s"
    done
    echo "$line"
done

# The expansion, on round 1's crate (dev profile, as built above).
dir="$src/r1"
experiments "hello 050" >"$dir/tests/chaos.rs"
expanded="$dir/expanded.rs"
(cd "$dir" && RUSTC_BOOTSTRAP=1 cargo rustc -q $offline --test chaos -- -Zunpretty=expanded) >"$expanded"
source_lines=$(wc -l <"$dir/tests/chaos.rs")
expanded_lines=$(wc -l <"$expanded")
# Expanded lines of each experiment (rustc's pretty-printer lines, blank ones not counted): from
# the line declaring `fn eNNN` to the line before the next one (the last runs to `fn main`),
# split into the builder fn and its inventory submission (from `#[allow(non_upper_case_globals)]`).
awk '
    function flush() { if (cur) print fn_lines, submit_lines }
    /^(pub )?fn e[0-9][0-9][0-9]\(/ { flush(); cur = 1; fn_lines = 0; submit_lines = 0; in_submit = 0 }
    /^fn main\(/ { flush(); cur = 0; exit }
    cur && /^#\[allow\(non_upper_case_globals\)\]/ { in_submit = 1 }
    cur && NF > 0 { if (in_submit) submit_lines++; else fn_lines++ }
' "$expanded" >"$dir/per-experiment.txt"
segments=$(wc -l <"$dir/per-experiment.txt")
per_fn=$(awk '{ print $1 }' "$dir/per-experiment.txt" | median)
per_submit=$(awk '{ print $2 }' "$dir/per-experiment.txt" | median)
per_total=$(awk '{ print $1 + $2 }' "$dir/per-experiment.txt" | median)
per_max=$(awk '{ print $1 + $2 }' "$dir/per-experiment.txt" | sort -g | tail -1)
exp_sum=$(awk '{ s += $1 + $2 } END { print s }' "$dir/per-experiment.txt")
# Non-blank source lines of the experiments.
src_sum=$(awk '/^#\[experiment/ { on = 1 } /^chaos_harness::main/ { on = 0 } on && NF > 0 { c++ } END { print c }' "$dir/tests/chaos.rs")
per_source=$(awk -v s="$src_sum" -v c="$count" 'BEGIN { printf "%g", s / c }')
per_diff=$(awk -v e="$exp_sum" -v s="$src_sum" -v c="$count" 'BEGIN { printf "%.1f", (e - s) / c }')
ratio=$(awk -v e="$exp_sum" -v s="$src_sum" 'BEGIN { printf "%.1f", e / s }')

a_med=$(printf '%s\n' "${first[@]}" | median)
b_med=$(printf '%s\n' "${incr[@]}" | median)
echo "rounds: $rounds; (a) samples: ${first[*]} s; (b) samples: ${incr[*]} s"
echo "expansion: $expanded ($expanded_lines lines; source $source_lines lines; $segments experiments found)"
echo "per experiment, non-blank lines: source $per_source; expanded $per_total median (max $per_max) = builder fn $per_fn + inventory submit $per_submit; (expanded - source) / $count = +$per_diff (${ratio}x)"
echo "FIGURE 4: $count experiments: first build $a_med s, incremental rebuild after editing one $b_med s (medians, dev profile); $per_total expanded lines per experiment ($per_source source lines, +$per_diff)"
