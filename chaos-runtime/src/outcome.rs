//! The eight ways an experiment can end, and the Chaos Toolkit status each maps to.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How an experiment ended. Every outcome but [`Outcome::Passed`] fails the test.
///
/// ```
/// use chaos_runtime::Outcome;
/// assert_eq!(Outcome::Deviated.to_string(), "deviated");
/// assert_eq!("baseline-not-met".parse::<Outcome>().unwrap(), Outcome::BaselineNotMet);
/// assert_eq!(Outcome::Deviated.exit_code(), 11);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The steady state held before, during and after the method, and every activity succeeded.
    Passed,
    /// The steady state was missed before the method: the method was skipped.
    BaselineNotMet,
    /// The steady state was missed during or after the method, or a method probe missed its
    /// tolerance.
    Deviated,
    /// An action (or a method probe) returned an error, timed out or panicked.
    ActivityFailed,
    /// A rollback returned an error, timed out or panicked.
    RollbackFailed,
    /// A guard, the fail-fast hypothesis or the experiment timeout stopped the run.
    Aborted,
    /// A signal (Ctrl-C, SIGTERM) stopped the run, or a
    /// [control](crate::extend::Control) refused to let it go on.
    Interrupted,
    /// The run could not start or go on: a missing variable, secret or credentials (whatever
    /// the phase that met it, and whatever the sampler's `fail_fast`), bad settings.
    Error,
}

impl Outcome {
    /// All outcomes, in the order of the documentation.
    pub const ALL: [Outcome; 8] = [
        Outcome::Passed,
        Outcome::BaselineNotMet,
        Outcome::Deviated,
        Outcome::ActivityFailed,
        Outcome::RollbackFailed,
        Outcome::Aborted,
        Outcome::Interrupted,
        Outcome::Error,
    ];

    /// The kebab-case name used in journals and verdicts.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::BaselineNotMet => "baseline-not-met",
            Outcome::Deviated => "deviated",
            Outcome::ActivityFailed => "activity-failed",
            Outcome::RollbackFailed => "rollback-failed",
            Outcome::Aborted => "aborted",
            Outcome::Interrupted => "interrupted",
            Outcome::Error => "error",
        }
    }

    /// The process exit code a harness uses when this is the most severe failing outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::BaselineNotMet => 10,
            Outcome::Deviated => 11,
            Outcome::ActivityFailed => 12,
            Outcome::RollbackFailed => 13,
            Outcome::Aborted => 14,
            Outcome::Error => 15,
            Outcome::Interrupted => 130,
        }
    }

    /// Severity used to pick one exit code when several experiments fail: the higher wins.
    pub fn severity(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Deviated => 1,
            Outcome::BaselineNotMet => 2,
            Outcome::ActivityFailed => 3,
            Outcome::Aborted => 4,
            Outcome::Error => 5,
            Outcome::RollbackFailed => 6,
            Outcome::Interrupted => 7,
        }
    }

    /// The Chaos Toolkit journal `status` for this outcome.
    pub fn status(self) -> Status {
        match self {
            Outcome::Passed | Outcome::Deviated => Status::Completed,
            Outcome::Aborted => Status::Aborted,
            Outcome::Interrupted => Status::Interrupted,
            Outcome::BaselineNotMet
            | Outcome::ActivityFailed
            | Outcome::RollbackFailed
            | Outcome::Error => Status::Failed,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text did not name an outcome.
#[derive(Debug, thiserror::Error)]
#[error("unknown outcome `{0}`: expected one of passed, baseline-not-met, deviated, activity-failed, rollback-failed, aborted, interrupted, error")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.replace('_', "-");
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == norm)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// Chaos Toolkit's run status values, kept in our journals for its tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The run went through its phases (it may still have deviated).
    Completed,
    /// The run failed.
    Failed,
    /// The run was stopped by a guard, fail-fast or its timeout.
    Aborted,
    /// The run was stopped by a signal or a control.
    Interrupted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_codes_are_distinct() {
        let mut codes = std::collections::HashSet::new();
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
            assert!(codes.insert(o.exit_code()));
        }
        assert!("activity_failed".parse::<Outcome>().is_ok());
        assert!("nope".parse::<Outcome>().is_err());
    }
}
