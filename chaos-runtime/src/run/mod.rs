//! The runner: runs an experiment's phases with the semantics of the design brief.
//!
//! 1. The steady-state hypothesis before the method (every probe evaluated and recorded); a miss
//!    ends the run as `baseline-not-met` and the method is skipped.
//! 2. The method, activity by activity; background activities are joined at its end. With a
//!    `during-method-only` or `continuously` hypothesis the steady state is sampled at its
//!    frequency meanwhile, and with fail-fast a miss cancels the method at once (`aborted`).
//!    An action that fails stops the method (`activity-failed`); a method probe that misses its
//!    tolerance is a deviation.
//! 3. The steady-state hypothesis after the method.
//! 4. The rollbacks, whenever the method started (strategy `always`), whatever happened after:
//!    a failure, a deviation, a panic, the experiment timeout or a signal. First the undos
//!    targets registered ([`TargetContext::on_rollback`](crate::target::TargetContext::on_rollback)),
//!    latest first and whatever the strategy, then the experiment's own rollbacks.
//!
//! Activity timeouts and the experiment timeout cancel the running future; panics inside
//! activities are caught and recorded as that activity's failure. Whatever stops a run early
//! (a [`Stop`]) first cancels every activity in flight, background ones included, and waits
//! until each has ended: nothing the experiment started runs once its rollbacks begin.
//!
//! The outcome is [`decide`]: a pure function of the run's [`Tally`] of findings and its
//! [`Stop`] reason.

mod activity;
mod flight;
mod ledger;
mod method;
mod phases;
mod recover;
mod state;
mod stop;
mod tally;
mod verdict;

pub use stop::Stop;
pub use tally::{FindingKind, Tally};
pub use verdict::decide;

use crate::context::Context;
use crate::event::{Bus, EventKind, EventSink, RollbackDecision, RunReport};
use crate::extend::{Control, Extension, Hook, RunPlan};
use crate::interrupt::Interrupt;
use crate::model::Experiment;
use crate::outcome::Outcome;
use serde_json::Value;
use state::{Run, State};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs experiments, feeding their events to sinks.
///
/// ```
/// use chaos_runtime::{Experiment, Probe, Action, Context, Outcome, run::Runner};
/// let exp = Experiment::builder("doc::hello")
///     .steady_state(Probe::new("up", |_cx| async { Ok(200u16) }).tolerance("== 200", |v| *v == 200))
///     .method(Action::new("poke", |_cx| async { Ok(()) }))
///     .build()
///     .unwrap();
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let report = rt.block_on(Runner::new().run(&exp, Context::builder().seed(1).build()));
/// assert_eq!(report.outcome, Outcome::Passed);
/// ```
#[derive(Default)]
pub struct Runner {
    sinks: Vec<Box<dyn EventSink>>,
    interrupt: Option<Interrupt>,
    hooks: Vec<Arc<dyn Hook>>,
    controls: Vec<Arc<dyn Control>>,
    extensions: Vec<Arc<dyn Extension>>,
    ledger: Option<std::path::PathBuf>,
    guardian: Option<Arc<dyn crate::ledger::Guardian>>,
}

impl Runner {
    /// A runner with no sinks and no interruption.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sink; sinks get every event in the order they were added.
    pub fn sink(mut self, sink: impl EventSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Stops runs when `interrupt` is raised (outcome `interrupted`, rollbacks run).
    pub fn interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = Some(interrupt);
        self
    }

