//! The `chaos` command, run as a user runs it: `chaos validate` and `chaos run` on Chaos
//! Toolkit experiment files, with the options people script, exit codes and journals.

use std::path::Path;
use std::process::{Command, Output};

const CHAOS: &str = env!("CARGO_BIN_EXE_chaos");

fn chaos(dir: &Path, args: &[&str]) -> Output {
    Command::new(CHAOS)
        .current_dir(dir)
        .args(args)
        .env("CHAOS_JOURNAL_DIR", dir.join("journals"))
        .env_remove("CHAOS_SETTINGS")
        .env_remove("CHAOS_SEED")
        .output()
        .expect("chaos runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const EXPERIMENT: &str = r#"{
    "title": "the word is ${word}",
    "description": "echo says the configured word",
    "configuration": {"word": "hello", "times": {"type": "env", "key": "CLI_TIMES", "default": "1", "env_var_type": "int"}},
    "steady-state-hypothesis": {
        "title": "echo works",
        "probes": [{
            "type": "probe", "name": "echo",
            "tolerance": {"type": "regex", "pattern": "^hello\n$", "target": "stdout"},
            "provider": {"type": "process", "path": "echo", "arguments": ["${word}"]}
        }]
    },
    "method": [{"type": "action", "name": "say", "provider": {"type": "process", "path": "echo", "arguments": "${times}"}}]
}"#;

#[test]
fn validate_says_valid_or_lists_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.json"), EXPERIMENT).expect("write");
    let o = chaos(dir.path(), &["validate", "ok.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("ok.json: experiment syntax and semantic look valid"),
        "{}",
        text(&o)
    );
    std::fs::write(
        dir.path().join("bad.yaml"),
        "title: t\nmethod:\n- type: action\n  name: a\n  provider: {type: process, path: echo}\n  argument: x\n",
    )
    .expect("write");
    let o = chaos(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("bad.yaml: not a valid Chaos Toolkit experiment (2 problems)"),
        "{out}"
    );
    assert!(
        out.contains("line 1: description: experiment requires a description"),
        "{out}"
    );
    assert!(
        out.contains("line 6: method[0].argument: unknown key `argument`"),
        "{out}"
    );
    let o = chaos(dir.path(), &["validate", "missing.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("missing.json: cannot read it"),
        "{}",
        text(&o)
    );
}

#[test]
fn run_writes_the_journal_where_asked_and_exits_0_only_when_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("exp.json"), EXPERIMENT).expect("write");
    let o = chaos(dir.path(), &["--no-version-check", "run", "exp.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("journal.json"))
            .expect("journal at ./journal.json"),
    )
    .expect("JSON");
    assert_eq!(j["outcome"], "passed");
    assert_eq!(j["status"], "completed");
    assert_eq!(j["experiment"]["title"], "the word is hello");
    assert_eq!(j["run"][0]["output"]["stdout"], "1\n");

    // --var replaces the configured word (the steady state then misses: baseline-not-met),
    // --var-file's .env gives the environment.
    std::fs::write(dir.path().join("vars.env"), "CLI_TIMES=3\n").expect("write");
    let o = chaos(
        dir.path(),
        &[
            "run",
            "--journal-path",
            "out/j.json",
            "--var",
            "word=bye",
            "--var-file",
            "vars.env",
            "exp.json",
        ],
    );
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("baseline-not-met"), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/j.json")).expect("journal"),
    )
    .expect("JSON");
    assert_eq!(j["outcome"], "baseline-not-met");
    assert_eq!(
        j["steady_states"]["before"]["probes"][0]["output"]["stdout"],
        "bye\n"
    );

    let o = chaos(
        dir.path(),
        &[
            "run",
            "--var-file",
            "vars.env",
            "--hypothesis-strategy",
            "before-method-only",
            "exp.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("journal.json")).expect("journal"),
    )
    .expect("JSON");
    assert_eq!(j["run"][0]["output"]["stdout"], "3\n");
    assert!(j["steady_states"]["after"].is_null(), "{j:#}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["run"][..],
        &["run", "--rollback-strategy", "sometimes", "x.json"],
        &["run", "--var", "novalue", "x.json"],
        &["frobnicate"],
    ] {
        let o = chaos(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}

#[test]
fn change_dir_and_settings_are_read_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("exps");
    std::fs::create_dir_all(&sub).expect("dir");
    std::fs::write(sub.join("exp.json"), EXPERIMENT).expect("write");
    let o = chaos(dir.path(), &["--change-dir", "exps", "run", "exp.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        sub.join("journal.json").is_file(),
        "the journal goes to the new directory"
    );
    // A settings file that is wrong makes the run an error that names it.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[journal]\nflush_timout = \"1s\"\n",
    )
    .expect("write");
    let o = chaos(
        dir.path(),
        &["--settings", "bad.toml", "run", "exps/exp.json"],
    );
    assert_eq!(o.status.code(), Some(15), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("bad.toml") && out.contains("flush_timout"),
        "{out}"
    );
}

#[test]
fn recover_rolls_back_a_run_that_was_killed_before_its_rollbacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("rolled-back");
    std::fs::write(
        dir.path().join("killed.yaml"),
        format!(
            "title: killed mid-method\ndescription: the method kills the runner\nmethod:\n\
             - type: action\n  name: kill-the-runner\n  provider: {{type: process, path: sh, arguments: [-c, 'kill -9 $PPID; sleep 5']}}\n\
             rollbacks:\n\
             - type: action\n  name: roll-back\n  provider: {{type: process, path: touch, arguments: [{:?}]}}\n",
            marker.display().to_string()
        ),
    )
    .expect("write");
    let killed = Command::new(CHAOS)
        .current_dir(dir.path())
        .args(["run", "killed.yaml"])
        .env("CHAOS_JOURNAL_DIR", dir.path().join("journals"))
        .env("CHAOS_GUARDIAN", "off")
        .env_remove("CHAOS_SETTINGS")
        .output()
        .expect("chaos runs");
    assert_eq!(killed.status.code(), None, "killed: {}", text(&killed));
    assert!(!marker.exists(), "no rollback ran");
    let o = chaos(dir.path(), &["recover"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(marker.exists(), "the file's rollback ran: {}", text(&o));
    let journal = std::fs::read_dir(dir.path().join("journals"))
        .expect("journals")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(".recovered-"))
        .unwrap_or_else(|| panic!("no recovered journal: {}", text(&o)));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&journal).expect("read")).expect("json");
    assert_eq!(j["outcome"], "interrupted", "{j:#}");
    assert_eq!(j["recovered"]["rollback_block"], "ran", "{j:#}");
    // Nothing is left: a second recovery has nothing to do.
    std::fs::remove_file(&marker).expect("remove");
    let again = chaos(dir.path(), &["recover"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(!marker.exists(), "recovered once");
}

#[test]
fn history_shows_each_experiments_runs_and_imports_chaos_toolkit_journals() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.json"), EXPERIMENT).expect("write");
    std::fs::write(
        dir.path().join("missed.yaml"),
        "title: missed\ndescription: the baseline misses\nsteady-state-hypothesis:\n  title: one\n  probes:\n  - type: probe\n    name: two\n    tolerance: 0\n    provider: {type: process, path: 'false'}\nmethod: []\n",
    )
    .expect("write");
    let env_run = |args: &[&str]| {
        Command::new(CHAOS)
            .current_dir(dir.path())
            .args(args)
            .env("CHAOS_JOURNAL_DIR", dir.path().join("journals"))
            .env("CHAOS_REVISION", "rev-1")
            .env_remove("CHAOS_SETTINGS")
            .env_remove("CHAOS_HISTORY")
            .output()
            .expect("chaos runs")
    };
    for _ in 0..2 {
        assert_eq!(env_run(&["run", "ok.json"]).status.code(), Some(0));
    }
    let o = env_run(&["run", "missed.yaml"]);
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    let o = env_run(&["history", "--last", "5"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("3 run(s) in "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok ") && l.contains("100%") && l.ends_with("passed passed")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("missed ") && l.ends_with("baseline-not-met")),
        "{out}"
    );
    // weights 1 and 1: (100 + 0) / 2.
    assert!(
        out.contains("resilience score") && out.ends_with(": 50.00\n"),
        "{out}"
    );
    // Chaos Toolkit's journals come in by their title; what is not a journal is named and skipped.
    std::fs::write(
        dir.path().join("ctk.json"),
        r#"{"experiment": {"title": "pods come back"}, "start": "2026-12-05T10:00:00", "status": "completed", "deviated": false, "duration": 1.5, "steady_states": {"before": {"steady_state_met": true, "probes": [{"activity": {"type": "probe", "name": "p"}, "status": "succeeded", "tolerance_met": true}]}, "after": null, "during": []}, "run": [], "rollbacks": []}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("cut.json"), "{\"start\": \"2026").expect("write");
    let o = env_run(&["history", "import", "ctk.json", "cut.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("cut.json: "), "{}", text(&o));
    assert!(text(&o).contains("1 journal(s) added"), "{}", text(&o));
    let o = env_run(&["history", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["runs"], 4);
    let ctk = v["experiments"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["experiment"] == "pods come back"))
        .expect("the imported run");
    assert_eq!(ctk["last"], serde_json::json!(["passed"]));
    assert_eq!(v["resilience_score"], 66.66);
    let ok = v["experiments"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["experiment"] == "ok"))
        .expect("ok");
    assert_eq!(ok["flaky"], serde_json::json!({"changes": 0, "pairs": 1}));
}

#[test]
fn a_history_that_cannot_be_written_warns_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.json"), EXPERIMENT).expect("write");
    // Its directory is a file: nothing can be opened there.
    std::fs::write(dir.path().join("not-a-dir"), "").expect("write");
    let o = Command::new(CHAOS)
        .current_dir(dir.path())
        .args(["run", "ok.json"])
        .env("CHAOS_JOURNAL_DIR", dir.path().join("journals"))
        .env("CHAOS_HISTORY", dir.path().join("not-a-dir/history.sqlite"))
        .env_remove("CHAOS_SETTINGS")
        .output()
        .expect("chaos runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("not-a-dir/history.sqlite") && text(&o).contains("not in the history"),
        "{}",
        text(&o)
    );
}

#[test]
fn report_renders_ours_and_chaos_toolkits_and_names_what_it_left_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.json"), EXPERIMENT).expect("write");
    for _ in 0..2 {
        let o = chaos(
            dir.path(),
            &["run", "ok.json", "--journal-path", "journals/ok.json"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let journals = dir.path().join("journals");
    std::fs::write(
        journals.join("ctk.json"),
        r#"{"experiment": {"title": "pods come back"}, "start": "2026-12-05T10:00:00", "status": "completed", "deviated": true, "duration": 1.5, "steady_states": {"before": {"steady_state_met": true, "probes": []}, "after": {"steady_state_met": false, "probes": [{"activity": {"type": "probe", "name": "pods", "tolerance": 3}, "status": "succeeded", "output": 1, "tolerance_met": false, "start": "2026-12-05T10:00:01", "end": "2026-12-05T10:00:01.200000"}]}, "during": []}, "run": [], "rollbacks": []}"#,
    )
    .expect("write");
    std::fs::write(journals.join("cut.json"), "{\"experiment\": {\"ti").expect("write");
    // By default: the journal directory, written to ./report.html, with the history's strip.
    let o = chaos(dir.path(), &["report"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("cut.json: not a journal: not JSON"), "{out}");
    assert!(
        out.contains("report.html written: 2 journal(s), 1 file(s) left out"),
        "{out}"
    );
    let page = std::fs::read_to_string(dir.path().join("report.html")).expect("the page");
    assert!(
        page.contains("Left out of this report"),
        "the page names it too"
    );
    assert!(
        page.contains("ok</a>") || page.contains(">ok<"),
        "our journal, by its name"
    );
    assert!(page.contains("pods come back") && page.contains("Chaos Toolkit"));
    assert!(page.contains("after the method: probe `pods` missed its tolerance `3` (value 1)"));
    assert_eq!(
        page.matches(r#"<span class="o-passed" title="passed "#)
            .count(),
        2,
        "ok ran twice: its strip shows both"
    );
    assert!(
        page.contains(r#"<a href="journals/ok.json""#),
        "linked from beside it"
    );
    // Named files, another output, no history; nothing readable exits 1.
    let o = chaos(
        dir.path(),
        &[
            "report",
            "journals/ctk.json",
            "-o",
            "out/ctk.html",
            "--no-history",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let page = std::fs::read_to_string(dir.path().join("out/ctk.html")).expect("the page");
    assert!(page.contains("1 experiment run: 1 deviated") && !page.contains("o-passed\" title"));
    let o = chaos(
        dir.path(),
        &["report", "journals/cut.json", "-o", "none.html"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no journal in journals/cut.json"),
        "{}",
        text(&o)
    );
}
