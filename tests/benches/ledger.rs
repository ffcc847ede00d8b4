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
//!
//! FIGURE (issue 11, 2): a harness (`k8s-fixtures`, experiment `sweep::scale_and_hold`) scales
//! deployment `demo/web` of a simulated cluster from 3 to 1 and waits; once the scale is
//! recorded as applied in its ledger entry, the bench kills it with SIGKILL and polls the
//! cluster (in-process, every 1 ms) until `web` is at 3 replicas again: its guardian's work.
//! The time from the kill to the restored count, median and worst (`CHAOS_BENCH_KILLS=N`,
//! default 20), and the API requests the recovery made.

mod common;

use chaos_runtime::ledger::{Header, Ledger, UndoOutcome, UndoRecord};
use common::{median, percentile, runs};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

const K8S_FIXTURES: &str = env!("CARGO_BIN_EXE_k8s-fixtures");

/// Whether the ledger entry in `ledger` has its undo record marked applied.
fn applied(ledger: &Path) -> bool {
    std::fs::read_dir(ledger).is_ok_and(|d| {
        d.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "entry"))
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("\"applied\"")))
    })
}

/// Figure 2: (ms from SIGKILL to `web` at 3 replicas again, the recovery's API requests) per
/// kill.
fn guardian_restores(kills: usize) -> (Vec<f64>, Vec<f64>) {
    use kube_sim::{Sim, SimConfig};
    let sim = Sim::start(SimConfig::default()).expect("the simulated cluster starts");
    sim.seed_demo();
    let dir = tempfile::Builder::new()
        .prefix("bench-guardian-")
        .tempdir_in(common::target_dir())
        .expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig");
    let settings = dir.path().join("chaos.toml");
    std::fs::write(
        &settings,
        format!(
            "[targets.k8s]\nkubeconfig = {:?}\n",
            kubeconfig.display().to_string()
        ),
    )
    .expect("settings");
    let replicas = || {
        sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"]
            .as_i64()
            .unwrap_or(1)
    };
    let (mut times, mut calls) = (vec![], vec![]);
    for k in 0..kills {
        let run = dir.path().join(format!("k{k}"));
        let ledger = run.join("journals/ledger");
        let mut child = std::process::Command::new(K8S_FIXTURES)
            .args(["--exact", "k8s_fixtures::sweep::scale_and_hold"])
            .env("CHAOS_SETTINGS", &settings)
            .env("CHAOS_JOURNAL_DIR", run.join("journals"))
            .env("CHAOS_COUNT_DIR", run.join("counts"))
            .env("K8S_FIXTURES_NO_FALLBACK", "1")
            .env_remove("CHAOS_GUARDIAN")
            .env_remove("CHAOS_LEDGER")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the harness starts");
        let t = Instant::now();
        while !(replicas() == 1 && applied(&ledger)) {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the scale never came"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let before = sim.requests().len();
        child.kill().expect("SIGKILL");
        let killed = Instant::now();
        let status = child.wait().expect("the harness ends");
        assert_eq!(status.signal(), Some(9));
        while replicas() != 3 {
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "the guardian did not restore web: {}",
                std::fs::read_to_string(ledger.join("guardian.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(ms(killed.elapsed()));
        // The recovery's requests up to the restore (its Events and marker removal follow).
        calls.push((sim.requests().len() - before) as f64);
        // Until the guardian closed the entry: the next run starts clean.
        let t = Instant::now();
        while std::fs::read_dir(&ledger).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "entry"))
        }) {
            assert!(t.elapsed() < Duration::from_secs(30), "the entry stayed");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    (times, calls)
}

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

    let kills = std::env::var("CHAOS_BENCH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (restore, calls) = guardian_restores(kills);

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
    println!(
        "FIGURE (issue 11, 2): SIGKILL of the harness to deployment restored by its guardian ({kills} kills, simulated cluster): median {:.1} ms, p99 {:.1} ms, worst {:.1} ms; API requests in that time: median {:.0}",
        median(&restore),
        percentile(&restore, 99.0),
        restore.iter().copied().fold(0.0, f64::max),
        median(&calls)
    );
}
