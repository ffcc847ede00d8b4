//! What the history says per experiment, and Litmus's resilience score.

use super::row::Run;
use std::collections::BTreeMap;

/// One experiment's history, in short.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The experiment.
    pub experiment: String,
    /// How many runs the history holds.
    pub runs: usize,
    /// The last outcomes, most recent first.
    pub last: Vec<String>,
    /// The share of runs that passed (0 to 1).
    pub pass_rate: f64,
    /// Outcome changes between consecutive runs of the same code (same known git revision,
    /// without uncommitted changes), and how many such pairs there were: `(changes, pairs)`.
    pub flaky: (usize, usize),
    /// The median time to recover over the runs that measured one, in milliseconds.
    pub recovery_ms: Option<i64>,
    /// The latest run's probe success percentage ([`Run::probe_success`]).
    pub probe_success: i64,
    /// The latest run's weight.
    pub weight: i64,
    /// The latest run's findings.
    pub findings: Vec<String>,
}

/// Summarizes `runs` (oldest first) per experiment, keeping the `last` outcomes of each.
///
/// ```
/// use chaos_runtime::history::{summarize, Run};
/// let run = |outcome: &str, rev: &str| {
///     let mut r = Run::from_journal(&serde_json::json!({"name": "x", "outcome": outcome}), None, Some(rev.into()));
///     r.outcome = outcome.into();
///     r
/// };
/// let runs = [run("passed", "a"), run("deviated", "a"), run("passed", "b"), run("passed", "b")];
/// let s = &summarize(&runs, 3)[0];
/// assert_eq!(s.last, ["passed", "passed", "deviated"]);
/// assert_eq!(s.pass_rate, 0.75);
/// assert_eq!(s.flaky, (1, 2)); // a: passed then deviated; b: passed twice
/// ```
pub fn summarize(runs: &[Run], last: usize) -> Vec<Summary> {
    let mut by: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for r in runs {
        by.entry(r.experiment.as_str()).or_default().push(r);
    }
    by.into_iter()
        .map(|(experiment, runs)| {
            let passed = runs.iter().filter(|r| r.outcome == "passed").count();
            let mut flaky = (0, 0);
            for pair in runs.windows(2) {
                let same_code = match (&pair[0].revision, &pair[1].revision) {
                    (Some(a), Some(b)) => a == b && !a.ends_with("-dirty"),
                    _ => false,
                };
                if same_code {
                    flaky.1 += 1;
                    if pair[0].outcome != pair[1].outcome {
                        flaky.0 += 1;
                    }
                }
            }
            let mut recoveries: Vec<i64> = runs.iter().filter_map(|r| r.recovery_ms).collect();
            recoveries.sort_unstable();
            let latest = runs[runs.len() - 1];
            Summary {
                experiment: experiment.to_owned(),
                runs: runs.len(),
                last: runs
                    .iter()
                    .rev()
                    .take(last)
                    .map(|r| r.outcome.clone())
                    .collect(),
                pass_rate: passed as f64 / runs.len() as f64,
                flaky,
                recovery_ms: recoveries.get(recoveries.len() / 2).copied(),
                probe_success: latest.probe_success(),
                weight: latest.weight,
                findings: latest.findings.clone(),
            }
        })
        .collect()
}

/// Litmus's resilience score of `(weight, probe success percentage)` pairs: the sum of each
/// weight times its percentage, over the sum of the weights, cut (not rounded) to two
/// decimals; 0 when the weights sum to 0.
///
/// Litmus's documented example, two experiments of weights 3 and 9 whose probes all passed:
///
/// ```
/// assert_eq!(chaos_runtime::history::score(&[(3, 100), (9, 100)]), 100.0);
/// // 1000 / 14 = 71.428...: cut to 71.42, as ChaosCenter does.
/// assert_eq!(chaos_runtime::history::score(&[(2, 0), (4, 100), (8, 75)]), 71.42);
/// ```
pub fn score(parts: &[(i64, i64)]) -> f64 {
    let total: i64 = parts.iter().map(|(w, p)| w * p).sum();
    let weights: i64 = parts.iter().map(|(w, _)| w).sum();
    if weights == 0 {
        return 0.0;
    }
    (total * 100 / weights) as f64 / 100.0
}
