use super::*;
use crate::event::RunReport;
use crate::{run::Runner, Context, Outcome};
use std::io::{Read, Write};
use std::path::Path;

/// A server that answers every request with `status` and a JSON body, and counts them.
fn server(status: u16) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let line = req.lines().next().unwrap_or_default().to_owned();
            let body =
                serde_json::json!({"request": line, "items": [{"n": 1}, {"n": 2}]}).to_string();
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, count)
}

/// The run's report and its journal, as JSON.
fn run(text: &str, options: &RunOptions) -> (RunReport, Value) {
    let file = ExperimentFile::from_text(Path::new("exp.yaml"), text).expect("loads");
    let exp = file.to_experiment("ctk::test", options).expect("builds");
    let recorder = crate::journal::JournalRecorder::new("ctk::test");
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(
            Runner::new()
                .sink(recorder.clone())
                .run(&exp, Context::builder().build()),
        );
    let journal = serde_json::to_value(recorder.journal()).expect("journal JSON");
    (report, journal)
}

const HEAD: &str = "title: t\ndescription: d\n";

#[test]
fn an_http_probe_within_its_status_tolerance_passes_and_the_journal_keeps_the_files_keys() {
    let (url, count) = server(200);
    let text = format!(
        "{HEAD}configuration:\n  base: {url}\nsteady-state-hypothesis:\n  title: up\n  probes:\n  - type: probe\n    name: up\n    tolerance: 200\n    provider: {{type: http, url: '${{base}}/health', timeout: 2, arguments: {{q: 1}}}}\n  - type: probe\n    name: items\n    tolerance: {{type: jsonpath, path: '$.items[*].n', target: body, expect: [1, 2]}}\n    provider: {{type: http, url: '${{base}}/x'}}\nmethod:\n- type: action\n  name: poke\n  provider: {{type: http, url: '${{base}}/poke', method: post, arguments: {{a: b}}}}\n"
    );
    let (report, j) = run(&text, &RunOptions::default());
    assert_eq!(report.outcome, Outcome::Passed, "{j:#}");
    // Before and after, two probes each, and the action.
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 5);
    let before = &j["steady_states"]["before"]["probes"][0];
    assert_eq!(
        before["output"]["body"]["request"], "GET /health?q=1 HTTP/1.1",
        "{j:#}"
    );
    assert_eq!(before["output"]["status"], 200);
    assert_eq!(before["activity"]["provider"]["url"], "${base}/health");
    assert_eq!(before["activity"]["tolerance"], 200);
    assert_eq!(
        j["run"][0]["output"]["body"]["request"],
        "POST /poke HTTP/1.1"
    );
    assert_eq!(j["experiment"]["steady-state-hypothesis"]["title"], "up");
    assert_eq!(j["experiment"]["configuration"]["base"], url.as_str());
}

#[test]
fn a_missed_method_probe_tolerance_is_a_deviation_and_an_unevaluable_one_a_failure() {
    let text = format!(
        "{HEAD}method:\n- type: probe\n  name: count\n  tolerance: [1, 2]\n  provider: {{type: process, path: echo, arguments: '3'}}\n"
    );
    // `[1, 2]` on `{status: 0, ...}` is membership of the status: 0 is not in it.
    let (report, j) = run(&text, &RunOptions::default());
    assert_eq!(report.outcome, Outcome::Deviated, "{j:#}");
    let text = format!(
        "{HEAD}steady-state-hypothesis:\n  title: h\n  probes:\n  - type: probe\n    name: version\n    tolerance: {{type: regex, pattern: '1'}}\n    provider: {{type: process, path: echo, arguments: '1.0'}}\nmethod: []\n"
    );
    let (report, j) = run(&text, &RunOptions::default());
    assert_eq!(report.outcome, Outcome::BaselineNotMet, "{j:#}");
    let why = j["steady_states"]["before"]["probes"][0]["exception"].to_string();
    assert!(
        why.contains(
            "cannot be evaluated: the regex tolerance needs text, and the value is a mapping"
        ),
        "{why}"
    );
}

