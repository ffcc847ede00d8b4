//! FIGURE (issue 11, 1): what the write-ahead ledger costs a run, measured on the disk that
//! holds the target directory (where the ledger lives by default).
//!
//! `cargo bench -p chaos-tests --bench ledger` (`CHAOS_BENCH_RUNS=N` runs, default 500).
//!
//! Each run does what a harness run does with its ledger: `begin` (the header written and
//! synced under a temporary name, renamed, the directory synced), one durable undo record and
//! its `applied` mark (the cost per action: two synced appends), the undo's outcome, and
//! `close` (a synced append, the removal, the directory synced). Then `orphans` on a ledger of
//! 100 live entries (what every harness start pays when there is nothing to recover: a
//! listing and a lock attempt per entry) and on an empty one. Medians and p99, in ms; nothing
//! asserts a timing.

mod common;

use chaos_runtime::ledger::{Header, Ledger, UndoOutcome, UndoRecord};
use common::{median, percentile, runs};
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let n = runs(500);
    let dir = common::target_dir().join("chaos-bench-ledger");
    let _ = std::fs::remove_dir_all(&dir);
    let ledger = Ledger::open(&dir).expect("the ledger directory");
    let undo = UndoRecord::new(
        "k8s.scale",
        "restore deployment `shop/web` to 3 replicas",
        serde_json::json!({"namespace": "shop", "name": "web", "replicas": 3}),
    );
    let (mut begin, mut action, mut close, mut whole) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let t0 = Instant::now();
        let entry = ledger
            .begin(&Header::new("bench::ledger", 1))
            .expect("begin");
        let t1 = Instant::now();
        let seq = entry.intend(&undo).expect("intend");
        entry.applied(seq).expect("applied");
        let t2 = Instant::now();
        entry.undone(seq, &UndoOutcome::Done).expect("undone");
        let t3 = Instant::now();
        entry.close().expect("close");
        let t4 = Instant::now();
        begin.push(ms(t1 - t0));
        action.push(ms(t2 - t1));
        close.push(ms(t4 - t3));
        whole.push(ms(t4 - t0));
    }
    // Every harness start: a look for dead runs, none there, beside 100 live entries.
    let live: Vec<_> = (0..100)
        .map(|_| ledger.begin(&Header::new("bench::live", 1)).expect("begin"))
        .collect();
    let mut look_busy = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let found = ledger.orphans();
        look_busy.push(ms(t.elapsed()));
        assert!(found.claimed.is_empty() && found.errors.is_empty());
    }
    drop(live);
    let mut look_live_dropped = vec![];
    // The 100 entries are now dead: claimed and released each time (not finished).
    for _ in 0..10 {
        let t = Instant::now();
        let found = ledger.orphans();
        look_live_dropped.push(ms(t.elapsed()));
        assert_eq!(found.claimed.len(), 100);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let empty = Ledger::open(&dir).expect("ledger");
    let mut look_empty = vec![];
    for _ in 0..200 {
        let t = Instant::now();
        let _ = empty.orphans();
        look_empty.push(ms(t.elapsed()));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!();
    println!("LEDGER BENCH — {n} runs, ledger in {}", dir.display());
    println!("{:<58} {:>9} {:>9}", "", "median", "p99");
    for (what, v) in [
        ("begin: header written, synced, renamed, dir synced", &begin),
        (
            "per action: undo record + applied mark (2 synced appends)",
            &action,
        ),
        (
            "close: closed record synced, entry removed, dir synced",
            &close,
        ),
        (
            "a whole run's ledger work (begin, 1 action, undone, close)",
            &whole,
        ),
        (
            "harness start, empty ledger (nothing to recover)",
            &look_empty,
        ),
        (
            "harness start, 100 live runs' entries (none to recover)",
            &look_busy,
        ),
        (
            "harness start, 100 dead entries claimed (no undo run)",
            &look_live_dropped,
        ),
    ] {
        println!(
            "{what:<58} {:>6.3} ms {:>6.3} ms",
            median(v),
            percentile(v, 99.0)
        );
    }
}
