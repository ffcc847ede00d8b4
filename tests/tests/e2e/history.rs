//! The run history as harness processes write it: nextest's sixteen processes at once lose no
//! row, and each row holds what the journal says.

use chaos_harness::history::Store;
use chaos_tests::command;

const EXE: &str = env!("CARGO_BIN_EXE_outcome-fixtures");

#[test]
fn sixteen_harness_processes_at_once_append_sixteen_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let history = tmp.path().join("history.sqlite");
    let children: Vec<_> = (0..16)
        .map(|i| {
            let dir = tmp.path().join(format!("p{i}"));
            let (mut cmd, _, _) = command(EXE, &dir);
            let name = if i % 2 == 0 {
                "passed"
            } else {
                "method_probe_deviates"
            };
            cmd.env("CHAOS_HISTORY", &history)
                .env("CHAOS_REVISION", "rev-16")
                .args(["--exact", &format!("outcome_fixtures::{name}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the harness starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("the harness ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("not in the history"), "{stderr}");
    }
    let runs = Store::open(&history)
        .expect("the history")
        .runs(None)
        .expect("its runs");
    assert_eq!(runs.len(), 16);
    let deviated: Vec<_> = runs
        .iter()
        .filter(|r| r.experiment == "outcome_fixtures::method_probe_deviates")
        .collect();
    assert_eq!(deviated.len(), 8);
    for r in &deviated {
        assert_eq!(r.outcome, "deviated");
        assert_eq!(r.revision.as_deref(), Some("rev-16"));
        assert_eq!((r.probes, r.probes_met), (1, 0));
        assert_eq!(r.weight, 4, "`weight = 4` on the experiment");
        assert_eq!(
            r.findings,
            ["method: probe `latency` missed its tolerance (value 750)"]
        );
        assert!(r.seed.is_some() && r.journal.as_ref().is_some_and(|j| j.is_file()));
    }
}
