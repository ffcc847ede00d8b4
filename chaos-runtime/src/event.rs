//! The typed event stream of a run: every phase and activity, in order, for pluggable sinks.
//!
//! The runner calls each [`EventSink`] in turn, synchronously and in order. Sinks must be quick:
//! a sink that talks to the network (a notification channel) should hand the event to its own
//! task or queue and return at once, so that the experiment's timeline is never delayed.

use crate::error::ActivityFailure;
use crate::model::ActivityKind;
use crate::outcome::{Outcome, Status};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The part of a run an activity or hypothesis check belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The steady-state hypothesis, before the method.
    SteadyStateBefore,
    /// The method.
    Method,
    /// The steady-state hypothesis, sampled while the method runs.
    SteadyStateDuring,
    /// The steady-state hypothesis, after the method.
    SteadyStateAfter,
    /// The rollbacks.
    Rollbacks,
}

impl Phase {
    /// How verdicts name the phase.
    pub fn describe(self) -> &'static str {
        match self {
            Phase::SteadyStateBefore => "steady state before the method",
            Phase::Method => "method",
            Phase::SteadyStateDuring => "steady state during the method",
            Phase::SteadyStateAfter => "steady state after the method",
            Phase::Rollbacks => "rollbacks",
        }
    }
}

/// Chaos Toolkit's per-activity status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityStatus {
    /// The activity returned a value.
    Succeeded,
    /// The activity errored, timed out, panicked or was cancelled.
    Failed,
}

/// What one activity did: the journal's per-activity entry.
#[derive(Clone, Debug, Serialize)]
pub struct ActivityRecord {
    /// The activity's description (Chaos Toolkit's `activity`).
    pub activity: Value,
    /// The serialized value, `null` when it failed.
    pub output: Value,
    /// `succeeded` or `failed`.
    pub status: ActivityStatus,
    /// When it started (RFC 3339).
    pub start: String,
    /// When it ended (RFC 3339).
    pub end: String,
    /// How long it ran, in seconds.
    pub duration: f64,
    /// Why it failed, as lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Vec<String>>,
    /// For a probe with a tolerance: whether its value was within it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance_met: Option<bool>,
    /// The activity's name.
    #[serde(skip)]
    pub name: String,
    /// Probe, action or pause.
    #[serde(skip)]
    pub kind: ActivityKind,
    /// The tolerance's text.
    #[serde(skip)]
    pub tolerance: Option<String>,
    /// Why it failed, typed.
    #[serde(skip)]
    pub failure: Option<ActivityFailure>,
    /// How long it ran.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Why the harness or the runner considers the run failed at some point: one line of a verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Where it happened.
    pub phase: Phase,
    /// The activity.
    pub activity: String,
    /// The value it produced, if any.
    pub value: Option<Value>,
    /// The tolerance it was checked against, if any.
    pub tolerance: Option<String>,
    /// The failure (error, timeout, panic), if any.
    pub failure: Option<String>,
}

/// How one rollback ended, for the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct RollbackSummary {
    /// The rollback activity.
    pub name: String,
    /// Its status.
    pub status: ActivityStatus,
    /// How long it ran.
    pub duration: Duration,
    /// Why it failed.
    pub failure: Option<String>,
}

/// Why rollbacks did or did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackDecision {
    /// They ran.
    Ran,
    /// The experiment has none.
    NoneDeclared,
    /// The method never started.
    MethodNotStarted,
    /// The strategy is `never`.
    StrategyNever,
    /// The strategy is `deviated` and the experiment did not deviate.
    NotDeviated,
}

/// The result of a run: its outcome and what led to it.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The experiment's name.
    pub experiment: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Chaos Toolkit's status.
    pub status: Status,
    /// Whether the steady state was missed during or after the method.
    pub deviated: bool,
    /// The run's seed.
    pub seed: u64,
    /// What went wrong, grouped by kind (setup errors, baseline misses, failures, deviations,
    /// cancelled activities, rollback failures), each group in the order it happened.
    pub findings: Vec<Finding>,
    /// Whether rollbacks ran.
    pub rollback_decision: RollbackDecision,
    /// How each rollback ended.
    pub rollbacks: Vec<RollbackSummary>,
    /// What stopped the run early (experiment timeout, fail-fast, signal, a control or a
    /// hook), if anything.
    pub stopped_by: Option<String>,
    /// Why the run could not start (bad settings, an experiment that could not be built).
    pub error: Option<String>,
    /// The targets the run selected (instances, pods), as targets recorded them.
    pub targets: Vec<Value>,
    /// How long the run took.
    pub duration: Duration,
}

/// One thing that happened in a run.
#[derive(Clone, Debug)]
pub struct Event {
    /// When it happened.
    pub at: SystemTime,
    /// What happened.
    pub kind: EventKind,
}