#[test]
fn configuration_from_the_environment_with_types_secrets_redacted_refs_pauses_and_duplicate_names()
{
    let mut options = RunOptions::default();
    options.inputs.env.insert("CTK_BUILD_N".into(), "41".into());
    options
        .inputs
        .env
        .insert("CTK_BUILD_TOKEN".into(), "s3cr3t-ctk-token".into());
    let text = format!(
        "{HEAD}configuration:\n  n: {{type: env, key: CTK_BUILD_N, env_var_type: int}}\n  wait: 0.05\nsecrets:\n  app:\n    token: {{type: env, key: CTK_BUILD_TOKEN}}\nsteady-state-hypothesis:\n  title: h\n  probes:\n  - type: probe\n    name: adds\n    tolerance: {{type: range, range: [42, 42], target: stdout}}\n    provider: {{type: process, path: sh, arguments: ['-c', 'echo $((${{n}} + 1))']}}\nmethod:\n- type: action\n  name: say\n  pauses: {{after: '${{wait}}'}}\n  provider: {{type: process, path: echo, arguments: 'token ${{token}}'}}\n- ref: adds\nrollbacks:\n- type: action\n  name: say\n  provider: {{type: process, path: 'true'}}\n"
    );
    let (report, j) = run(&text, &options);
    assert_eq!(report.outcome, Outcome::Passed, "{j:#}");
    assert_eq!(j["run"].as_array().map(Vec::len), Some(2));
    assert_eq!(j["run"][1]["activity"]["name"], "adds");
    assert_eq!(j["rollbacks"].as_array().map(Vec::len), Some(1));
    let said = j["run"][0]["output"]["stdout"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(said, "token s3cr3t-ctk-token\n");
    assert_eq!(crate::redact::redact(&said), "token ***\n");
    assert_eq!(j["run"][0]["activity"]["pauses"]["after"], "${wait}");
}

#[test]
fn runtime_strategies_from_the_file_and_from_the_command_line() {
    let text = format!(
        "{HEAD}steady-state-hypothesis:\n  title: h\n  probes:\n  - type: probe\n    name: never\n    tolerance: 1\n    provider: {{type: process, path: 'true'}}\nmethod:\n- type: action\n  name: a\n  provider: {{type: process, path: 'true'}}\nruntime:\n  hypothesis: {{strategy: skip}}\n  rollbacks: {{strategy: never}}\n"
    );
    let file = ExperimentFile::from_text(Path::new("exp.yaml"), &text).expect("loads");
    let exp = file
        .to_experiment("ctk::rt", &RunOptions::default())
        .expect("builds");
    assert!(exp.steady_state().is_empty());
    assert_eq!(exp.rollback_strategy(), RollbackStrategy::Never);
    let options = RunOptions {
        hypothesis_strategy: Some("continuously".into()),
        hypothesis_frequency: Some(0.5),
        fail_fast: true,
        rollback_strategy: Some("deviated".into()),
        ..RunOptions::default()
    };
    let exp = file.to_experiment("ctk::rt", &options).expect("builds");
    assert_eq!(
        exp.hypothesis(),
        Hypothesis::Continuously {
            every: Duration::from_millis(500),
            fail_fast: true
        }
    );
    assert_eq!(exp.rollback_strategy(), RollbackStrategy::Deviated);
    let e = file
        .to_experiment(
            "ctk::rt",
            &RunOptions {
                hypothesis_strategy: Some("sometimes".into()),
                ..RunOptions::default()
            },
        )
        .expect_err("unknown");
    assert!(
        e.to_string()
            .contains("unknown hypothesis strategy `sometimes`"),
        "{e}"
    );
}

#[test]
fn an_invalid_file_is_refused_with_every_problem() {
    let file = ExperimentFile::from_text(
        Path::new("exp.yaml"),
        "title: t\nmethod: []\nrollback: []\n",
    )
    .expect("loads");
    let e = file
        .to_experiment("ctk::bad", &RunOptions::default())
        .expect_err("invalid");
    let text = e.to_string();
    assert!(text.contains("experiment requires a description"), "{text}");
    assert!(text.contains("did you mean `rollbacks`?"), "{text}");
}

#[test]
fn chaoslib_type_conversions() {
    use serde_json::json;
    assert_eq!(convert(Some("int"), json!(" 42 ")), Ok(json!(42)));
    assert_eq!(convert(Some("float"), json!("1.5")), Ok(json!(1.5)));
    assert_eq!(convert(Some("bool"), json!("off")), Ok(json!(true)));
    assert_eq!(convert(Some("bool"), json!("No")), Ok(json!(false)));
    assert_eq!(convert(Some("json"), json!("[1]")), Ok(json!([1])));
    assert!(convert(Some("int"), json!("x")).is_err());
    assert!(convert(Some("uuid"), json!("x")).is_err());
}

#[test]
fn dry_modes_skip_what_they_name() {
    let text = format!(
        "{HEAD}steady-state-hypothesis:\n  title: h\n  probes:\n  - type: probe\n    name: fails-if-run\n    tolerance: 0\n    provider: {{type: process, path: 'false'}}\nmethod:\n- type: action\n  name: slow\n  pauses: {{after: 30}}\n  provider: {{type: process, path: 'false'}}\n"
    );
    let dry = |mode: &str| RunOptions {
        dry: Some(mode.into()),
        ..RunOptions::default()
    };
    let (report, j) = run(&text, &dry("activities"));
    assert_eq!(report.outcome, Outcome::Passed, "{j:#}");
    assert_eq!(j["run"][0]["output"], Value::Null);
    let (report, _) = run(&text, &dry("actions"));
    assert_eq!(report.outcome, Outcome::BaselineNotMet);
    let file = ExperimentFile::from_text(Path::new("exp.yaml"), &text).expect("loads");
    let e = file
        .to_experiment("ctk::dry", &dry("everything"))
        .expect_err("unknown");
    assert!(
        e.to_string().contains("unknown dry mode `everything`"),
        "{e}"
    );
}

#[test]
fn controls_are_named_to_be_skipped() {
    let root = serde_json::json!({
        "controls": [{"name": "tracing", "provider": {"type": "python", "module": "chaostracing.control"}}],
        "method": [{"type": "action", "name": "a", "controls": [{"name": "safeguard"}]}]
    });
    assert_eq!(control_names(&root), ["tracing", "safeguard"]);
}
