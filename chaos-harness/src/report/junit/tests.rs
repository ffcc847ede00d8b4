use super::{render, Case, Status};
use chaos_runtime::Outcome;

fn case(name: &str, outcome: Option<Outcome>, expected: Outcome, problems: &[&str]) -> Case {
    Case {
        name: name.to_owned(),
        outcome,
        expected,
        seed: Some(42),
        journal: Some(format!("/j/{name}.json").into()),
        seconds: 1.23456,
        start: Some("2026-12-05T12:00:00Z".into()),
        problems: problems.iter().map(|p| (*p).to_owned()).collect(),
        snapshot: None,
        skipped: None,
    }
}

#[test]
fn every_outcome_maps_as_ci_systems_read_it() {
    use Outcome::*;
    let failed = ["experiment `x` ended `...`"];
    for (outcome, expected, problems, status) in [
        (Some(Passed), Passed, &[][..], Status::Success),
        (Some(Deviated), Deviated, &[][..], Status::Success),
        (Some(Deviated), Passed, &failed[..], Status::Failure),
        (Some(BaselineNotMet), Passed, &failed[..], Status::Error),
        (Some(ActivityFailed), Passed, &failed[..], Status::Error),
        (Some(RollbackFailed), Passed, &failed[..], Status::Error),
        (Some(Aborted), Passed, &failed[..], Status::Error),
        (Some(Interrupted), Passed, &failed[..], Status::Error),
        (Some(Error), Passed, &failed[..], Status::Error),
        (Some(Passed), Deviated, &failed[..], Status::Failure),
        (
            Some(Passed),
            Passed,
            &["snapshot differs"][..],
            Status::Failure,
        ),
        (None, Passed, &[][..], Status::Skipped),
    ] {
        assert_eq!(
            case("m::x", outcome, expected, problems).status(),
            status,
            "{outcome:?} expecting {expected:?}"
        );
    }
}

#[test]
fn the_file_names_cases_by_module_and_function_and_carries_the_verdict() {
    let cases = [
        case("suite::ok", Some(Outcome::Passed), Outcome::Passed, &[]),
        case(
            "suite::deep::missed",
            Some(Outcome::Deviated),
            Outcome::Passed,
            &["experiment `suite::deep::missed` ended `deviated` (exit code 11)\n  value: <1> & \"2\"\u{7}"],
        ),
        case("top", Some(Outcome::Error), Outcome::Passed, &["no variable `X`"]),
        case("suite::later", None, Outcome::Passed, &[]),
        Case {
            skipped: Some("outside its run window (Mon-Fri 09:00-15:00 UTC): Saturday is not a run day (Mon-Fri)".into()),
            seconds: 0.0,
            ..case("suite::weekdays", None, Outcome::Passed, &[])
        },
    ];
    let xml = String::from_utf8(render("experiments", &cases)).expect("utf-8");
    assert!(xml.contains("<skipped message=\"outside its run window (Mon-Fri 09:00-15:00 UTC): Saturday is not a run day (Mon-Fri)\"/>"), "{xml}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"experiments\" tests=\"5\" failures=\"1\" errors=\"1\" time=\"4.938\">"), "{xml}");
    assert!(
        xml.contains("<testcase name=\"missed\" classname=\"suite::deep\" time=\"1.235\">"),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"deviated\" message=\"experiment `suite::deep::missed` ended `deviated` (exit code 11)\">experiment `suite::deep::missed` ended `deviated` (exit code 11)\n  value: &lt;1&gt; &amp; &quot;2&quot;</failure>"), "{xml}");
    assert!(
        xml.contains("<testcase name=\"top\" classname=\"experiments\""),
        "{xml}"
    );
    assert!(
        xml.contains("<error type=\"error\" message=\"no variable `X`\">"),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"ignored\"/>"), "{xml}");
    assert!(
        xml.contains("<property name=\"outcome\" value=\"deviated\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"seed\" value=\"42\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"journal\" value=\"/j/suite::ok.json\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"outcome\" value=\"not run\"/>"),
        "{xml}"
    );
    assert!(!xml.contains('\u{7}'));
}
