//! The verdict printed for a failed experiment: one readable block.

use chaos_runtime::event::{RollbackDecision, RunReport};
use std::fmt::Write;
use std::path::Path;

/// Renders a run's verdict: outcome, phase, activity, value, tolerance, rollbacks, seed and
/// journal path.
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
    s
}

/// The verdict of a run that could not start or broke.
pub(crate) fn render_broken(name: &str, why: Option<&serde_json::Value>, journal: &Path) -> String {
    let why = why.and_then(|v| v.as_str()).unwrap_or("unknown");
    format!(
        "experiment `{name}` ended `error` (exit code 15)\n  cause:      {why}\n  rollbacks:  not run (the run did not start or broke before its method)\n  journal:    {}",
        journal.display()
    )
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        let cut: String = s.chars().take(300).collect();
        format!("{cut}…")
    } else {
        s
    }
}
