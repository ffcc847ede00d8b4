//! The verdict printed for a failed experiment: one readable block.

use chaos_runtime::event::{RollbackDecision, RunReport};
use chaos_runtime::redact::{json_text, redact, redact_truncated};
use std::fmt::Write;
use std::path::Path;

/// Renders a run's verdict: outcome, phase, activity, value, tolerance, rollbacks, seed and
/// journal path, with every registered secret masked (values are redacted before they are
/// serialized and cut, the text before it is returned).
pub(crate) fn render(r: &RunReport, journal: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "experiment `{}` ended `{}` (exit code {})",
        r.experiment,
        r.outcome,
        r.outcome.exit_code()
    );
    if let Some(by) = &r.stopped_by {
        let _ = writeln!(s, "  stopped by: {by}");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(s, "  cause:      {e}");
    }
    for f in &r.findings {
        let _ = writeln!(s, "  phase:      {}", f.phase.describe());
        let _ = writeln!(s, "  activity:   {}", f.activity);
        if let Some(v) = &f.value {
            let _ = writeln!(s, "  value:      {}", short(v));
        }
        if let Some(t) = &f.tolerance {
            let _ = writeln!(s, "  tolerance:  {t}");
        }
        if let Some(e) = &f.failure {
            let _ = writeln!(s, "  failure:    {e}");
        }
    }
    let _ = write!(s, "  rollbacks:  ");
    match r.rollback_decision {
        RollbackDecision::Ran => {
            let list: Vec<String> = r
                .rollbacks
                .iter()
                .map(|rb| {
                    let status = match &rb.failure {
                        None => "succeeded".to_owned(),
                        Some(f) => format!("failed: {f}"),
                    };
                    format!(
                        "\"{}\" {status} ({})",
                        rb.name,
                        chaos_runtime::time::human(rb.duration)
                    )
                })
                .collect();
            let _ = writeln!(s, "{}", list.join("; "));
        }
        RollbackDecision::NoneDeclared => {
            let _ = writeln!(s, "none declared");
        }
        RollbackDecision::MethodNotStarted => {
            let _ = writeln!(s, "not run (the method did not start)");
        }
        RollbackDecision::StrategyNever => {
            let _ = writeln!(s, "not run (rollbacks = never)");
        }
        RollbackDecision::NotDeviated => {
            let _ = writeln!(
                s,
                "not run (rollbacks = deviated, and the run did not deviate)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  seed:       {} (replay with CHAOS_SEED={})",
        r.seed, r.seed
    );
    let _ = write!(s, "  journal:    {}", journal.display());
    redact(&s).into_owned()
}

/// The verdict of a run that could not start or broke, with every registered secret masked.
pub(crate) fn render_broken(name: &str, why: &str, journal: &Path) -> String {
    let text = format!(
        "experiment `{name}` ended `error` (exit code 15)\n  cause:      {why}\n  rollbacks:  not run (the run did not start or broke before its method)\n  journal:    {}",
        journal.display()
    );
    redact(&text).into_owned()
}

/// The longest value a verdict shows, in characters.
const VALUE_CHARS: usize = 300;

/// `v` as JSON, redacted before it is serialized (so escaping cannot hide a secret from the
/// mask) and before it is cut to [`VALUE_CHARS`] (so no part of a secret across the cut shows).
fn short(v: &serde_json::Value) -> String {
    redact_truncated(&json_text(v), VALUE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::awkward;
    use chaos_runtime::event::{ActivityStatus, Finding, Phase, RollbackSummary};
    use chaos_runtime::outcome::{Outcome, Status};
    use serde_json::json;
    use std::time::Duration;

    fn assert_masked(out: &str, what: &str) {
        assert!(
            !out.contains("Zq") && !out.contains("Xw"),
            "{what} leaks a secret:\n{out}"
        );
    }

    fn report(findings: Vec<Finding>) -> RunReport {
        RunReport {
            experiment: "verdict::t".into(),
            outcome: Outcome::Deviated,
            status: Status::Completed,
            deviated: true,
            seed: 7,
            findings,
            rollback_decision: RollbackDecision::NoneDeclared,
            rollbacks: Vec::new(),
            stopped_by: None,
            error: None,
            targets: Vec::new(),
            duration: Duration::from_millis(5),
        }
    }

    fn finding(value: serde_json::Value) -> Finding {
        Finding {
            phase: Phase::SteadyStateAfter,
            activity: "probe \"p\"".into(),
            value: Some(value),
            tolerance: Some("== 200".into()),
            failure: None,
        }
    }

    /// What the harness prints: the rendered verdict, through the redactor.
    fn printed(r: &RunReport) -> String {
        redact(&render(r, Path::new("j.json"))).into_owned()
    }

    #[test]
    fn secrets_that_json_escapes_are_masked_in_every_line() {
        for s in awkward("v") {
            let mut r = report(vec![
                finding(json!({ "token": s, "list": [1, s], (s.clone()): true })),
                Finding {
                    failure: Some(format!("error: bad answer {}", json!({ "pw": s }))),
                    value: None,
                    ..finding(json!(null))
                },
            ]);
            r.rollback_decision = RollbackDecision::Ran;
            r.rollbacks.push(RollbackSummary {
                name: "undo".into(),
                status: ActivityStatus::Failed,
                duration: Duration::ZERO,
                failure: Some(format!("panicked: {s:?}")),
            });
            r.stopped_by = Some(format!("control `c`: {s:?}"));
            r.error = Some(format!("settings: {}", json!(s)));
            assert!(
                !render(&r, Path::new("j.json")).contains("Zq"),
                "render masks by itself"
            );
            let out = printed(&r);
            assert!(out.contains("value:      {"), "{out}");
            assert_masked(&out, "the verdict");
            let broken = render_broken(
                "verdict::t",
                &format!("setup failed: {s:?}"),
                Path::new("j.json"),
            );
            assert_masked(&redact(&broken), "the broken verdict");
        }
    }

    #[test]
    fn the_300_character_cut_never_reveals_part_of_a_secret() {
        for s in awkward("c") {
            let escaped = serde_json::to_string(&s).unwrap().chars().count();
            for filler in (300 - escaped - 8)..=301 {
                let pad = ".".repeat(filler);
                for value in [
                    json!(format!("{pad}{s} and more text after it")),
                    json!([pad, s, "more"]),
                    json!({ (pad.clone()): { (s.clone()): 1 } }),
                ] {
                    let out = printed(&report(vec![finding(value)]));
                    assert_masked(&out, &format!("the verdict cut after {filler} dots"));
                    let line = out
                        .lines()
                        .find(|l| l.starts_with("  value:"))
                        .expect("a value line");
                    let shown = line.trim_start_matches("  value:      ");
                    assert!(shown.chars().count() <= 301, "{line}");
                }
            }
        }
    }
}
