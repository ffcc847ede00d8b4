//! Runs the outcome fixtures (`src/bin/outcome-fixtures.rs`) as subprocesses and checks, for
//! each of the eight outcomes, the exit code, the verdict, the journal and how many times the
//! rollbacks ran.

use chaos_tests::{command, result, run_exact, RunResult};
use serde_json::Value;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_outcome-fixtures");

fn run(name: &str) -> RunResult {
    run_with(name, &[])
}

fn run_with(name: &str, env: &[(&str, &str)]) -> RunResult {
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    run_exact(EXE, &tmp, &format!("outcome_fixtures::{name}"), env)
}

/// Checks what every failing outcome shares: exit code, verdict header, journal fields.
fn check_outcome(r: &RunResult, name: &str, outcome: &str, code: i32, status: &str) -> Value {
    let full = format!("outcome_fixtures::{name}");
    assert_eq!(
        r.code,
        Some(code),
        "exit code of {name}\n{}",
        r.all_output()
    );
    if outcome != "passed" {
        let header = format!("experiment `{full}` ended `{outcome}` (exit code {code})");
        assert!(
            r.stdout.contains(&header),
            "verdict header missing: {header}\n{}",
            r.all_output()
        );
        assert!(r.stdout.contains("  seed:       "), "{}", r.stdout);
        assert!(
            r.stdout.contains(&format!(
                "  journal:    {}",
                r.journal_dir
                    .join(format!("{}.json", full.replace("::", "__")))
                    .display()
            )),
            "{}",
            r.stdout
        );
    }
    let j = r.journal(&full);
    assert_eq!(j["outcome"], outcome);
    assert_eq!(j["status"], status);
    assert_eq!(j["name"], full);
    assert_eq!(j["generator"], "chaos-harness");
    assert!(j["generator_version"].is_string());
    assert!(j["seed"].is_u64());
    for key in [
        "platform",
        "node",
        "experiment",
        "start",
        "end",
        "duration",
        "deviated",
        "steady_states",
        "run",
        "rollbacks",
    ] {
        assert!(j.get(key).is_some(), "journal key {key} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&r.journal_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary journal files left: {leftovers:?}"
    );
    j
}

#[test]
fn passed() {
    let r = run("passed");
    let j = check_outcome(&r, "passed", "passed", 0, "completed");
    assert_eq!(j["deviated"], false);
    assert_eq!(j["steady_states"]["before"]["steady_state_met"], true);
    assert_eq!(j["steady_states"]["after"]["steady_state_met"], true);
    assert_eq!(
        j["steady_states"]["before"]["probes"][0]["tolerance_met"],
        true
    );
    assert_eq!(j["steady_states"]["before"]["probes"][0]["output"], 1);
    assert_eq!(j["run"][0]["status"], "succeeded");
    assert_eq!(r.count("method"), 1);
    assert_eq!(
        r.count("rollback"),
        1,
        "rollbacks run once when the method started"
    );
    assert!(
        r.stdout.contains("test result: ok. 1 passed"),
        "{}",
        r.stdout
    );
}

#[test]
fn baseline_not_met_evaluates_every_probe_and_skips_the_method() {
    let r = run("baseline_not_met");
    let j = check_outcome(&r, "baseline_not_met", "baseline-not-met", 10, "failed");
    let probes = j["steady_states"]["before"]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 3, "every steady-state probe is evaluated");
    let met: Vec<_> = probes.iter().map(|p| p["tolerance_met"].clone()).collect();
    assert_eq!(
        met,
        vec![Value::from(false), Value::from(true), Value::from(false)]
    );
    assert_eq!(j["steady_states"]["before"]["steady_state_met"], false);
    assert!(j["steady_states"]["after"].is_null());
    assert!(j["run"].as_array().unwrap().is_empty());
    assert_eq!(r.count("method"), 0);
    assert_eq!(
        r.count("rollback"),
        0,
        "no rollbacks when the method did not start"
    );
    for line in [
        "  phase:      steady state before the method",
        "  activity:   probe \"first misses\"",
        "  value:      2",
        "  tolerance:  == 1",
        "  activity:   probe \"third misses\"",
        "  tolerance:  in 1..5",
        "  rollbacks:  not run (the method did not start)",
    ] {
        assert!(
            r.stdout.contains(line),
            "verdict lacks {line:?}\n{}",
            r.stdout
        );
    }
}

