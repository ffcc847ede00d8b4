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
//!    a failure, a deviation, a panic, the experiment timeout or a signal.
//!
//! Activity timeouts and the experiment timeout cancel the running future; panics inside
//! activities are caught and recorded as that activity's failure.

use crate::context::Context;
use crate::error::ActivityFailure;
use crate::event::{
    ActivityRecord, ActivityStatus, Bus, EventKind, EventSink, Finding, Phase, RollbackDecision,
    RollbackSummary, RunReport,
};
use crate::experiment::{Activity, ActivityKind, Experiment, Produced, RollbackStrategy};
use crate::extend::{Control, ControlPoint, Hook, RunPlan};
use crate::interrupt::Interrupt;
use crate::outcome::Outcome;
use crate::time::rfc3339;
use futures_util::FutureExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
    pub fn hook(mut self, hook: Arc<dyn Hook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Adds a control, called before and after every phase and activity; it may interrupt.
    pub fn control(mut self, control: Arc<dyn Control>) -> Self {
        self.controls.push(control);
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
            description: Arc::new(exp.describe()),
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
        let (control_tx, control_rx) = watch::channel(None);
        let run = Run {
            exp,
            cx,
            bus,
            state: Mutex::new(State::default()),
            controls: self.controls,
            control_stop: control_tx,
        };
        run.execute(self.interrupt, control_rx).await
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

#[derive(Default)]
struct State {
    method_started: bool,
    missing_variable: Vec<Finding>,
    baseline: Vec<Finding>,
    deviations: Vec<Finding>,
    failures: Vec<Finding>,
    rollback_failures: Vec<Finding>,
    cancelled: Vec<Finding>,
    fail_fast: bool,
    in_flight: Vec<InFlight>,
    next_id: u64,
    background: Vec<(Arc<Activity>, u64, JoinHandle<Executed>)>,
}

struct InFlight {
    id: u64,
    phase: Phase,
    activity: Activity,
    start: SystemTime,
    started: Instant,
}

struct Executed {
    result: Result<Produced, ActivityFailure>,
    start: SystemTime,
    end: SystemTime,
    elapsed: Duration,
}

enum Stop {
    Timeout(Duration),
    Interrupted,
    Control(String),
}

struct Run<'e> {
    exp: &'e Experiment,
    cx: Context,
    bus: Bus,
    state: Mutex<State>,
    controls: Vec<Arc<dyn Control>>,
    control_stop: watch::Sender<Option<String>>,
}

impl Run<'_> {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls every control before or after `point`; the first refusal stops the run.
    fn control(&self, before: bool, point: ControlPoint<'_>) {
        for c in &self.controls {
            let verdict = if before {
                c.before(&point, &self.cx)
            } else {
                c.after(&point, &self.cx)
            };
            if let Err(reason) = verdict {
                let why = format!("control `{}`: {reason}", c.name());
                if matches!(point, ControlPoint::Rollbacks)
                    || matches!(
                        point,
                        ControlPoint::Activity {
                            phase: Phase::Rollbacks,
                            ..
                        }
                    )
                {
                    tracing::warn!("{why} (ignored: rollbacks cannot be interrupted)");
                    continue;
                }
                self.control_stop.send_if_modified(|v| {
                    if v.is_none() {
                        *v = Some(why);
                        true
                    } else {
                        false
                    }
                });
                return;
            }
        }
    }

    /// Parks the run when a control has stopped it, so that nothing more starts: the
    /// run's `select!` then ends it.
    async fn checkpoint(&self) {
        if self.control_stop.borrow().is_some() {
            std::future::pending::<()>().await;
        }
    }

    async fn execute(
        self,
        interrupt: Option<Interrupt>,
        mut control_rx: watch::Receiver<Option<String>>,
    ) -> RunReport {
        let started = Instant::now();
        let seed = self.cx.seed();
        self.bus.emit(EventKind::RunStarted {
            experiment: self.exp.name.clone(),
            description: Arc::new(self.exp.describe()),
            seed,
        });

        self.control(true, ControlPoint::Experiment);
        let stop = {
            let phases = async {
                self.checkpoint().await;
                self.phases().await
            };
            let timeout = async {
                match self.exp.timeout {
                    Some(t) => {
                        tokio::time::sleep(t).await;
                        t
                    }
                    None => std::future::pending().await,
                }
            };
            let interrupted = async {
                match interrupt {
                    Some(mut i) => i.raised().await,
                    None => std::future::pending().await,
                }
            };
            let controlled = async {
                match control_rx.wait_for(|v| v.is_some()).await {
                    Ok(v) => v.clone().unwrap_or_default(),
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = interrupted => Some(Stop::Interrupted),
                why = controlled => Some(Stop::Control(why)),
                t = timeout => Some(Stop::Timeout(t)),
                _ = phases => None,
            }
        };
        let stopped_by = stop.as_ref().map(|s| match s {
            Stop::Timeout(t) => format!("the experiment timeout ({})", crate::time::human(*t)),
            Stop::Interrupted => "a signal".to_owned(),
            Stop::Control(why) => why.clone(),
        });
        if let Some(reason) = &stopped_by {
            self.cancel_in_flight(&format!("cancelled by {reason}"));
        }

        let (decision, rollbacks) = self.rollbacks().await;

        let st = self.state();
        let deviated = !st.deviations.is_empty();
        let outcome = if !st.rollback_failures.is_empty() {
            Outcome::RollbackFailed
        } else if matches!(stop, Some(Stop::Interrupted | Stop::Control(_))) {
            Outcome::Interrupted
        } else if stop.is_some() || st.fail_fast {
            Outcome::Aborted
        } else if !st.missing_variable.is_empty() {
            Outcome::Error
        } else if !st.baseline.is_empty() {
            Outcome::BaselineNotMet
        } else if !st.failures.is_empty() {
            Outcome::ActivityFailed
        } else if deviated {
            Outcome::Deviated
        } else {
            Outcome::Passed
        };
        let mut findings: Vec<Finding> = Vec::new();
        for list in [
            &st.missing_variable,
            &st.baseline,
            &st.failures,
            &st.deviations,
            &st.cancelled,
            &st.rollback_failures,
        ] {
            findings.extend(list.iter().cloned());
        }
        let stopped_by = stopped_by.or_else(|| {
            st.fail_fast
                .then(|| "the hypothesis (fail-fast) missed during the method".to_owned())
        });
        drop(st);
        let report = RunReport {
            experiment: self.exp.name.clone(),
            outcome,
            status: outcome.status(),
            deviated,
            seed,
            findings,
            rollback_decision: decision,
            rollbacks,
            stopped_by,
            error: None,
            targets: self.cx.recorded_targets(),
            duration: started.elapsed(),
        };
        self.control(false, ControlPoint::Experiment);
        self.bus.emit(EventKind::RunCompleted {
            report: Arc::new(report.clone()),
        });
        report
    }

    /// The hypothesis before, the method (with sampling during) and the hypothesis after.
    async fn phases(&self) {
        let h = self.exp.hypothesis;
        let has_steady = !self.exp.steady_state.is_empty();
        if h.before() && has_steady {
            let missed = self.hypothesis(Phase::SteadyStateBefore).await;
            let mut st = self.state();
            if !st.missing_variable.is_empty() {
                return;
            }
            if !missed.is_empty() {
                st.baseline = missed;
                return;
            }
        }
        if !self.exp.method.is_empty() {
            self.method().await;
            let st = self.state();
            if st.fail_fast || !st.missing_variable.is_empty() {
                return;
            }
        }
        if h.after() && has_steady {
            let missed = self.hypothesis(Phase::SteadyStateAfter).await;
            self.state().deviations.extend(missed);
        }
    }

    /// Runs every steady-state probe and returns the ones that missed.
    async fn hypothesis(&self, phase: Phase) -> Vec<Finding> {
        self.control(true, ControlPoint::Hypothesis(phase));
        self.checkpoint().await;
        self.bus.emit(EventKind::HypothesisStarted { phase });
        let mut missed = Vec::new();
        for probe in &self.exp.steady_state {
            let record = self.activity(probe, phase).await;
            if record.tolerance_met != Some(true) {
                if record
                    .failure
                    .as_ref()
                    .is_some_and(ActivityFailure::is_setup)
                {
                    self.state().missing_variable.push(finding(phase, &record));
                }
                missed.push(finding(phase, &record));
            }
        }
        self.bus.emit(EventKind::HypothesisCompleted {
            phase,
            met: missed.is_empty(),
        });
        self.control(false, ControlPoint::Hypothesis(phase));
        missed
    }

    async fn method(&self) {
        self.state().method_started = true;
        self.control(true, ControlPoint::Method);
        self.checkpoint().await;
        self.bus.emit(EventKind::MethodStarted);
        let (done_tx, done_rx) = watch::channel(false);
        let steps = self.method_steps();
        match self.exp.hypothesis.during() {
            None => steps.await,
            Some((every, fail_fast)) => {
                let sampler = self.sample(every, fail_fast, done_rx);
                tokio::pin!(steps, sampler);
                tokio::select! {
                    _ = &mut steps => {
                        done_tx.send_replace(true);
                        sampler.await;
                    }
                    _ = &mut sampler => {
                        // The sampler only returns early on a fail-fast miss.
                        self.cancel_in_flight("cancelled: the hypothesis missed during the method (fail-fast)");
                        let handles: Vec<_> = self.state().background.drain(..).collect();
                        for (_, _, h) in handles {
                            h.abort();
                        }
                    }
                }
            }
        }
        self.bus.emit(EventKind::MethodCompleted);
        self.control(false, ControlPoint::Method);
    }

    async fn method_steps(&self) {
        for activity in &self.exp.method {
            if activity.options.background {
                self.spawn_background(activity);
                continue;
            }
            let record = self.activity(activity, Phase::Method).await;
            if self.method_record(&record) {
                break;
            }
        }
        let handles: Vec<_> = self.state().background.drain(..).collect();
        for (activity, id, handle) in handles {
            let executed = match handle.await {
                Ok(e) => e,
                Err(join) => {
                    let now = SystemTime::now();
                    Executed {
                        result: Err(ActivityFailure::Panic(join.to_string())),
                        start: now,
                        end: now,
                        elapsed: Duration::ZERO,
                    }
                }
            };
            let record = self.complete(&activity, Phase::Method, id, executed);
            self.method_record(&record);
        }
    }

    /// Records a method activity's result; returns whether the method must stop.
    fn method_record(&self, record: &ActivityRecord) -> bool {
        let mut st = self.state();
        match &record.failure {
            Some(f) if f.is_setup() => {
                st.missing_variable.push(finding(Phase::Method, record));
                true
            }
            Some(_) => {
                st.failures.push(finding(Phase::Method, record));
                true
            }
            None => {
                if record.tolerance_met == Some(false) {
                    st.deviations.push(finding(Phase::Method, record));
                }
                false
            }
        }
    }

    /// Samples the steady state every `every` until the method is done; returns early only on
    /// a fail-fast miss.
    async fn sample(&self, every: Duration, fail_fast: bool, mut done: watch::Receiver<bool>) {
        let mut next = tokio::time::Instant::now();
        loop {
            let missed = self.hypothesis(Phase::SteadyStateDuring).await;
            if !missed.is_empty() {
                let mut st = self.state();
                if !st.missing_variable.is_empty() {
                    st.fail_fast = fail_fast;
                    drop(st);
                    if fail_fast {
                        return;
                    }
                } else {
                    st.deviations.extend(missed);
                    if fail_fast {
                        st.fail_fast = true;
                        return;
                    }
                }
            }
            if *done.borrow() {
                return;
            }
            // Keep to a fixed grid; skip the ticks a slow sample overran.
            let now = tokio::time::Instant::now();
            next += every;
            while next <= now {
                next += every;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = done.wait_for(|d| *d) => return,
            }
        }
    }

    fn spawn_background(&self, activity: &Activity) {
        let id = self.begin(activity, Phase::Method);
        let shared = Arc::new(activity.clone());
        let task = {
            let activity = shared.clone();
            let cx = self.cx.clone();
            async move { execute(&activity, cx).await }
        };
        let handle = tokio::spawn(task);
        self.state().background.push((shared, id, handle));
    }

    async fn rollbacks(&self) -> (RollbackDecision, Vec<RollbackSummary>) {
        let decision = {
            let st = self.state();
            if self.exp.rollbacks.is_empty() {
                RollbackDecision::NoneDeclared
            } else if !st.method_started {
                RollbackDecision::MethodNotStarted
            } else {
                match self.exp.rollback_strategy {
                    RollbackStrategy::Always => RollbackDecision::Ran,
                    RollbackStrategy::Never => RollbackDecision::StrategyNever,
                    RollbackStrategy::Deviated if st.deviations.is_empty() => {
                        RollbackDecision::NotDeviated
                    }
                    RollbackStrategy::Deviated => RollbackDecision::Ran,
                }
            }
        };
        let mut summaries = Vec::new();
        if decision != RollbackDecision::Ran {
            return (decision, summaries);
        }
        self.control(true, ControlPoint::Rollbacks);
        self.bus.emit(EventKind::RollbacksStarted);
        for activity in &self.exp.rollbacks {
            let record = self.activity(activity, Phase::Rollbacks).await;
            if record.failure.is_some() {
                self.state()
                    .rollback_failures
                    .push(finding(Phase::Rollbacks, &record));
            }
            summaries.push(RollbackSummary {
                name: record.name.clone(),
                status: record.status,
                duration: record.elapsed,
                failure: record.failure.as_ref().map(|f| f.to_string()),
            });
        }
        self.bus.emit(EventKind::RollbacksCompleted);
        self.control(false, ControlPoint::Rollbacks);
        (decision, summaries)
    }

    /// Runs one activity in the foreground, with its pauses, and records it.
    async fn activity(&self, activity: &Activity, phase: Phase) -> ActivityRecord {
        if let Some(d) = activity.options.pause_before {
            tokio::time::sleep(d).await;
        }
        let point = ControlPoint::Activity {
            phase,
            name: &activity.name,
            kind: activity.kind,
        };
        self.control(true, point);
        if phase != Phase::Rollbacks {
            self.checkpoint().await;
        }
        let id = self.begin(activity, phase);
        let executed = execute(activity, self.cx.clone()).await;
        let record = self.complete(activity, phase, id, executed);
        self.control(false, point);
        if let Some(d) = activity.options.pause_after {
            tokio::time::sleep(d).await;
        }
        record
    }

    fn begin(&self, activity: &Activity, phase: Phase) -> u64 {
        let id = {
            let mut st = self.state();
            st.next_id += 1;
            let id = st.next_id;
            st.in_flight.push(InFlight {
                id,
                phase,
                activity: activity.clone(),
                start: SystemTime::now(),
                started: Instant::now(),
            });
            id
        };
        self.bus.emit(EventKind::ActivityStarted {
            phase,
            name: activity.name.clone(),
            kind: activity.kind,
        });
        id
    }

    fn complete(
        &self,
        activity: &Activity,
        phase: Phase,
        id: u64,
        executed: Executed,
    ) -> ActivityRecord {
        self.state().in_flight.retain(|f| f.id != id);
        let record = make_record(activity, executed);
        self.bus.emit_at(
            SystemTime::now(),
            EventKind::ActivityCompleted {
                phase,
                record: Arc::new(record.clone()),
            },
        );
        record
    }

    /// Records every activity still running as failed with `reason`, and aborts background
    /// tasks.
    fn cancel_in_flight(&self, reason: &str) {
        let (in_flight, background) = {
            let mut st = self.state();
            (
                std::mem::take(&mut st.in_flight),
                std::mem::take(&mut st.background),
            )
        };
        for (_, _, h) in background {
            h.abort();
        }
        for f in in_flight {
            let executed = Executed {
                result: Err(ActivityFailure::Error(reason.to_owned())),
                start: f.start,
                end: SystemTime::now(),
                elapsed: f.started.elapsed(),
            };
            let record = make_record(&f.activity, executed);
            self.state().cancelled.push(finding(f.phase, &record));
            self.bus.emit(EventKind::ActivityCompleted {
                phase: f.phase,
                record: Arc::new(record),
            });
        }
    }
}

/// Runs an activity's future under its timeout, catching panics.
async fn execute(activity: &Activity, cx: Context) -> Executed {
    let start = SystemTime::now();
    let started = Instant::now();
    let result = match (&activity.run, activity.pause) {
        (_, Some(d)) => {
            tokio::time::sleep(d).await;
            Ok(Produced {
                output: Value::Null,
                tolerance_met: None,
            })
        }
        (Some(run), None) => {
            let guarded = async {
                let fut = std::panic::catch_unwind(AssertUnwindSafe(|| run(cx)))
                    .map_err(ActivityFailure::from_panic)?;
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(Ok(p)) => Ok(p),
                    Ok(Err(e)) => Err(ActivityFailure::from_error(e)),
                    Err(panic) => Err(ActivityFailure::from_panic(panic)),
                }
            };
            match activity.options.timeout {
                Some(t) => tokio::time::timeout(t, guarded)
                    .await
                    .unwrap_or(Err(ActivityFailure::Timeout(t))),
                None => guarded.await,
            }
        }
        (None, None) => Err(ActivityFailure::Error(
            "the activity has nothing to run".into(),
        )),
    };
    Executed {
        result,
        start,
        end: SystemTime::now(),
        elapsed: started.elapsed(),
    }
}

