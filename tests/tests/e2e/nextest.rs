//! `cargo nextest` lists and runs the example experiments: the harness's `--list` output is
//! what nextest parses, and each experiment runs in its own process.

use std::process::Command;

/// `cargo`, in the workspace's directory (for the tests that build and run the examples).
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

/// The feature flags that make the nested build the one the outer test run built (every
/// nested build of the examples uses them, so that they share one build).
pub(crate) fn features() -> &'static [&'static str] {
    if cfg!(feature = "aws") {
        &["--features", "aws"]
    } else {
        &[]
    }
}

#[test]
fn nextest_lists_the_example_experiments() {
    let out = cargo()
        .args([
            "nextest",
            "list",
            "-p",
            "chaos-examples",
            "--test",
            "experiments",
        ])
        .args(features())
        .args(["--message-format", "json"])
        .output()
        .expect("cargo nextest runs");
    assert!(
        out.status.success(),
        "cargo nextest list failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("nextest JSON");
    let suites = list["rust-suites"].as_object().expect("rust-suites");
    let suite = suites
        .values()
        .find(|s| s["binary-name"] == "experiments")
        .expect("the experiments binary is listed");
    let cases: Vec<&String> = suite["testcases"].as_object().unwrap().keys().collect();
    for name in [
        "experiments::hello_world",
        "experiments::latency_within_tolerance",
        "experiments::outage_is_detected",
        "experiments::rollbacks_restore_service",
        "experiments::snapshot_reviewed",
    ] {
        assert!(
            cases.iter().any(|c| *c == name),
            "{name} not listed: {cases:?}"
        );
    }
}

#[test]
fn nextest_runs_one_experiment_per_process() {
    let out = cargo()
        .args([
            "nextest",
            "run",
            "-p",
            "chaos-examples",
            "--test",
            "experiments",
        ])
        .args(features())
        .args(["--no-fail-fast", "-E", "test(hello_world)"])
        .output()
        .expect("cargo nextest runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("PASS") && stderr.contains("experiments::hello_world"),
        "{stderr}"
    );
    assert!(stderr.contains("1 test run: 1 passed"), "{stderr}");
}
