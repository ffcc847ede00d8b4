//! The rollbacks of a run whose process was killed before it ran them, run by a recovery from
//! the run's ledger entry: the same events and journal as any run, outcome `interrupted`.

use super::state::{Run, State};
use super::stop::{Stop, StopSignal};
use super::Runner;
use crate::event::{Bus, EventKind, RunReport};
use crate::extend::ControlPoint;
use crate::ledger::{Claimed, LedgerError, UndoLog, UndoOutcome};
use crate::model::Experiment;
use crate::target::undo::{undo_kind, Undo};
use crate::Context;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The outcomes of a recovery's undos, written to its claimed entry once they all ran.
#[derive(Default)]
struct Collected(Mutex<Vec<(u64, UndoOutcome)>>);

impl UndoLog for Collected {
    fn undone(&self, seq: u64, outcome: &UndoOutcome) -> Result<(), LedgerError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((seq, outcome.clone()));
        Ok(())
    }
}

impl Runner {
    /// Runs the rollbacks of a run that died before them, from its `claimed` ledger entry:
    /// the entry's pending undo records, latest first, each through its registered
    /// [`UndoKind`](crate::target::UndoKind) (a kind this binary lacks is a failed rollback
    /// naming it); then, when `exp` is given (the experiment is still in this binary), its
    /// own rollbacks, unless its strategy is `never`. Sinks get the run's events as for any
    /// run: `run-started`, the rollbacks, `run-completed` with outcome `interrupted` (or
    /// `rollback-failed`), stopped by the end of its process. Each undo's outcome is recorded
    /// in the entry, which is handed back for the caller to finish or keep.
    ///
    /// ```
    /// use chaos_runtime::ledger::{Header, Ledger, UndoRecord};
    /// use chaos_runtime::{run::Runner, Context, Outcome};
    /// use serde_json::{json, Value};
    ///
    /// fn uncordon(_data: Value, _cx: Context)
    ///     -> futures_util::future::BoxFuture<'static, Result<Value, chaos_runtime::BoxError>> {
    ///     Box::pin(async { Ok(json!("uncordoned")) })
    /// }
    /// chaos_runtime::undo_kind!("doc.runner_uncordon", uncordon);
    ///
    /// let dir = std::env::temp_dir().join(format!("chaos-runner-recover-doc-{}", std::process::id()));
    /// let ledger = Ledger::open(&dir)?;
    /// let entry = ledger.begin(&Header::new("doc::cordon", 1))?;
    /// entry.intend(&UndoRecord::new("doc.runner_uncordon", "uncordon `node-1`", json!({})))?;
    /// drop(entry); // killed
    ///
    /// let claimed = ledger.orphans().claimed.pop().unwrap();
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let (report, claimed) = rt.block_on(Runner::new().recover(claimed, None, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Interrupted);
    /// assert_eq!(report.rollbacks[0].name, "uncordon `node-1`");
    /// assert_eq!(claimed.state().pending().count(), 0);
    /// claimed.finish()?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn recover(
        self,
        mut claimed: Claimed,
        exp: Option<&Experiment>,
        cx: Context,
    ) -> (RunReport, Claimed) {
        let header = claimed.state().header.clone();
        {
            use crate::target::TargetContext;
            // The undos name what they write after the dead run, as its own rollbacks would.
            let run = header.run_id.clone();
            cx.with_stash(|r: &mut crate::target::undo::RecoveringRun| r.0 = run);
        }
        let stub;
        let exp = match exp {
            Some(e) => e,
            None => {
                stub = Experiment::stub(&header.experiment);
                &stub
            }
        };
        let started = Instant::now();
        for e in &self.extensions {
            e.start_run(&cx);
        }
        let bus = Bus::new(self.sinks);
        bus.emit(EventKind::RunStarted {
            experiment: exp.name.clone(),
            description: Arc::new(exp.to_json()),
            seed: cx.seed(),
        });
        let collected = Arc::new(Collected::default());
        // Registered oldest first: the rollbacks take them latest first.
        let pending: Vec<_> = claimed.state().pending().cloned().collect();
        for u in pending.into_iter().rev() {
            let log: Arc<dyn UndoLog> = collected.clone();
            let undo = match undo_kind(&u.undo.kind) {
                Some(kind) => Undo::durable(u.undo.label, kind, u.undo.data, Some((log, u.seq))),
                None => {
                    let why = format!(
                        "no undo kind `{}` is registered in this binary: its record is kept",
                        u.undo.kind
                    );
                    Undo::new(
                        u.undo.label,
                        Box::new(move || Box::pin(async move { Err(why.into()) })),
                    )
                    .logged(log, u.seq)
                }
            };
            cx.target_state()
                .undo
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(undo);
        }
        let run = Run {
            exp,
            cx: cx.clone(),
            bus,
            state: Mutex::new(State {
                method_started: true,
                ..State::default()
            }),
            controls: self.controls,
            stop: StopSignal::new(),
            ledger: None,
            guardian: None,
            recovering: true,
        };
        run.stop.raise(Stop::Killed);
        run.control(true, ControlPoint::Experiment);
        let (decision, rollbacks) = run.rollbacks().await;
        let report = run.report(started, run.stop.current(), decision, rollbacks);
        run.control(false, ControlPoint::Experiment);
        run.bus.emit(EventKind::RunCompleted {
            report: Arc::new(report.clone()),
        });
        for e in &self.extensions {
            e.finish_run(&cx, &report).await;
        }
        let outcomes = std::mem::take(&mut *collected.0.lock().unwrap_or_else(|p| p.into_inner()));
        for (seq, outcome) in outcomes {
            if let Err(e) = claimed.undone(seq, &outcome) {
                tracing::warn!(error = %e, "a recovered undo's outcome could not be recorded");
            }
        }
        (report, claimed)
    }
}