fn make_record(activity: &Activity, executed: Executed) -> ActivityRecord {
    let (output, tolerance_met, failure) = match executed.result {
        Ok(p) => (p.output, p.tolerance_met, None),
        Err(f) => (
            Value::Null,
            activity.tolerance.as_ref().map(|_| false),
            Some(f),
        ),
    };
    ActivityRecord {
        activity: activity.describe(),
        output,
        status: if failure.is_some() {
            ActivityStatus::Failed
        } else {
            ActivityStatus::Succeeded
        },
        start: rfc3339(executed.start),
        end: rfc3339(executed.end),
        duration: executed.elapsed.as_secs_f64(),
        exception: failure.as_ref().map(|f| vec![f.to_string()]),
        tolerance_met,
        name: activity.name.clone(),
        kind: activity.kind,
        tolerance: activity.tolerance.clone(),
        failure,
        elapsed: executed.elapsed,
    }
}

fn finding(phase: Phase, record: &ActivityRecord) -> Finding {
    Finding {
        phase,
        activity: format!(
            "{} \"{}\"",
            match record.kind {
                ActivityKind::Probe => "probe",
                ActivityKind::Action => "action",
                ActivityKind::Pause => "pause",
            },
            record.name
        ),
        value: record.failure.is_none().then(|| record.output.clone()),
        tolerance: record.tolerance.clone(),
        failure: record.failure.as_ref().map(|f| f.to_string()),
    }
}
