//! What one run holds: the experiment, its context, its event bus and stop channel, and the
//! state its phases share (findings, activities in flight, background tasks).

use super::activity::Executed;
use super::stop::{Stop, StopSignal};
use super::tally::{FindingKind, Tally};
use crate::context::Context;
use crate::event::{Bus, Finding, Phase};
use crate::extend::{Control, ControlPoint};
use crate::model::{Activity, Experiment};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What a run has recorded so far.
#[derive(Default)]
pub(super) struct State {
    pub(super) method_started: bool,
    pub(super) tally: Tally,
    pub(super) in_flight: Vec<InFlight>,
    pub(super) next_id: u64,
    pub(super) background: Vec<Background>,
    /// The run's ledger entry, from the method's start until the rollbacks finished.
    pub(super) ledger_entry: Option<Arc<crate::ledger::Entry>>,
}

/// One run of one experiment.
pub(super) struct Run<'e> {
    pub(super) exp: &'e Experiment,
    pub(super) cx: Context,
    pub(super) bus: Bus,
    pub(super) state: Mutex<State>,
    pub(super) controls: Vec<Arc<dyn Control>>,
    pub(super) stop: StopSignal,
    /// Where the run's ledger entry goes, if it keeps one.
    pub(super) ledger: Option<std::path::PathBuf>,
    /// Who watches the run's entry from another process.
    pub(super) guardian: Option<Arc<dyn crate::ledger::Guardian>>,
    /// Whether this is the recovery of a killed run (only its rollbacks run).
    pub(super) recovering: bool,
}

impl Run<'_> {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a finding.
    pub(super) fn found(&self, kind: FindingKind, finding: Finding) {
        self.state().tally.record(kind, finding);
    }

    /// Calls every control before or after `point`; the first refusal stops the run (outside
    /// the rollbacks, which cannot be stopped).
    pub(super) fn control(&self, before: bool, point: ControlPoint<'_>) {
        for c in &self.controls {
            let verdict = if before {
                c.before(&point, &self.cx)
            } else {
                c.after(&point, &self.cx)
            };
            if let Err(reason) = verdict {
                let why = format!("control `{}`: {reason}", c.name());
                let in_rollbacks = matches!(
                    point,
                    ControlPoint::Rollbacks
                        | ControlPoint::Activity {
                            phase: Phase::Rollbacks,
                            ..
                        }
                );
                if in_rollbacks {
                    tracing::warn!("{why} (ignored: rollbacks cannot be interrupted)");
                    continue;
                }
                self.stop.raise(Stop::Control(why));
                return;
            }
        }
    }

    /// Parks the run once a stop reason is raised, so that nothing more starts: the run's
    /// `select!` then ends it.
    pub(super) async fn checkpoint(&self) {
        if self.stop.is_raised() {
            std::future::pending::<()>().await;
        }
    }
}

/// An activity that started and has not been recorded yet.
pub(super) struct InFlight {
    pub(super) id: u64,
    pub(super) phase: Phase,
    pub(super) activity: Activity,
    pub(super) start: SystemTime,
    pub(super) started: Instant,
}

/// A background activity's task. Its handle stays in the run's state until the task has ended,
/// so that a cancellation can always abort and join it.
pub(super) struct Background {
    pub(super) id: u64,
    pub(super) handle: JoinHandle<()>,
}

/// A background activity whose result the method has not joined yet.
pub(super) struct Pending {
    pub(super) activity: Arc<Activity>,
    pub(super) id: u64,
    pub(super) start: SystemTime,
    pub(super) started: Instant,
    pub(super) result: oneshot::Receiver<Executed>,
}
