//! The settings file, secrets and extensions through a real harness process: secrets planted
//! in variables, outputs, errors and panics never appear in anything the run wrote or sent;
//! channels, observers, hooks and controls registered in `main!(setup = ...)` work; a bad
//! settings file ends every experiment with `error`, naming the file, line and key.

use chaos_test_support::receiver::{Answer, Receiver};
use chaos_tests::{command, result, RunResult};
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_notify-fixtures");
const TOKEN: &str = "tok-5e1f0c9a7b3d2468";
const PASSWORD: &str = "pw-a8c7e6f5d4b3c2b1";
const OPS_PASSWORD: &str = "ops-9f8e7d6c5b4a3921";
const INLINE: &str = "inl-3c2b1a0f9e8d7c6b";

struct World {
    dir: PathBuf,
    settings: PathBuf,
    receiver: Receiver,
    slack: Receiver,
}

fn world(extra: &str) -> World {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(dir.join("db.txt"), format!("{PASSWORD}\n")).unwrap();
    let receiver = Receiver::start(Answer::Ok);
    let slack = Receiver::start(Answer::Ok);
    let settings = dir.join("chaos.toml");
    std::fs::write(
        &settings,
        format!(
            r#"[variables]
service_url = "http://127.0.0.1:9/?token={TOKEN}"

[secrets]
token = {{ env = "FIXTURE_TOKEN" }}
db_password = {{ file = "db.txt" }}
legacy = "{INLINE}"

[journal]
flush_timeout = "3s"

[[notifications]]
type = "http"
name = "receiver"
url = "{}/events"
headers = {{ X-Team = "chaos" }}

[[notifications]]
type = "slack"
name = "slack"
webhook_url = "{}/services/hook"
{extra}"#,
            receiver.url(),
            slack.url()
        ),
    )
    .unwrap();
    World {
        dir,
        settings,
        receiver,
        slack,
    }
}

fn run(w: &World, name: &str, env: &[(&str, &str)]) -> RunResult {
    let (mut cmd, jd, cd) = command(EXE, &w.dir);
    cmd.args(["--exact", &format!("notify_fixtures::{name}")])
        .env("CHAOS_SETTINGS", &w.settings)
        .env("FIXTURE_TOKEN", TOKEN)
        .env("FIXTURE_OPS_USER", "ops")
        .env("FIXTURE_OPS_PASSWORD", OPS_PASSWORD)
        .env("CHANNEL_FILE", w.dir.join("channel.log"))
        .env("OBSERVER_FILE", w.dir.join("observer.log"))
        .env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    result(cmd.output().unwrap(), jd, cd)
}

fn all_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else if p.file_name().unwrap() != "db.txt" && p.file_name().unwrap() != "chaos.toml" {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn secrets_never_leave_the_run_whatever_the_outcome() {
    let w = world("");
    let runs = [
        ("secrets_in_outputs", "passed", vec![]),
        ("secret_baseline", "baseline-not-met", vec![]),
        ("secret_deviates", "deviated", vec![]),
        ("secret_in_error", "activity-failed", vec![]),
        ("secret_in_panic", "activity-failed", vec![]),
        ("secret_rollback_fails", "rollback-failed", vec![]),
        ("secret_missing", "error", vec![]),
        (
            "secrets_in_outputs",
            "aborted",
            vec![("HOOK_REFUSE", "frozen")],
        ),
        (
            "secret_in_error",
            "interrupted",
            vec![("CONTROL_STOP", "fails with the token")],
        ),
    ];
    let mut scanned: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, outcome, env) in &runs {
        let r = run(&w, name, env);
        let j = r.journal(&format!("notify_fixtures::{name}"));
        assert_eq!(j["outcome"], *outcome, "{name}\n{}", r.all_output());
        scanned.push((format!("{name} stdout"), r.stdout.into_bytes()));
        scanned.push((format!("{name} stderr"), r.stderr.into_bytes()));
    }
    let j = serde_json::to_string(
        &run(&w, "secrets_in_outputs", &[]).journal("notify_fixtures::secrets_in_outputs"),
    )
    .unwrap();
    assert!(
        j.contains("\"output\":\"***\""),
        "the token output is masked: {j}"
    );
    assert!(j.contains("password is ***"), "{j}");
    assert!(j.contains("token=***"), "{j}");

    let mut files = Vec::new();
    all_files(&w.dir, &mut files);
    assert!(
        files.len() >= 9,
        "journals, channel and observer logs: {files:?}"
    );
    for (p, bytes) in files {
        scanned.push((p.display().to_string(), bytes));
    }
    let sent = w.receiver.requests();
    assert!(
        sent.len() > 50,
        "the receiver got the events: {}",
        sent.len()
    );
    for (i, req) in sent.iter().chain(w.slack.requests().iter()).enumerate() {
        let headers = format!("{:?}", req.headers);
        scanned.push((
            format!("request {i} {}", req.path),
            format!("{headers}\n{}", req.body).into_bytes(),
        ));
    }
    assert!(
        w.slack.requests().len() >= runs.len(),
        "slack got every final event"
    );
    let needles = [TOKEN, PASSWORD, OPS_PASSWORD, INLINE];
    for (what, bytes) in &scanned {
        let text = String::from_utf8_lossy(bytes);
        for n in needles {
            assert!(!text.contains(n), "secret {n} leaked in {what}:\n{text}");
        }
    }
    let stderr_of_panic = scanned
        .iter()
        .find(|(w, _)| w == "secret_in_panic stderr")
        .unwrap();
    assert!(String::from_utf8_lossy(&stderr_of_panic.1).contains("token *** leaked"));
}

