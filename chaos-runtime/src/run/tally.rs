//! What a run found, each finding with its kind.

use crate::event::Finding;

/// What a finding says about the run; the verdict ([`decide`](super::decide)) reads the kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A variable, secret or credentials an activity needed were missing.
    Setup,
    /// A steady-state probe missed before the method.
    Baseline,
    /// A method activity errored, timed out or panicked.
    ActivityFailed,
    /// The steady state missed during or after the method, or a method probe missed.
    Deviation,
    /// An activity was cancelled by whatever stopped the run.
    Cancelled,
    /// A rollback errored, timed out or panicked.
    RollbackFailed,
}

impl FindingKind {
    /// Every kind, in the order a report lists them.
    pub const ALL: [FindingKind; 6] = [
        FindingKind::Setup,
        FindingKind::Baseline,
        FindingKind::ActivityFailed,
        FindingKind::Deviation,
        FindingKind::Cancelled,
        FindingKind::RollbackFailed,
    ];
}

/// The findings of one run, in the order they were recorded.
///
/// ```
/// use chaos_runtime::run::{FindingKind, Tally};
/// let tally = Tally::default();
/// assert!(!tally.has(FindingKind::Deviation));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tally {
    findings: Vec<(FindingKind, Finding)>,
}

impl Tally {
    /// Records a finding.
    pub fn record(&mut self, kind: FindingKind, finding: Finding) {
        self.findings.push((kind, finding));
    }

    /// Whether any finding of `kind` was recorded.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|(k, _)| *k == kind)
    }

    /// The findings grouped by kind in the order of [`FindingKind::ALL`], each group in the
    /// order it was recorded: the report's and the verdict's order.
    pub fn findings(&self) -> Vec<Finding> {
        let mut sorted: Vec<&(FindingKind, Finding)> = self.findings.iter().collect();
        sorted.sort_by_key(|(k, _)| *k);
        sorted.into_iter().map(|(_, f)| f.clone()).collect()
    }
}
