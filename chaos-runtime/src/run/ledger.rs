//! The run's entry in the write-ahead ledger: written before the method's first activity,
//! closed when the rollbacks finished.

use super::state::Run;
use super::tally::FindingKind;
use crate::event::{Finding, Phase};
use crate::ledger::{Header, Ledger};

/// The name findings give the ledger when it cannot be written.
const ACTIVITY: &str = "write the run's ledger entry";

impl Run<'_> {
    /// Writes the run's ledger entry, when the run keeps one. `false`, with a setup finding
    /// (outcome `error`), when it cannot be written: the method must not start, as nothing
    /// it changed could be recovered.
    pub(super) fn begin_ledger(&self) -> bool {
        let Some(dir) = &self.ledger else {
            return true;
        };
        let mut header = Header::new(self.exp.name.clone(), self.cx.seed());
        header.variables = self.cx.vars().clone();
        // A rollback block is there to recover from the method's start.
        let now = !self.exp.rollbacks().is_empty();
        let begun = Ledger::open(dir.clone()).and_then(|l| match &self.guardian {
            Some(g) => l.begin_guarded(&header, g.clone(), now),
            None => l.begin(&header),
        });
        match begun {
            Ok(entry) => {
                tracing::debug!(entry = %entry.path().display(), "ledger entry written");
                let entry = std::sync::Arc::new(entry);
                self.cx.set_ledger_entry(Some(entry.clone()));
                self.state().ledger_entry = Some(entry);
                true
            }
            Err(e) => {
                self.found(
                    FindingKind::Setup,
                    Finding {
                        phase: Phase::Method,
                        activity: ACTIVITY.to_owned(),
                        value: None,
                        tolerance: None,
                        failure: Some(format!("{e}: the method did not start")),
                    },
                );
                false
            }
        }
    }

    /// Closes the run's ledger entry: its rollbacks are over. An entry with an undo that
    /// failed is left for the next recovery; one that cannot be closed stays too, and the next
    /// recovery runs its undos again (each is idempotent).
    pub(super) fn close_ledger(&self) {
        let entry = self.state().ledger_entry.take();
        self.cx.set_ledger_entry(None);
        if let Some(entry) = entry {
            if entry.has_pending() {
                tracing::warn!(
                    entry = %entry.path().display(),
                    "an undo failed: the ledger entry is kept for the next recovery"
                );
                return;
            }
            if let Err(e) = entry.close() {
                tracing::warn!(error = %e, "the run's ledger entry could not be closed");
            }
        }
    }
}
