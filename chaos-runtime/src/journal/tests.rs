//! The journal's unit tests.

use super::*;
use crate::{run::Runner, Action, Context, Experiment, Probe};

#[test]
fn a_broken_run_still_leaves_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("x.json");
    let rec = JournalRecorder::new("t::x");
    rec.with(|j| j.finish_broken("the harness panicked"));
    let j = rec.journal();
    assert!(j.is_finished());
    j.write_atomic(&path).unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["outcome"], "error");
    assert_eq!(v["status"], "failed");
    assert_eq!(v["experiment"]["broken"], "the harness panicked");
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["x.json"], "no temporary file is left");
}

#[test]
fn journal_places_records_by_phase() {
    let exp = Experiment::builder("t::phases")
        .steady_state(Probe::new("p", |_| async { Ok(1) }).tolerance("== 1", |v| *v == 1))
        .method(Action::new("a", |_| async { Ok("done") }))
        .rollback(Action::new("r", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let rec = JournalRecorder::new("t::phases");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        Runner::new()
            .sink(rec.clone())
            .run(&exp, Context::builder().seed(9).build()),
    );
    let v = rec.journal().to_value();
    assert_eq!(v["seed"], 9);
    assert_eq!(v["steady_states"]["before"]["probes"][0]["output"], 1);
    assert_eq!(
        v["steady_states"]["after"]["probes"][0]["tolerance_met"],
        true
    );
    assert_eq!(v["run"][0]["output"], "done");
    assert_eq!(v["rollbacks"][0]["status"], "succeeded");
    assert!(v["run"][0].get("exception").is_none());
    assert!(v["run"][0].get("tolerance_met").is_none());
    let r = redact_for_snapshot(v);
    assert_eq!(r["run"][0]["start"], "[timestamp]");
    assert_eq!(r["seed"], "[seed]");
    assert_eq!(r["node"], "[host]");
}

fn record(output: Value, exception: Vec<String>) -> ActivityRecord {
    ActivityRecord {
        activity: json!({ "name": "p" }),
        output,
        status: crate::event::ActivityStatus::Failed,
        start: String::new(),
        end: String::new(),
        duration: 0.0,
        exception: Some(exception),
        tolerance_met: None,
        name: "p".into(),
        kind: crate::model::ActivityKind::Probe,
        tolerance: None,
        failure: None,
        elapsed: std::time::Duration::ZERO,
    }
}

#[test]
fn secrets_escaped_by_json_or_debug_never_reach_the_journal_file() {
    use crate::redact::testing::{assert_masked, awkward};
    let dir = tempfile::tempdir().unwrap();
    for (i, s) in awkward("jrn").into_iter().enumerate() {
        let mut j = Journal::new("t::journal");
        j.experiment = json!({ "description": format!("uses {}", json!(s)) });
        j.run.push(record(
            json!({ (s.clone()): [s, format!("x{s}y")] }),
            vec![
                format!("error: {s:?}"),
                format!("body {}", json!({ "pw": s })),
            ],
        ));
        j.error = Some(format!("{:?}", json!(s).to_string()));
        j.stopped_by = Some(format!("control `c`: {s:?}"));
        assert_masked(&j.to_value().to_string(), "the journal value");
        let path = dir.path().join(format!("{i}.json"));
        j.write_atomic(&path).unwrap();
        assert_masked(&std::fs::read_to_string(&path).unwrap(), "the journal file");
    }
}