/// What happened; see [`Event`].
#[derive(Clone, Debug)]
pub enum EventKind {
    /// Validation of the experiment (settings, hooks) started.
    ValidateStarted {
        /// The experiment's name.
        experiment: String,
        /// The experiment's description (`null` when it could not be built).
        description: Arc<Value>,
    },
    /// Validation passed; the run starts next.
    ValidateCompleted,
    /// Validation failed; the run ends with outcome `error` (or `aborted` when a hook refused
    /// it) without starting.
    ValidateFailed {
        /// Why.
        error: String,
    },
    /// The run started.
    RunStarted {
        /// The experiment's name.
        experiment: String,
        /// The experiment's description (the journal's `experiment`).
        description: Arc<Value>,
        /// The run's seed.
        seed: u64,
    },
    /// A steady-state check started.
    HypothesisStarted {
        /// Before, during or after the method.
        phase: Phase,
    },
    /// A steady-state check ended.
    HypothesisCompleted {
        /// Before, during or after the method.
        phase: Phase,
        /// Whether every probe met its tolerance.
        met: bool,
    },
    /// The method started.
    MethodStarted,
    /// The method ended.
    MethodCompleted,
    /// The rollbacks started.
    RollbacksStarted,
    /// The rollbacks ended.
    RollbacksCompleted,
    /// An activity started.
    ActivityStarted {
        /// Its phase.
        phase: Phase,
        /// Its name.
        name: String,
        /// Probe, action or pause.
        kind: ActivityKind,
    },
    /// An activity ended.
    ActivityCompleted {
        /// Its phase.
        phase: Phase,
        /// What it did.
        record: Arc<ActivityRecord>,
    },
    /// The run ended.
    RunCompleted {
        /// Its result.
        report: Arc<RunReport>,
    },
}

impl Event {
    /// The event's name, Chaos Toolkit's where it has one: `run-started`, `hypothesis-started`,
    /// `activity-completed`, and `run-completed`, `run-deviated` or `run-failed` at the end.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            EventKind::ValidateStarted { .. } => "validate-started",
            EventKind::ValidateCompleted => "validate-completed",
            EventKind::ValidateFailed { .. } => "validate-failed",
            EventKind::RunStarted { .. } => "run-started",
            EventKind::HypothesisStarted { .. } => "hypothesis-started",
            EventKind::HypothesisCompleted { .. } => "hypothesis-completed",
            EventKind::MethodStarted => "method-started",
            EventKind::MethodCompleted => "method-completed",
            EventKind::RollbacksStarted => "rollbacks-started",
            EventKind::RollbacksCompleted => "rollbacks-completed",
            EventKind::ActivityStarted { .. } => "activity-started",
            EventKind::ActivityCompleted { .. } => "activity-completed",
            EventKind::RunCompleted { report } => match report.outcome {
                Outcome::Passed => "run-completed",
                Outcome::Deviated => "run-deviated",
                _ => "run-failed",
            },
        }
    }
}

impl Event {
    /// Chaos Toolkit's flow phase of the event: `validate` or `run`.
    pub fn flow(&self) -> &'static str {
        match self.kind {
            EventKind::ValidateStarted { .. }
            | EventKind::ValidateCompleted
            | EventKind::ValidateFailed { .. } => "validate",
            _ => "run",
        }
    }
}

/// Every event name, in the order a run emits them.
pub const EVENT_NAMES: [&str; 15] = [
    "validate-started",
    "validate-completed",
    "validate-failed",
    "run-started",
    "hypothesis-started",
    "hypothesis-completed",
    "method-started",
    "method-completed",
    "rollbacks-started",
    "rollbacks-completed",
    "activity-started",
    "activity-completed",
    "run-completed",
    "run-deviated",
    "run-failed",
];

/// A consumer of a run's events: the journal recorder, the console, notification channels.
///
/// ```
/// use chaos_runtime::event::{Event, EventSink};
/// struct Count(usize);
/// impl EventSink for Count {
///     fn on_event(&mut self, _event: &Event) { self.0 += 1; }
/// }
/// ```
pub trait EventSink: Send {
    /// Called for every event, in order. Must not block.
    fn on_event(&mut self, event: &Event);
}

impl<S: EventSink + ?Sized> EventSink for Box<S> {
    fn on_event(&mut self, event: &Event) {
        (**self).on_event(event)
    }
}

impl<S: EventSink> EventSink for Arc<Mutex<S>> {
    fn on_event(&mut self, event: &Event) {
        self.lock()
            .unwrap_or_else(|p| p.into_inner())
            .on_event(event)
    }
}

/// The sinks of one run, called in the order they were added.
pub(crate) struct Bus {
    sinks: Mutex<Vec<Box<dyn EventSink>>>,
}

impl Bus {
    pub(crate) fn new(sinks: Vec<Box<dyn EventSink>>) -> Self {
        Bus {
            sinks: Mutex::new(sinks),
        }
    }

    pub(crate) fn emit(&self, kind: EventKind) {
        self.emit_at(SystemTime::now(), kind)
    }

    pub(crate) fn emit_at(&self, at: SystemTime, kind: EventKind) {
        let event = Event { at, kind };
        let mut sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        for s in sinks.iter_mut() {
            s.on_event(&event);
        }
    }
}
