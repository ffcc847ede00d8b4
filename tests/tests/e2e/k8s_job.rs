//! The harness as a Kubernetes Job, on the simulated cluster.

use kube_sim::{Sim, SimConfig};
use std::path::PathBuf;
use std::process::Command;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

/// The feature flags of the nested build (the ones `nextest.rs` builds the examples with, so
/// that the two share one build).
fn features() -> &'static [&'static str] {
    if cfg!(feature = "aws") {
        &["--features", "aws"]
    } else {
        &[]
    }
}

/// The examples' Kubernetes harness binary (`examples/tests/k8s.rs`), built once.
fn examples_k8s() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let out = cargo()
            .args(["test", "-p", "chaos-examples", "--test", "k8s", "--no-run"])
            .args(features())
            .args(["--message-format", "json"])
            .output()
            .expect("cargo builds the examples");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "k8s")
            .and_then(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("the k8s test binary")
    })
    .clone()
}

#[test]
fn explore_requests() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    sim.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc, "demo").unwrap();
    let settings = dir.path().join("chaos.toml");
    std::fs::write(&settings, format!("[targets.k8s]\nkubeconfig = {:?}\n", kc.display().to_string())).unwrap();
    let exe = examples_k8s();
    let out = Command::new(&exe)
        .env("CHAOS_SETTINGS", &settings)
        .env("CHAOS_JOURNAL_DIR", dir.path().join("j"))
        .env("CHAOS_LOCK_DIR", dir.path().join("l"))
        .env_remove("NEXTEST_RUN_ID")
        .args(["--test-threads", "1"])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    let mut seen = std::collections::BTreeSet::new();
    for r in sim.requests() {
        let q = if r.query.contains("watch") { " watch" } else { "" };
        let path: Vec<&str> = r.path.split('/').collect();
        seen.insert(format!("{} {}{} -> {}", r.method, path.iter().enumerate().map(|(i, p)| if i > 0 && path[i-1] == "namespaces" || (i>0 && ["pods","nodes","deployments","events"].contains(&path[i-1]) && i == path.len()-1 || (i>0 && ["pods","nodes","deployments"].contains(&path[i-1]) && i < path.len()-1)) { "X" } else { p }).collect::<Vec<_>>().join("/"), q, r.status));
    }
    for s in seen {
        eprintln!("{s}");
    }
    panic!("explore");
}