#[test]
fn deviated_after_the_method() {
    let r = run("deviated");
    let j = check_outcome(&r, "deviated", "deviated", 11, "completed");
    assert_eq!(j["deviated"], true);
    assert_eq!(j["steady_states"]["before"]["steady_state_met"], true);
    assert_eq!(j["steady_states"]["after"]["steady_state_met"], false);
    assert_eq!(j["steady_states"]["after"]["probes"][0]["output"], 1);
    assert_eq!(r.count("rollback"), 1);
    assert!(
        r.stdout
            .contains("  phase:      steady state after the method"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  value:      1\n  tolerance:  == 0"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  rollbacks:  \"count rollback\" succeeded"),
        "{}",
        r.stdout
    );
}

#[test]
fn method_probe_missing_its_tolerance_deviates() {
    let r = run("method_probe_deviates");
    let j = check_outcome(&r, "method_probe_deviates", "deviated", 11, "completed");
    assert_eq!(j["run"][0]["tolerance_met"], false);
    assert_eq!(j["run"][0]["output"], 750);
    assert_eq!(r.count("method"), 1, "a deviation does not stop the method");
    assert_eq!(r.count("rollback"), 1);
    assert!(
        r.stdout.contains("  value:      750\n  tolerance:  < 500"),
        "{}",
        r.stdout
    );
}