#[test]
fn extensions_registered_in_main_run() {
    let w = world("");
    let r = run(&w, "secrets_in_outputs", &[]);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("notify_fixtures::secrets_in_outputs");
    assert_eq!(
        j["experiment"]["tags"],
        serde_json::json!(["gated"]),
        "the hook tagged the run"
    );
    let outputs: Vec<_> = j["run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["output"].clone())
        .collect();
    assert_eq!(outputs[2], "open", "the hook's variable reached cx.var");
    let notifications = j["notifications"].as_array().unwrap();
    assert!(
        notifications.iter().all(|n| n["status"] == "delivered"),
        "{notifications:?}"
    );
    assert!(notifications.iter().any(|n| n["channel"] == "file"));
    assert!(notifications
        .iter()
        .any(|n| n["channel"] == "slack" && n["event"] == "run-completed"));
    let channel = std::fs::read_to_string(w.dir.join("channel.log")).unwrap();
    assert!(channel.lines().count() >= 15, "{channel}");
    assert!(channel
        .lines()
        .last()
        .unwrap()
        .contains("\"name\":\"run-completed\""));
    let observed = std::fs::read_to_string(w.dir.join("observer.log")).unwrap();
    assert!(
        observed.contains("\"notify_fixtures::secrets_in_outputs\" \"passed\""),
        "{observed}"
    );
    let http = w.receiver.requests();
    assert!(http.iter().all(|r| r.headers["x-team"] == "chaos"));

    let r = run(&w, "controlled", &[("CONTROL_STOP", "second")]);
    assert_eq!(r.code, Some(130), "{}", r.all_output());
    assert!(
        r.stdout
            .contains("stopped by: control `stop-at`: stop requested before `second`"),
        "{}",
        r.stdout
    );
    let j = r.journal("notify_fixtures::controlled");
    assert_eq!(j["run"].as_array().unwrap().len(), 1, "`second` never ran");
    assert_eq!(j["rollbacks"][0]["status"], "succeeded");

    let r = run(&w, "controlled", &[("HOOK_REFUSE", "change freeze")]);
    assert_eq!(r.code, Some(14), "{}", r.all_output());
    assert!(
        r.stdout
            .contains("hook `gate` refused the run: change freeze"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_bad_settings_file_ends_every_experiment_with_error_naming_file_line_and_key() {
    let w = world(
        "\n[[notifications]]\ntype = \"http\"\nurl = \"http://127.0.0.1:1/\"\ntimeout = \"5x\"\n",
    );
    let (mut cmd, jd, cd) = command(EXE, &w.dir);
    cmd.env("CHAOS_SETTINGS", &w.settings)
        .env("FIXTURE_TOKEN", TOKEN);
    let r = result(cmd.output().unwrap(), jd, cd);
    assert_eq!(r.code, Some(15), "{}", r.all_output());
    let line = std::fs::read_to_string(&w.settings)
        .unwrap()
        .lines()
        .position(|l| l.contains("5x"))
        .unwrap()
        + 1;
    let needle = format!("chaos.toml:{line}");
    assert!(r.stdout.contains(&needle), "{needle} missing\n{}", r.stdout);
    assert!(r.stdout.contains("timeout"), "{}", r.stdout);
    assert!(
        r.stdout.contains("8 failed") || r.stdout.contains("failed"),
        "{}",
        r.stdout
    );
    let j = r.journal("notify_fixtures::controlled");
    assert_eq!(j["outcome"], "error");
    assert!(
        j["run"].as_array().unwrap().is_empty(),
        "nothing was touched"
    );
}

#[test]
fn missing_secret_sources_are_errors_before_anything_runs() {
    let w = world("");
    let (mut cmd, jd, cd) = command(EXE, &w.dir);
    cmd.args(["--exact", "notify_fixtures::controlled"])
        .env("CHAOS_SETTINGS", &w.settings)
        .env_remove("FIXTURE_TOKEN");
    let r = result(cmd.output().unwrap(), jd, cd);
    assert_eq!(r.code, Some(15), "{}", r.all_output());
    assert!(r.stdout.contains("FIXTURE_TOKEN"), "{}", r.stdout);
    let _ = Duration::ZERO;
}

#[test]
fn delivery_failures_are_recorded_and_logged_without_changing_the_verdict() {
    let down = chaos_test_support::receiver::refusing_url();
    let w = world(&format!(
        "\n[[notifications]]\ntype = \"http\"\nname = \"down\"\nurl = \"{down}\"\nretries = 1\nbackoff = \"10ms\"\nevents = [\"run-started\", \"run-completed\"]\n"
    ));
    let r = run(&w, "secrets_in_outputs", &[]);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("notify_fixtures::secrets_in_outputs");
    assert_eq!(j["outcome"], "passed");
    let down: Vec<_> = j["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["channel"] == "down")
        .collect();
    assert_eq!(down.len(), 2, "{down:?}");
    for n in down {
        assert_eq!(n["status"], "failed");
        assert_eq!(n["attempts"], 2);
        assert!(
            n["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("connect"),
            "{n}"
        );
    }
    assert!(
        r.stderr.contains("channel=down") && r.stderr.contains("notification Failed"),
        "failures are logged: {}",
        r.stderr
    );
}
