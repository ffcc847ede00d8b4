//! The outcome of a run as one pure function of its findings and of what stopped it.

use super::stop::Stop;
use super::tally::{FindingKind, Tally};
use crate::outcome::Outcome;

/// The outcome of a run, from what it found and why it stopped early (if it did).
///
/// The first rule that applies decides (README's outcomes table gives the same order):
///
/// 1. a rollback failed: `rollback-failed`;
/// 2. a signal or a control stopped the run, or its process was killed: `interrupted`;
/// 3. a variable, secret or credentials were missing: `error`;
/// 4. the experiment timeout or a fail-fast miss stopped the run: `aborted`;
/// 5. the steady state missed before the method: `baseline-not-met`;
/// 6. a method activity failed: `activity-failed`;
/// 7. the steady state missed during or after the method: `deviated`;
/// 8. otherwise `passed`.
///
/// Cancelled activities never decide the outcome by themselves: what cancelled them does.
///
/// ```
/// use chaos_runtime::run::{decide, Stop, Tally};
/// use chaos_runtime::Outcome;
/// assert_eq!(decide(&Tally::default(), None), Outcome::Passed);
/// assert_eq!(decide(&Tally::default(), Some(&Stop::Signal)), Outcome::Interrupted);
/// ```
pub fn decide(tally: &Tally, stop: Option<&Stop>) -> Outcome {
    if tally.has(FindingKind::RollbackFailed) {
        Outcome::RollbackFailed
    } else if matches!(stop, Some(Stop::Signal | Stop::Control(_) | Stop::Killed)) {
        Outcome::Interrupted
    } else if tally.has(FindingKind::Setup) {
        Outcome::Error
    } else if matches!(stop, Some(Stop::Timeout(_) | Stop::FailFast)) {
        Outcome::Aborted
    } else if tally.has(FindingKind::Baseline) {
        Outcome::BaselineNotMet
    } else if tally.has(FindingKind::ActivityFailed) {
        Outcome::ActivityFailed
    } else if tally.has(FindingKind::Deviation) {
        Outcome::Deviated
    } else {
        Outcome::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Finding, Phase};
    use std::time::Duration;

    fn finding() -> Finding {
        Finding {
            phase: Phase::Method,
            activity: "action \"a\"".into(),
            value: None,
            tolerance: None,
            failure: None,
        }
    }

    fn tally(kinds: &[FindingKind]) -> Tally {
        let mut t = Tally::default();
        for k in kinds {
            t.record(*k, finding());
        }
        t
    }

    /// What each finding kind or stop reason alone makes of a run, and which wins when several
    /// meet: the README's table, written as data rather than as `decide`'s if-chain.
    fn alone(kind: FindingKind) -> Outcome {
        match kind {
            FindingKind::Setup => Outcome::Error,
            FindingKind::Baseline => Outcome::BaselineNotMet,
            FindingKind::ActivityFailed => Outcome::ActivityFailed,
            FindingKind::Deviation => Outcome::Deviated,
            FindingKind::Cancelled => Outcome::Passed,
            FindingKind::RollbackFailed => Outcome::RollbackFailed,
        }
    }

    fn stop_alone(stop: &Stop) -> Outcome {
        match stop {
            Stop::FailFast | Stop::Timeout(_) => Outcome::Aborted,
            Stop::Control(_) | Stop::Signal | Stop::Killed => Outcome::Interrupted,
        }
    }

    const PRECEDENCE: [Outcome; 8] = [
        Outcome::RollbackFailed,
        Outcome::Interrupted,
        Outcome::Error,
        Outcome::Aborted,
        Outcome::BaselineNotMet,
        Outcome::ActivityFailed,
        Outcome::Deviated,
        Outcome::Passed,
    ];

    fn rank(o: Outcome) -> usize {
        PRECEDENCE.iter().position(|p| *p == o).unwrap()
    }

    #[test]
    fn every_combination_of_findings_and_stop_reasons() {
        let stops = [
            None,
            Some(Stop::FailFast),
            Some(Stop::Timeout(Duration::from_secs(1))),
            Some(Stop::Control("control `c`: no".into())),
            Some(Stop::Signal),
            Some(Stop::Killed),
        ];
        let mut checked = 0;
        for mask in 0u32..(1 << FindingKind::ALL.len()) {
            let kinds: Vec<FindingKind> = FindingKind::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, k)| *k)
                .collect();
            let t = tally(&kinds);
            for stop in &stops {
                let candidates = kinds
                    .iter()
                    .map(|k| alone(*k))
                    .chain(stop.iter().map(stop_alone))
                    .chain([Outcome::Passed]);
                let expected = candidates.min_by_key(|o| rank(*o)).unwrap();
                assert_eq!(
                    decide(&t, stop.as_ref()),
                    expected,
                    "findings {kinds:?}, stop {stop:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 64 * 6);
    }

    #[test]
    fn rows_a_reader_checks_by_eye() {
        use FindingKind::*;
        let t = Duration::from_millis(300);
        let rows: &[(&[FindingKind], Option<Stop>, Outcome)] = &[
            (&[], None, Outcome::Passed),
            (&[Cancelled], None, Outcome::Passed),
            (&[Deviation], None, Outcome::Deviated),
            (&[Deviation, ActivityFailed], None, Outcome::ActivityFailed),
            (&[Baseline], None, Outcome::BaselineNotMet),
            (
                &[Deviation, Cancelled],
                Some(Stop::FailFast),
                Outcome::Aborted,
            ),
            (&[Setup, Cancelled], Some(Stop::FailFast), Outcome::Error),
            (&[Setup], None, Outcome::Error),
            (&[Cancelled], Some(Stop::Timeout(t)), Outcome::Aborted),
            (&[Setup], Some(Stop::Signal), Outcome::Interrupted),
            (
                &[Cancelled],
                Some(Stop::Control("c".into())),
                Outcome::Interrupted,
            ),
            (
                &[RollbackFailed],
                Some(Stop::Signal),
                Outcome::RollbackFailed,
            ),
            (&[Deviation, RollbackFailed], None, Outcome::RollbackFailed),
            (&[], Some(Stop::Killed), Outcome::Interrupted),
            (
                &[RollbackFailed],
                Some(Stop::Killed),
                Outcome::RollbackFailed,
            ),
        ];
        for (kinds, stop, outcome) in rows {
            assert_eq!(
                decide(&tally(kinds), stop.as_ref()),
                *outcome,
                "{kinds:?} {stop:?}"
            );
        }
    }

    #[test]
    fn findings_are_listed_by_kind_then_in_order() {
        let mut t = Tally::default();
        let named = |n: &str| Finding {
            activity: n.into(),
            ..finding()
        };
        t.record(FindingKind::Deviation, named("d1"));
        t.record(FindingKind::ActivityFailed, named("f"));
        t.record(FindingKind::Deviation, named("d2"));
        let names: Vec<String> = t.findings().into_iter().map(|f| f.activity).collect();
        assert_eq!(names, ["f", "d1", "d2"]);
    }
}
