//! FIGURE (issue 5): time to terminate 100 of 10,000 pods matching a selector, against the
//! simulated cluster on loopback: the list (pages of 500), the seeded choice, then the deletes
//! with 16 in flight (the default), side by side with the deletes one at a time, and with a
//! 5 ms latency per request injected (a cluster that is not on loopback).
//!
//! `cargo bench -p chaos-tests --bench k8s` (a few minutes). Every run uses a fresh cluster of
//! 10,000 bare pods labelled `app=bulk`; the selection is checked (100 chosen of 10,000
//! matched) and so is the cluster afterwards (100 pods gone).
//!
//! Side by side, in the same run: Chaos Toolkit's `chaosk8s.pod.actions.terminate_pods`
//! (chaostoolkit-kubernetes, from a venv that `scripts/bench-chaostoolkit-venv.sh` creates
//! under the target directory) doing the same against the same kind of cluster: its call timed
//! in its own Python process, client creation included (ours excludes connecting, about 1 ms).

use chaos_harness::k8s;
use chaos_harness::prelude::Select;
use chaos_harness::target::TargetContext;
use chaos_harness::Context;
use kube_sim::{Fault, FaultKind, Sim, SimConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

const PODS: usize = 10_000;
const KILL: usize = 100;
const RUNS: usize = 7;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The Python of the Chaos Toolkit venv, with chaosk8s; `Err` says why there is none.
fn chaostoolkit_python() -> Result<PathBuf, String> {
    let venv = common::target_dir().join("bench-chaostoolkit-venv");
    let out = Command::new("bash")
        .arg(Path::new(WORKSPACE).join("scripts/bench-chaostoolkit-venv.sh"))
        .arg(&venv)
        .output()
        .map_err(|e| format!("cannot run scripts/bench-chaostoolkit-venv.sh: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    Ok(venv.join("bin/python"))
}

const CHAOSK8S: &str = r#"
import sys, time
from chaosk8s.pod.actions import terminate_pods
t = time.perf_counter()
deleted = terminate_pods(label_selector="app=bulk", rand=True, qty=100, grace_period=0, ns="bulk")
elapsed = time.perf_counter() - t
assert len(deleted) == 100, len(deleted)
print(f"{elapsed * 1000:.3f}")
"#;

fn fresh_cluster(latency: Option<Duration>) -> (Sim, tempfile::TempDir, PathBuf) {
    let sim = Sim::start(SimConfig::default()).expect("simulated cluster");
    sim.add_namespace("bulk");
    sim.add_pods("bulk", "pod", PODS, &[("app", "bulk")]);
    if let Some(l) = latency {
        sim.inject(Fault {
            method: None,
            path_contains: "/".into(),
            times: None,
            kind: FaultKind::Latency(l),
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "bulk")
        .expect("kubeconfig");
    (sim, dir, kubeconfig)
}

/// One chaosk8s `terminate_pods` call, in milliseconds.
fn chaostoolkit_once(python: &Path, latency: Option<Duration>) -> Result<f64, String> {
    let (sim, _dir, kubeconfig) = fresh_cluster(latency);
    let out = Command::new(python)
        .arg("-c")
        .arg(CHAOSK8S)
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    assert_eq!(
        sim.list("pods", "bulk").len(),
        PODS - KILL,
        "chaosk8s deleted {KILL}"
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))
}

fn chaostoolkit_report(python: &Path, label: &str, latency: Option<Duration>) -> Option<f64> {
    let mut ms = Vec::new();
    for _ in 0..RUNS {
        match chaostoolkit_once(python, latency) {
            Ok(v) => ms.push(v),
            Err(e) => {
                println!("{label:<44} failed: {e}");
                return None;
            }
        }
    }
    let med = common::median(&ms);
    println!(
        "{label:<44} median {med:>8.1} ms  (min {:>7.1}, max {:>7.1})",
        ms.iter().copied().fold(f64::INFINITY, f64::min),
        ms.iter().copied().fold(0.0, f64::max),
    );
    Some(med)
}

struct Sample {
    total: Duration,
    list: Duration,
    requests: usize,
}

fn once(seed: u64, in_flight: usize, latency: Option<Duration>) -> Sample {
    let (sim, _dir, kubeconfig) = fresh_cluster(latency);
    let table: toml::Table = toml::from_str(&format!(
        "[k8s]\nkubeconfig = {:?}\nevents = false\n",
        kubeconfig.display().to_string()
    ))
    .expect("toml");
    let cx = Context::builder()
        .experiment("bench::k8s")
        .seed(seed)
        .target_settings(table)
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    // Connect first (kubeconfig, client): the figure is the action, as an experiment sees it.
    rt.block_on(k8s::cluster(&cx)).expect("connect");
    sim.clear_requests();
    let pods = k8s::pods(&cx, "bulk")
        .labeled("app=bulk")
        .force()
        .concurrency(in_flight);
    let started = Instant::now();
    let report = rt
        .block_on(pods.terminate(Select::random(KILL)))
        .expect("terminate");
    let total = started.elapsed();
    assert_eq!(report.targets.len(), KILL);
    let recorded = cx.recorded_targets();
    assert_eq!(recorded[0]["matched"], PODS);
    let left = sim.list("pods", "bulk").len();
    assert_eq!(left, PODS - KILL, "{KILL} pods gone");
    let requests = sim.requests();
    let lists: Vec<_> = requests.iter().filter(|r| r.method == "GET").collect();
    let list = lists
        .last()
        .map(|r| r.finished.duration_since(requests[0].started))
        .unwrap_or_default();
    Sample {
        total,
        list,
        requests: requests.len(),
    }
}

fn report(label: &str, in_flight: usize, latency: Option<Duration>) -> f64 {
    let mut totals = Vec::new();
    let mut lists = Vec::new();
    let mut requests = 0;
    for seed in 0..RUNS as u64 {
        let s = once(seed, in_flight, latency);
        totals.push(s.total);
        lists.push(s.list);
        requests = s.requests;
    }
    let ms = |v: &[Duration]| v.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>();
    let med = common::median(&ms(&totals));
    println!(
        "{label:<44} median {:>8.1} ms  (min {:>7.1}, max {:>7.1})  list part {:>6.1} ms  {requests} requests",
        med,
        totals.iter().min().copied().unwrap_or_default().as_secs_f64() * 1e3,
        totals.iter().max().copied().unwrap_or_default().as_secs_f64() * 1e3,
        common::median(&ms(&lists)),
    );
    med
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("terminate {KILL} of {PODS} pods matching app=bulk, {RUNS} runs each, simulated cluster on loopback");
    let c16 = report("16 deletes in flight (default)", 16, None);
    let c1 = report("1 delete at a time", 1, None);
    let l16 = report(
        "16 in flight, +5 ms per request",
        16,
        Some(Duration::from_millis(5)),
    );
    let l1 = report(
        "1 at a time, +5 ms per request",
        1,
        Some(Duration::from_millis(5)),
    );
    println!(
        "ratio (1 at a time / 16 in flight): {:.1}x on loopback, {:.1}x with 5 ms per request",
        c1 / c16,
        l1 / l16
    );
    match chaostoolkit_python() {
        Ok(python) => {
            let ctk = chaostoolkit_report(&python, "chaosk8s terminate_pods (Chaos Toolkit)", None);
            let ctk_l = chaostoolkit_report(
                &python,
                "chaosk8s terminate_pods, +5 ms per request",
                Some(Duration::from_millis(5)),
            );
            if let (Some(a), Some(b)) = (ctk, ctk_l) {
                println!(
                    "ratio (Chaos Toolkit / ours, 16 in flight): {:.1}x on loopback, {:.1}x with 5 ms per request",
                    a / c16,
                    b / l16
                );
            }
        }
        Err(e) => println!("Chaos Toolkit skipped: {e}"),
    }
}