#[test]
fn activity_failed_stops_the_method_and_rolls_back() {
    let r = run("activity_failed");
    let j = check_outcome(&r, "activity_failed", "activity-failed", 12, "failed");
    assert_eq!(j["run"][0]["status"], "failed");
    assert_eq!(
        j["run"][0]["exception"][0],
        "error: connection refused by target"
    );
    assert_eq!(
        j["run"].as_array().unwrap().len(),
        1,
        "the method stops at the failure"
    );
    assert_eq!(r.count("after_failure"), 0);
    assert_eq!(r.count("rollback"), 1);
    assert!(
        r.stdout.contains(
            "  activity:   action \"fails\"\n  failure:    error: connection refused by target"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn rollback_failed_runs_every_rollback() {
    let r = run("rollback_failed");
    let j = check_outcome(&r, "rollback_failed", "rollback-failed", 13, "failed");
    let rb = j["rollbacks"].as_array().unwrap();
    assert_eq!(rb.len(), 2);
    assert_eq!(rb[0]["status"], "failed");
    assert_eq!(rb[1]["status"], "succeeded");
    assert_eq!(r.count("rollback"), 1);
    assert!(
        r.stdout
            .contains("\"rollback fails\" failed: error: could not restore replicas"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  phase:      rollbacks"), "{}", r.stdout);
}

#[test]
fn aborted_by_the_experiment_timeout() {
    let started = Instant::now();
    let r = run("aborted");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout cancels the hanging action"
    );
    let j = check_outcome(&r, "aborted", "aborted", 14, "aborted");
    assert_eq!(j["run"][0]["status"], "failed");
    assert_eq!(
        j["run"][0]["exception"][0],
        "error: cancelled by the experiment timeout (300ms)"
    );
    assert_eq!(r.count("rollback"), 1, "rollbacks run after the timeout");
    assert!(
        r.stdout
            .contains("  stopped by: the experiment timeout (300ms)"),
        "{}",
        r.stdout
    );
}

#[test]
fn aborted_by_fail_fast() {
    let started = Instant::now();
    let r = run("aborted_fail_fast");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fail-fast stops the method at once"
    );
    let j = check_outcome(&r, "aborted_fail_fast", "aborted", 14, "aborted");
    assert_eq!(j["deviated"], true);
    let during = j["steady_states"]["during"].as_array().unwrap();
    assert!(during.len() >= 2, "{during:?}");
    assert_eq!(during.last().unwrap()["steady_state_met"], false);
    assert_eq!(r.count("after_fail_fast"), 0);
    assert_eq!(r.count("rollback"), 1);
    assert!(
        j["steady_states"]["after"].is_null(),
        "no after-check once fail-fast stopped the run"
    );
}

/// Runs fixture `name` until its method counted `started`, then sends it SIGINT.
pub(crate) fn interrupt(name: &str) -> RunResult {
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    cmd.args(["--exact", &format!("outcome_fixtures::{name}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let started = cd.join("started.count");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the method never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    result(out, jd, cd)
}

#[test]
fn interrupted_by_a_signal_runs_rollbacks() {
    let r = interrupt("interrupted");
    let j = check_outcome(&r, "interrupted", "interrupted", 130, "interrupted");
    assert_eq!(j["run"][0]["exception"][0], "error: cancelled by a signal");
    assert_eq!(r.count("rollback"), 1);
    assert!(r.stdout.contains("  stopped by: a signal"), "{}", r.stdout);
}

#[test]
fn a_proxy_fault_is_removed_when_a_signal_interrupts_the_run() {
    let r = interrupt("proxy_interrupted");
    let j = check_outcome(&r, "proxy_interrupted", "interrupted", 130, "interrupted");
    let undo = &j["rollbacks"][0];
    assert_eq!(
        undo["activity"]["name"], "proxy `link`: remove `latency_downstream`",
        "{undo:#}"
    );
    assert_eq!(undo["status"], "succeeded", "{undo:#}");
    assert_eq!(undo["output"]["removed"], "latency_downstream", "{undo:#}");
    let added = &j["targets"][0];
    assert_eq!(added["target"], "proxy", "{added:#}");
    assert_eq!(added["added"]["attributes"]["latency"], 1000, "{added:#}");
}

#[test]
fn error_names_the_missing_variable() {
    let r = run("error");
    check_outcome(&r, "error", "error", 15, "failed");
    assert!(
        r.stdout
            .contains("variable `CHAOS_FIXTURE_NOT_SET` is not set"),
        "{}",
        r.stdout
    );
    assert_eq!(r.count("method"), 0);
    assert_eq!(r.count("rollback"), 0);
}

#[test]
fn error_in_the_method_still_rolls_back() {
    let r = run("error_in_method");
    check_outcome(&r, "error_in_method", "error", 15, "failed");
    assert!(
        r.stdout
            .contains("variable `CHAOS_FIXTURE_NOT_SET` is not set"),
        "{}",
        r.stdout
    );
    assert_eq!(r.count("method"), 1);
    assert_eq!(r.count("rollback"), 1);
}

#[test]
fn a_bad_seed_is_an_error_that_names_it() {
    let r = run_with("passed", &[("CHAOS_SEED", "not-a-number")]);
    assert_eq!(r.code, Some(15), "{}", r.all_output());
    let j = r.journal("outcome_fixtures::passed");
    assert_eq!(j["outcome"], "error");
    assert_eq!(j["status"], "failed");
    assert!(
        r.stdout
            .contains("CHAOS_SEED=`not-a-number` is not a number"),
        "{}",
        r.stdout
    );
    assert_eq!(r.count("method"), 0);
}

#[test]
fn activity_timeout_cuts_off_near_the_timeout() {
    let r = run("activity_timeout");
    let j = check_outcome(&r, "activity_timeout", "activity-failed", 12, "failed");
    let d = j["run"][0]["duration"].as_f64().unwrap();
    assert!(
        (0.19..0.7).contains(&d),
        "cut off after {d}s, timeout 200ms"
    );
    assert_eq!(j["run"][0]["exception"][0], "timed out after 200ms");
    assert_eq!(r.count("rollback"), 1);
}

#[test]
fn panicking_action_fails_and_rolls_back() {
    let r = run("panicking_action");
    let j = check_outcome(&r, "panicking_action", "activity-failed", 12, "failed");
    assert_eq!(j["run"][0]["exception"][0], "panicked: the target vanished");
    assert_eq!(r.count("rollback"), 1);
    assert!(
        r.stdout
            .contains("  failure:    panicked: the target vanished"),
        "{}",
        r.stdout
    );
}

#[test]
fn rollback_strategies_opt_out() {
    let r = run("rollbacks_never");
    check_outcome(&r, "rollbacks_never", "activity-failed", 12, "failed");
    assert_eq!(r.count("rollback"), 0);
    assert!(
        r.stdout
            .contains("  rollbacks:  not run (rollbacks = never)"),
        "{}",
        r.stdout
    );

    let r = run("rollbacks_deviated_only");
    check_outcome(&r, "rollbacks_deviated_only", "passed", 0, "completed");
    assert_eq!(r.count("method"), 1);
    assert_eq!(r.count("rollback"), 0);
}

#[test]
fn background_activities_are_joined_at_the_end_of_the_method() {
    let r = run("background_joined");
    let j = check_outcome(&r, "background_joined", "passed", 0, "completed");
    assert_eq!(r.count("background"), 1, "joined before the run ended");
    assert_eq!(r.count("foreground"), 1);
    let run = j["run"].as_array().unwrap();
    let bg = run
        .iter()
        .find(|a| a["activity"]["name"] == "slow in the background")
        .unwrap();
    assert_eq!(bg["activity"]["background"], true);
    assert!(bg["duration"].as_f64().unwrap() >= 0.3);
}

#[test]
fn hypothesis_is_sampled_during_the_method() {
    let r = run("sampled_during");
    let j = check_outcome(&r, "sampled_during", "passed", 0, "completed");
    let during = j["steady_states"]["during"].as_array().unwrap();
    // 320 ms of method sampled every 50 ms: a sample at 0, 50, ..., 300 ms.
    assert!((5..=9).contains(&during.len()), "{} samples", during.len());
    assert!(j["steady_states"]["before"].is_null());
    assert!(j["steady_states"]["after"].is_null());
}

#[test]
fn expect_passes_only_on_the_expected_outcome() {
    let r = run("expected_failure");
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert_eq!(
        r.journal("outcome_fixtures::expected_failure")["outcome"],
        "activity-failed"
    );

    let r = run("expectation_missed");
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(
        r.stdout
            .contains("expected outcome `deviated` (expect = deviated), got `passed`"),
        "{}",
        r.stdout
    );
}

#[test]
fn ignored_experiments_run_only_when_asked() {
    let r = run("ignored");
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("1 ignored"), "{}", r.stdout);
    assert_eq!(r.count("method"), 0);
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd
        .args(["--ignored", "--exact", "outcome_fixtures::ignored"])
        .output()
        .unwrap();
    let r = result(out, jd, cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert_eq!(r.count("method"), 1);
}

#[test]
fn seed_replays_the_same_choices() {
    let draw = |seed: Option<&str>| {
        let r = match seed {
            Some(s) => run_with("seeded", &[("CHAOS_SEED", s)]),
            None => run("seeded"),
        };
        let j = r.journal("outcome_fixtures::seeded");
        (j["seed"].clone(), j["run"][0]["output"].clone())
    };
    let (seed_a, a) = draw(Some("424242"));
    let (_, b) = draw(Some("424242"));
    assert_eq!(seed_a, 424242);
    assert_eq!(a, b, "same seed, same choice");
    let (seed_c, c) = draw(None);
    let (_, replay) = draw(Some(&seed_c.to_string()));
    assert_eq!(c, replay, "a printed seed replays the run");
}

#[test]
fn several_failures_exit_with_the_most_severe_outcome() {
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    // Selects `rollback_failed` (13), `rollbacks_never` (12), `rollbacks_deviated_only` (passes).
    let out = cmd.args(["rollback"]).output().unwrap();
    let r = result(out, jd, cd);
    assert!(r.stdout.contains("2 failed"), "{}", r.all_output());
    assert_eq!(r.code, Some(13), "{}", r.all_output());
}

#[test]
fn list_is_clean_name_colon_test_lines_in_order() {
    let out = std::process::Command::new(EXE)
        .arg("--list")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| {
            l.strip_suffix(": test")
                .unwrap_or_else(|| panic!("not a `name: test` line: {l:?}"))
        })
        .collect();
    assert!(names.len() >= 20);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "trials are sorted by name");
    assert!(names.iter().all(|n| n.starts_with("outcome_fixtures::")));
    let out = std::process::Command::new(EXE)
        .args(["--list", "--ignored"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "outcome_fixtures::ignored: test\n"
    );
}

#[test]
fn an_empty_registry_is_rejected() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empty-harness"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no experiments are registered in this test target"),
        "{stderr}"
    );
}

#[test]
fn snapshots_pass_unchanged_and_fail_when_the_journal_changes() {
    let snap_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin/snapshots");
    let snap = snap_dir.join("outcome_fixtures__snapshotted.snap");
    assert!(
        snap.is_file(),
        "committed snapshot {} missing",
        snap.display()
    );
    let new = snap_dir.join("outcome_fixtures__snapshotted.snap.new");

    let r = run_with("snapshotted", &[("CI", "true")]);
    assert_eq!(
        r.code,
        Some(0),
        "an unchanged journal matches\n{}",
        r.all_output()
    );

    // In CI a changed journal fails and writes nothing.
    let r = run_with(
        "snapshotted",
        &[("CI", "true"), ("SNAPSHOT_WORD", "changed")],
    );
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(
        r.stdout.contains("the journal of `outcome_fixtures::snapshotted` does not match its snapshot (review with `cargo insta review`)"),
        "{}",
        r.all_output()
    );
    assert!(!new.exists(), "nothing is written in CI");

    // Outside CI the change is left for `cargo insta review`.
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd
        .args(["--exact", "outcome_fixtures::snapshotted"])
        .env_remove("CI")
        .env("INSTA_UPDATE", "new")
        .env("SNAPSHOT_WORD", "changed")
        .output()
        .unwrap();
    let r = result(out, jd, cd);
    let pending = std::fs::read_to_string(&new);
    let _ = std::fs::remove_file(&new);
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(pending.expect(".snap.new written").contains("\"changed\""));
}

/// Runs the fixtures matching `filter` with `--test-threads 2`, in one process (as `cargo
/// test` runs trials).
fn run_threads(filter: &str) -> RunResult {
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd.args([filter, "--test-threads", "2"]).output().unwrap();
    result(out, jd, cd)
}

/// Runs fixtures `a` and `b` at once, each `--exact` in a process of its own sharing one lock
/// dir (as `cargo nextest run` runs them); returns both results.
fn run_processes(a: &str, b: &str) -> [RunResult; 2] {
    let tmp = tempfile::tempdir().unwrap().keep();
    let children = [a, b].map(|name| {
        let (mut cmd, jd, cd) = command(EXE, &tmp);
        cmd.args([
            "--exact",
            &format!("outcome_fixtures::{name}"),
            "--nocapture",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        (cmd.spawn().unwrap(), jd, cd)
    });
    children.map(|(child, jd, cd)| result(child.wait_with_output().unwrap(), jd, cd))
}

/// The two intervals, checked to be both there.
fn two_intervals(r: &RunResult, a: &str, b: &str) -> ((u128, u128), (u128, u128)) {
    let all = r.intervals();
    let get = |n: &str| {
        *all.get(&format!("outcome_fixtures::{n}"))
            .unwrap_or_else(|| panic!("{n} left no start and end: {all:?}\n{}", r.all_output()))
    };
    (get(a), get(b))
}

fn overlap(x: (u128, u128), y: (u128, u128)) -> bool {
    x.0 < y.1 && y.0 < x.1
}

#[test]
fn experiments_of_one_group_run_one_at_a_time_on_trial_threads() {
    let r = run_threads("one_at_a_time_");
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert!(r.stdout.contains("2 passed"), "{}", r.all_output());
    let (a, b) = two_intervals(&r, "one_at_a_time_a", "one_at_a_time_b");
    assert!(
        !overlap(a, b),
        "two experiments of the default group overlapped on two trial threads: {a:?} {b:?}"
    );
}

#[test]
fn experiments_of_one_group_run_one_at_a_time_across_processes() {
    let [ra, rb] = run_processes("one_at_a_time_a", "one_at_a_time_b");
    assert_eq!(ra.code, Some(0), "{}", ra.all_output());
    assert_eq!(rb.code, Some(0), "{}", rb.all_output());
    // Both processes share the counter dir: either result reads the whole timeline.
    let (a, b) = two_intervals(&ra, "one_at_a_time_a", "one_at_a_time_b");
    assert!(
        !overlap(a, b),
        "two experiments of the default group overlapped in two processes: {a:?} {b:?}"
    );
}

#[test]
fn parallel_and_other_group_experiments_overlap() {
    // Each fixture fails unless the other started while it ran.
    let r = run_threads("side_by_side_");
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let (a, b) = two_intervals(&r, "side_by_side_a", "side_by_side_b");
    assert!(overlap(a, b), "{a:?} {b:?}");
    let j = r.journal("outcome_fixtures::side_by_side_a");
    assert!(j["experiment"]["runtime"]["group"].is_null(), "{j}");
    let j = r.journal("outcome_fixtures::side_by_side_b");
    assert_eq!(j["experiment"]["runtime"]["group"], "side-by-side");

    let [ra, rb] = run_processes("side_by_side_a", "side_by_side_b");
    assert_eq!(ra.code, Some(0), "{}", ra.all_output());
    assert_eq!(rb.code, Some(0), "{}", rb.all_output());
    let (a, b) = two_intervals(&ra, "side_by_side_a", "side_by_side_b");
    assert!(overlap(a, b), "{a:?} {b:?}");
}

/// The `.entry` files in a ledger directory.
fn ledger_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "entry"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_runs_durable_change_is_undone_once_by_the_next_harness_start() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    // No guardian: as if it had been killed too.
    let out = cmd
        .env("CHAOS_GUARDIAN", "off")
        .args(["--exact", "outcome_fixtures::killed_after_a_durable_change"])
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(9), "{out:?}");
    let killed = result(out, jd.clone(), cd);
    assert_eq!(killed.count("changed"), 1, "{}", killed.all_output());
    assert_eq!(
        killed.count("restored"),
        0,
        "nothing undid the change before the kill"
    );
    let ledger = jd.join("ledger");
    assert_eq!(ledger_entries(&ledger), 1, "the killed run's entry is left");

    // The next start of the harness, whatever it runs, recovers the entry before its trials;
    // the one after finds nothing to do.
    for round in 0..2 {
        let (mut cmd, jd, cd) = command(EXE, &tmp);
        let out = cmd
            .args(["--exact", "outcome_fixtures::passed"])
            .output()
            .unwrap();
        let r = result(out, jd, cd);
        assert_eq!(r.code, Some(0), "{}", r.all_output());
        let recovered = r.stderr.contains("chaos: recovered run");
        assert_eq!(recovered, round == 0, "{}", r.all_output());
        if round == 0 {
            assert!(
                r.stderr
                    .contains("`outcome_fixtures::killed_after_a_durable_change` (process"),
                "{}",
                r.all_output()
            );
            assert!(
                r.stderr
                    .contains("2 rollback(s) ran, outcome `interrupted`"),
                "{}",
                r.all_output()
            );
        }
        assert_eq!(r.count("restored"), 1, "the undo ran exactly once in all");
        // `passed` counts its own rollback in the same file: only the killed run's are counted.
        let killed_rollbacks = std::fs::read_to_string(r.count_dir.join("rollback.count"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with("killed_after_a_durable_change"))
            .count();
        assert_eq!(
            killed_rollbacks, 1,
            "the rollback block ran exactly once in all"
        );
        assert_eq!(ledger_entries(&ledger), 0, "{}", r.all_output());
    }

    // The killed run's journal, written by the recovery.
    let recovered: Vec<_> = std::fs::read_dir(&jd)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with("outcome_fixtures__killed_after_a_durable_change.recovered-")
            })
        })
        .collect();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&recovered[0]).unwrap()).unwrap();
    assert_eq!(j["outcome"], "interrupted", "{j:#}");
    assert_eq!(j["status"], "interrupted", "{j:#}");
    assert_eq!(
        j["stopped_by"],
        "the end of its process, before its rollbacks (recovered)"
    );
    let names: Vec<&str> = j["rollbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["restore the marker", "count rollback"], "{j:#}");
    let rec = &j["recovered"];
    assert_eq!(rec["undos"][0]["outcome"], "done", "{rec:#}");
    assert_eq!(rec["undos"][0]["applied"], true, "{rec:#}");
    assert_eq!(rec["rollback_block"], "ran", "{rec:#}");
    assert!(rec["by"]["pid"].as_u64().is_some(), "{rec:#}");
    assert_ne!(rec["by"]["pid"], rec["owner"]["pid"], "{rec:#}");
}

/// The journals a recovery wrote for `experiment` (`suite::name`) in `dir`.
fn recovered_journals(dir: &std::path::Path, experiment: &str) -> Vec<std::path::PathBuf> {
    let prefix = format!("{}.recovered-", experiment.replace("::", "__"));
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_guardian_rolls_back_a_killed_run_at_once() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd
        .args(["--exact", "outcome_fixtures::killed_after_a_durable_change"])
        .output()
        .unwrap();
    let killed_at = Instant::now();
    assert_eq!(out.status.signal(), Some(9), "{out:?}");
    // No harness starts: the guardian alone restores the change and writes the journal.
    let exp = "outcome_fixtures::killed_after_a_durable_change";
    while recovered_journals(&jd, exp).is_empty() && killed_at.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let journals = recovered_journals(&jd, exp);
    assert_eq!(
        journals.len(),
        1,
        "the guardian wrote the killed run's journal"
    );
    let ledger = jd.join("ledger");
    // The guardian logs the recovery a moment after it writes the journal.
    let log = loop {
        let log = std::fs::read_to_string(ledger.join("guardian.log")).unwrap_or_default();
        if log.contains("chaos: recovered run") || killed_at.elapsed() > Duration::from_secs(30) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(log.contains("chaos: recovered run"), "{log}");
    let restored = std::fs::read_to_string(cd.join("restored.count")).unwrap_or_default();
    assert_eq!(restored.lines().count(), 1, "the undo ran once: {log}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&journals[0]).unwrap()).unwrap();
    assert_eq!(j["outcome"], "interrupted", "{j:#}");
    assert_eq!(j["recovered"]["undos"][0]["outcome"], "done", "{j:#}");
    assert_eq!(j["recovered"]["rollback_block"], "ran", "{j:#}");
    // The journal is written last: the entry is closed by then, or a moment after.
    while ledger_entries(&ledger) > 0 && killed_at.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ledger_entries(&ledger), 0, "{log}");

    // The next harness start finds nothing left to do.
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let r = result(
        cmd.args(["--exact", "outcome_fixtures::passed"])
            .output()
            .unwrap(),
        jd,
        cd,
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert!(!r.stderr.contains("recovered"), "{}", r.all_output());
    assert_eq!(r.count("restored"), 1);
}

#[test]
fn recovery_only_mode_rolls_back_a_killed_run_and_runs_no_trial() {
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, _) = command(EXE, &tmp);
    let out = cmd
        .env("CHAOS_GUARDIAN", "off")
        .args(["--exact", "outcome_fixtures::killed_after_a_durable_change"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(ledger_entries(&jd.join("ledger")), 1);

    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let r = result(cmd.arg("--recover").output().unwrap(), jd.clone(), cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert!(
        r.stderr.contains("chaos: recovered run"),
        "{}",
        r.all_output()
    );
    assert!(
        !r.stdout.contains("running"),
        "no trial runs: {}",
        r.all_output()
    );
    assert_eq!(r.count("restored"), 1);
    assert_eq!(ledger_entries(&jd.join("ledger")), 0);
    // Nothing left: a second recovery does nothing and says nothing.
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let r = result(cmd.arg("--recover").output().unwrap(), jd, cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert_eq!(r.stderr, "", "{}", r.all_output());
    assert_eq!(r.count("restored"), 1);
}

#[test]
fn sixteen_harnesses_starting_at_once_recover_sixteen_dead_runs_once_each() {
    let tmp = tempfile::tempdir().unwrap().keep();
    let exp = "outcome_fixtures::killed_after_a_durable_change";
    let (_, jd, cd) = command(EXE, &tmp);
    // 16 dead runs' entries, as 16 killed harnesses leave them (a harness started to make
    // one would recover the others first): a header and a change recorded, then the owner's
    // lock let go.
    let ledger = chaos_harness::ledger::Ledger::open(jd.join("ledger")).unwrap();
    for seed in 0..16 {
        let entry = ledger
            .begin(&chaos_harness::ledger::Header::new(exp, seed))
            .unwrap();
        let record = chaos_harness::ledger::UndoRecord::new(
            "fixture.restore",
            "restore the marker",
            serde_json::json!({ "path": cd.join("restored.count") }),
        );
        let seq = entry.intend(&record).unwrap();
        entry.applied(seq).unwrap();
    }
    assert_eq!(ledger_entries(&jd.join("ledger")), 16);
    // 16 processes at once, as nextest starts them: each entry is claimed by one.
    let children: Vec<_> = (0..16)
        .map(|_| {
            let (mut cmd, _, _) = command(EXE, &tmp);
            cmd.arg("--recover")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut recovered = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        recovered += stderr.matches("chaos: recovered run").count();
    }
    assert_eq!(recovered, 16, "each dead run recovered once");
    assert_eq!(ledger_entries(&jd.join("ledger")), 0);
    assert_eq!(recovered_journals(&jd, exp).len(), 16);
    let lines = |f: &str| {
        std::fs::read_to_string(cd.join(f))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .count()
    };
    assert_eq!(lines("restored.count"), 16, "every undo ran once");
    assert_eq!(lines("rollback.count"), 16, "every rollback block ran once");
}

#[test]
fn ledger_off_keeps_no_entry_and_a_killed_run_stays_unrecovered() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap().keep();
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd
        .env("CHAOS_LEDGER", "off")
        .args(["--exact", "outcome_fixtures::killed_after_a_durable_change"])
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(9), "{out:?}");
    let killed = result(out, jd.clone(), cd);
    assert_eq!(killed.count("changed"), 1, "{}", killed.all_output());
    // No entry, no guardian: nothing knows of the change, which is what `off` means.
    assert_eq!(ledger_entries(&jd.join("ledger")), 0);
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let r = result(cmd.arg("--recover").output().unwrap(), jd, cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert!(!r.stderr.contains("recovered"), "{}", r.all_output());
    assert_eq!(r.count("restored"), 0, "{}", r.all_output());
    // And a run with the ledger off passes as any other.
    let (mut cmd, jd, cd) = command(EXE, &tmp);
    let out = cmd
        .env("CHAOS_LEDGER", "off")
        .args(["--exact", "outcome_fixtures::passed"])
        .output()
        .unwrap();
    let r = result(out, jd, cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
}