    /// Adds a hook, called before the run with its plan (tags, variables); it may refuse it.
    /// An `Arc<dyn Hook>` is a hook too.
    pub fn hook(mut self, hook: impl Hook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Adds a control, called before and after every phase and activity; it may interrupt.
    /// An `Arc<dyn Control>` is a control too.
    pub fn control(mut self, control: impl Control) -> Self {
        self.controls.push(Arc::new(control));
        self
    }

    /// Adds an extension: its controls join the run's, and it is called when the run starts
    /// and when it has ended. An `Arc<dyn Extension>` is an extension too.
    pub fn extension(mut self, extension: impl Extension) -> Self {
        self.controls.extend(extension.controls());
        self.extensions.push(Arc::new(extension));
        self
    }

    /// Keeps a write-ahead [ledger](crate::ledger) in `dir`: before the method's first
    /// activity the run writes its entry there, durably, and closes it when its rollbacks
    /// finished. A ledger that cannot be written ends the run `error` before the method: no
    /// change is made without a record.
    ///
    /// ```
    /// use chaos_runtime::{Action, Context, Experiment, Outcome, run::Runner};
    /// let dir = std::env::temp_dir().join(format!("chaos-runner-ledger-doc-{}", std::process::id()));
    /// let seen = dir.clone();
    /// let exp = Experiment::builder("doc::ledger")
    ///     .method(Action::new("look at the ledger", move |_cx| {
    ///         let seen = seen.clone();
    ///         async move { Ok(std::fs::read_dir(&seen)?.count()) }
    ///     }))
    ///     .build()?;
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let report = rt.block_on(Runner::new().ledger(&dir).run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// // The entry was there during the method, and is gone once the run closed it.
    /// assert_eq!(std::fs::read_dir(&dir)?.count(), 0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ledger(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.ledger = Some(dir.into());
        self
    }

    /// Has `guardian` watch the run's [ledger](Runner::ledger) entry from another process,
    /// so that a run killed mid-way is rolled back at once rather than at the next recovery.
    /// It is asked when the run reaches its method with a rollback block, or before the first
    /// change a target records.
    ///
    /// ```
    /// use chaos_runtime::ledger::Guardian;
    /// use chaos_runtime::{Action, Context, Experiment, Outcome, run::Runner};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Count(Mutex<usize>);
    /// impl Guardian for Count {
    ///     fn watch(&self, _entry: &std::path::Path) -> Result<(), String> {
    ///         *self.0.lock().unwrap() += 1;
    ///         Ok(())
    ///     }
    /// }
    /// let dir = std::env::temp_dir().join(format!("chaos-runner-guardian-doc-{}", std::process::id()));
    /// let exp = Experiment::builder("doc::guarded")
    ///     .method(Action::new("act", |_cx| async { Ok(()) }))
    ///     .rollback(Action::new("undo", |_cx| async { Ok(()) }))
    ///     .build()?;
    /// let count = Arc::new(Count::default());
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let runner = Runner::new().ledger(&dir).guardian(count.clone());
    /// let report = rt.block_on(runner.run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// assert_eq!(*count.0.lock().unwrap(), 1, "a run with a rollback block is watched");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guardian(mut self, guardian: Arc<dyn crate::ledger::Guardian>) -> Self {
        self.guardian = Some(guardian);
        self
    }

    /// Runs `exp` with context `cx` and returns its report.
    ///
    /// Emits `validate-started`, applies the hooks, then `validate-completed` and the run's
    /// events, or `validate-failed` and a `run-failed` that ends the run as `aborted` when a
    /// hook refuses it.
    pub async fn run(self, exp: &Experiment, cx: Context) -> RunReport {
        let bus = Bus::new(self.sinks);
        bus.emit(EventKind::ValidateStarted {
            experiment: exp.name.clone(),
            description: Arc::new(exp.to_json()),
        });
        let mut plan = RunPlan {
            experiment: exp.name.clone(),
            tags: exp.tags.clone(),
            variables: BTreeMap::new(),
        };
        for hook in &self.hooks {
            if let Err(reason) = hook.before_run(&mut plan) {
                let why = format!("hook `{}` refused the run: {reason}", hook.name());
                bus.emit(EventKind::ValidateFailed { error: why.clone() });
                return not_run(&bus, exp.name.clone(), cx.seed(), Outcome::Aborted, why);
            }
        }
        bus.emit(EventKind::ValidateCompleted);
        let tagged;
        let exp = if plan.tags != exp.tags {
            let mut e = exp.clone();
            e.tags = plan.tags;
            tagged = e;
            &tagged
        } else {
            exp
        };
        let cx = if plan.variables.is_empty() {
            cx
        } else {
            cx.with_vars(plan.variables)
        };
        for e in &self.extensions {
            e.start_run(&cx);
        }
        let run = Run {
            exp,
            cx: cx.clone(),
            bus,
            state: Mutex::new(State::default()),
            controls: self.controls,
            stop: stop::StopSignal::new(),
            ledger: self.ledger,
            guardian: self.guardian,
            recovering: false,
        };
        let report = run.execute(self.interrupt).await;
        for e in &self.extensions {
            e.finish_run(&cx, &report).await;
        }
        report
    }

    /// Ends a run that could not start (bad settings, an experiment that could not be built)
    /// with outcome `error`: emits `validate-started`, `validate-failed` and `run-failed`.
    pub fn fail(self, experiment: &str, seed: u64, error: String) -> RunReport {
        let bus = Bus::new(self.sinks);
        bus.emit(EventKind::ValidateStarted {
            experiment: experiment.to_owned(),
            description: Arc::new(Value::Null),
        });
        bus.emit(EventKind::ValidateFailed {
            error: error.clone(),
        });
        not_run(&bus, experiment.to_owned(), seed, Outcome::Error, error)
    }
}

/// Ends a run that never started.
fn not_run(bus: &Bus, experiment: String, seed: u64, outcome: Outcome, why: String) -> RunReport {
    let report = RunReport {
        experiment,
        outcome,
        status: outcome.status(),
        deviated: false,
        seed,
        findings: Vec::new(),
        rollback_decision: RollbackDecision::MethodNotStarted,
        rollbacks: Vec::new(),
        stopped_by: (outcome == Outcome::Aborted).then(|| why.clone()),
        error: (outcome != Outcome::Aborted).then_some(why),
        targets: Vec::new(),
        duration: Duration::ZERO,
    };
    bus.emit(EventKind::RunCompleted {
        report: Arc::new(report.clone()),
    });
    report
}
