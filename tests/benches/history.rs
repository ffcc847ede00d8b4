//! FIGURE (issue 13, 2): the run history's cost. Appending one run (on an open store, as a
//! `cargo test` process appends its second and later runs; and open + append, as each nextest
//! process does), and `chaos history` over 10,000 runs (50 experiments × 200 runs; the
//! release `chaos` binary, process start included), in one run on the target directory's disk.
//!
//! `cargo bench -p chaos-tests --bench history` (`CHAOS_BENCH_RUNS=N` command runs, default 20)

mod common;

use chaos_harness::history::{Run, Store};
use common::{median, ms, percentile, run_measured, runs, target_dir};
use std::process::Command;
use std::time::Instant;

fn run(experiment: usize, i: usize) -> Run {
    Run {
        experiment: format!("suite::experiment_{experiment:02}"),
        outcome: if i.is_multiple_of(7) {
            "deviated"
        } else {
            "passed"
        }
        .into(),
        start: format!(
            "2026-12-{:02}T{:02}:{:02}:00+00:00",
            1 + i / 1440 % 28,
            i / 60 % 24,
            i % 60
        ),
        duration_ms: Some(1200 + (i % 300) as i64),
        seed: Some(i as u64 * 7919),
        findings: if i.is_multiple_of(7) {
            vec!["during the method: probe `p99` missed its tolerance (value 812)".into()]
        } else {
            vec![]
        },
        revision: Some(format!("rev{}", i / 20)),
        journal: Some(format!("/ci/journals/suite__experiment_{experiment:02}.json").into()),
        probes: 4,
        probes_met: if i.is_multiple_of(7) { 3 } else { 4 },
        recovery_ms: i.is_multiple_of(5).then_some(2300),
        weight: 1 + (experiment % 10) as i64,
        source: "chaos-harness".into(),
    }
}

fn main() {
    let dir = tempfile::tempdir_in(target_dir()).expect("a temporary directory on the target disk");
    // Append on an open store.
    let path = dir.path().join("append.sqlite");
    let mut store = Store::open(&path).expect("open");
    let mut appends = Vec::new();
    for i in 0..2000 {
        let r = run(i % 50, i);
        let t = Instant::now();
        store.append(&r).expect("append");
        appends.push(ms(t.elapsed()));
    }
    drop(store);
    // Open + append, as one nextest process per experiment does.
    let mut opens = Vec::new();
    for i in 0..300 {
        let r = run(i % 50, i);
        let t = Instant::now();
        let mut s = Store::open(&path).expect("open");
        s.append(&r).expect("append");
        opens.push(ms(t.elapsed()));
    }
    // The command over 10,000 runs.
    let big = dir.path().join("big.sqlite");
    let mut store = Store::open(&big).expect("open");
    for i in 0..10_000 {
        store.append(&run(i % 50, i)).expect("append");
    }
    drop(store);
    let chaos = common::chaos_binary(true, "");
    let mut commands = Vec::new();
    let mut in_process = Vec::new();
    for _ in 0..runs(20) {
        let m = run_measured(
            Command::new(&chaos).args(["history", "--db"]).arg(&big),
            dir.path(),
        );
        assert_eq!(m.code, Some(0), "{}", m.output());
        assert!(m.stdout.contains("10000 run(s)"), "{}", m.output());
        commands.push(ms(m.wall));
        let t = Instant::now();
        let runs = Store::open(&big).expect("open").runs(None).expect("runs");
        let s = chaos_harness::history::summarize(&runs, 10);
        assert_eq!(s.len(), 50);
        in_process.push(ms(t.elapsed()));
    }
    println!();
    println!("== FIGURE (issue 13, 2): the run history, on the target directory's disk ==");
    println!(
        "append one run, store open:          median {:.3} ms, p99 {:.3} ms ({} appends)",
        median(&appends),
        percentile(&appends, 99.0),
        appends.len()
    );
    println!(
        "open + append (a nextest process):   median {:.3} ms, p99 {:.3} ms ({} runs)",
        median(&opens),
        percentile(&opens, 99.0),
        opens.len()
    );
    println!(
        "`chaos history` over 10,000 runs:    median {:.1} ms, worst {:.1} ms ({} runs, process start included)",
        median(&commands),
        common::max(&commands),
        commands.len()
    );
    println!(
        "  of which read + summarize in-process: median {:.1} ms",
        median(&in_process)
    );
}
