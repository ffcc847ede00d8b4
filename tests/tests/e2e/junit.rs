//! The harness's JUnit file (`CHAOS_JUNIT`, `[report] junit`) as CI systems read it: one
//! testcase per experiment, every outcome mapped, the verdict as the message, properties for
//! the outcome, seed and journal; valid against the JUnit schema of Jenkins' xUnit plugin
//! (`tests/junit/junit-10.xsd`, which GitLab's parser accepts too), checked with xmllint; whole
//! under nextest's process per experiment.

use chaos_tests::command;
use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_outcome-fixtures");
const XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/junit/junit-10.xsd");

/// `xmllint --schema` on `file` (scripts/system-packages.sh installs it).
fn assert_schema_valid(file: &Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", XSD])
        .arg(file)
        .output()
        .expect("xmllint runs: `bash scripts/system-packages.sh install` (scripts/test.sh does)");
    assert!(
        out.status.success(),
        "{} does not validate:\n{}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(file).unwrap_or_default()
    );
}

/// The `<testsuite>` element of experiment `name` in `xml`.
fn suite<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml
        .find(&format!("<testsuite name=\"{name}\""))
        .unwrap_or_else(|| panic!("no testsuite {name}:\n{xml}"));
    let end = xml[start..].find("</testsuite>").expect("closed") + start;
    &xml[start..end]
}

#[test]
fn cargo_test_users_get_a_junit_file_with_every_outcome_mapped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let junit = tmp.path().join("reports/junit.xml");
    let (mut cmd, journals, _) = command(EXE, tmp.path());
    // Every experiment but those that wait for a signal or kill their harness.
    let out = cmd
        .env("CHAOS_JUNIT", &junit)
        .args([
            "--skip",
            "interrupted",
            "--skip",
            "killed_after",
            "--test-threads",
            "2",
        ])
        .output()
        .expect("the harness runs");
    assert_ne!(out.status.code(), Some(0), "some experiments fail");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file is written");
    assert_schema_valid(&junit);
    // (experiment, the element its testcase holds, the outcome property)
    for (name, element, outcome) in [
        ("passed", None, "passed"),
        ("baseline_not_met", Some("error"), "baseline-not-met"),
        ("method_probe_deviates", Some("failure"), "deviated"),
        ("activity_failed", Some("error"), "activity-failed"),
        ("rollback_failed", Some("error"), "rollback-failed"),
        ("aborted", Some("error"), "aborted"),
        ("error", Some("error"), "error"),
        ("expected_failure", None, "activity-failed"),
        ("expectation_missed", Some("failure"), "passed"),
        ("ignored", Some("skipped"), "not run"),
    ] {
        let s = suite(&xml, &format!("outcome_fixtures::{name}"));
        assert!(
            s.contains(&format!(
                "<testcase name=\"{name}\" classname=\"outcome_fixtures\""
            )),
            "{s}"
        );
        assert!(
            s.contains(&format!("<property name=\"outcome\" value=\"{outcome}\"/>")),
            "{name}: {s}"
        );
        for e in ["failure", "error", "skipped"] {
            assert_eq!(
                s.contains(&format!("<{e} ")),
                element == Some(e),
                "{name}: <{e}> in\n{s}"
            );
        }
        if outcome != "not run" {
            // The journal and seed the verdict names.
            let journal = journals.join(format!("outcome_fixtures__{name}.json"));
            let j: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&journal).expect("journal")).expect("json");
            assert_eq!(j["outcome"], outcome, "{name}");
            assert!(
                s.contains(&format!(
                    "<property name=\"journal\" value=\"{}\"/>",
                    journal.display()
                )),
                "{s}"
            );
            assert!(
                s.contains(&format!(
                    "<property name=\"seed\" value=\"{}\"/>",
                    j["seed"]
                )),
                "{s}"
            );
        }
    }
    // The verdict is the failure's message and body.
    let deviated = suite(&xml, "outcome_fixtures::method_probe_deviates");
    assert!(
        deviated.contains("<failure type=\"deviated\" message=\"experiment `outcome_fixtures::method_probe_deviates` ended `deviated` (exit code 11)\">"),
        "{deviated}"
    );
    assert!(deviated.contains("replay with CHAOS_SEED="), "{deviated}");
    // The counts CI systems show.
    let head = xml.lines().nth(1).expect("the root element");
    assert!(
        head.starts_with("<testsuites name=\"outcome-fixtures\""),
        "{head}"
    );
}

#[test]
fn under_nextest_each_process_adds_its_experiment_to_one_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let junit = tmp.path().join("junit.xml");
    let settings = tmp.path().join("chaos.toml");
    std::fs::write(&settings, "[report]\njunit = \"junit.xml\"\n").expect("settings");
    // As nextest runs them: one process per experiment, the run's id in the environment.
    for run in ["run-1", "run-2"] {
        for name in ["passed", "deviated", "error"] {
            let (mut cmd, _, _) = command(EXE, tmp.path());
            cmd.env("CHAOS_SETTINGS", &settings)
                .env("NEXTEST_RUN_ID", run)
                .args(["--exact", &format!("outcome_fixtures::{name}")])
                .output()
                .expect("the harness runs");
        }
    }
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    assert_schema_valid(&junit);
    assert!(
        xml.contains("tests=\"3\" failures=\"1\" errors=\"1\""),
        "the second run's three, once each:\n{xml}"
    );
    for name in ["passed", "deviated", "error"] {
        assert_eq!(
            xml.matches(&format!("<testsuite name=\"outcome_fixtures::{name}\""))
                .count(),
            1,
            "{xml}"
        );
    }
}
