//! The journal: one JSON file per run, in Chaos Toolkit's format plus our keys, written
//! atomically.
//!
//! [`JournalRecorder`] is an [`EventSink`] that builds the journal from the event stream, so a
//! run cut short (a panic in the harness, a signal) still leaves everything recorded up to then.

mod delivery;
mod recorder;
mod snapshot;
#[cfg(test)]
mod tests;
mod write;

pub use delivery::{DeliveryRecord, DeliveryStatus};
pub use recorder::JournalRecorder;
pub use snapshot::redact_for_snapshot;
pub use write::JournalError;

use crate::event::{ActivityRecord, Event, EventKind, Phase};
use crate::outcome::{Outcome, Status};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::SystemTime;

/// The name written as the journal's generator.
pub const GENERATOR: &str = "chaos-harness";
/// The version written as the journal's generator version.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One steady-state check in the journal.
#[derive(Clone, Debug, Serialize)]
pub struct HypothesisRecord {
    /// Whether every probe met its tolerance.
    pub steady_state_met: bool,
    /// The probes' records.
    pub probes: Vec<ActivityRecord>,
}

/// The journal's `steady_states`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SteadyStates {
    /// Before the method (`null` when not checked).
    pub before: Option<HypothesisRecord>,
    /// After the method (`null` when not checked).
    pub after: Option<HypothesisRecord>,
    /// Samples taken during the method.
    pub during: Vec<HypothesisRecord>,
}

/// A run's journal. Keys and status values are Chaos Toolkit's; `outcome`, `seed`,
/// `generator` and `generator_version` are ours.
#[derive(Clone, Debug, Serialize)]
pub struct Journal {
    /// Who wrote the journal.
    pub generator: &'static str,
    /// Its version.
    pub generator_version: &'static str,
    /// The operating system and architecture.
    pub platform: String,
    /// The host name.
    pub node: String,
    /// The experiment's name (`module::function`).
    pub name: String,
    /// The experiment as run.
    pub experiment: Value,
    /// When the run started.
    pub start: String,
    /// When the run ended.
    pub end: Option<String>,
    /// How long it took, in seconds.
    pub duration: Option<f64>,
    /// Chaos Toolkit's status.
    pub status: Status,
    /// Our outcome.
    pub outcome: Outcome,
    /// Whether the steady state was missed during or after the method.
    pub deviated: bool,
    /// The run's seed (`CHAOS_SEED` replays it).
    pub seed: u64,
    /// The steady-state checks.
    pub steady_states: SteadyStates,
    /// The method's activities.
    pub run: Vec<ActivityRecord>,
    /// The rollbacks.
    pub rollbacks: Vec<ActivityRecord>,
    /// What stopped the run early (the experiment timeout, fail-fast, a signal, a control, a
    /// hook's refusal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// Why the run could not start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The targets the run selected (which instances or pods, and from what).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Value>,
    /// What the notification channels delivered, and what failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<DeliveryRecord>,
    /// For a run whose process was killed before its rollbacks: when, by which process and
    /// how the recovery from its ledger entry ran them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Value>,
    #[serde(skip)]
    started: Option<SystemTime>,
    #[serde(skip)]
    pending: Option<(Phase, HypothesisRecord)>,
    #[serde(skip)]
    finished: bool,
}

impl Journal {
    pub(super) fn new(name: &str) -> Self {
        Journal {
            generator: GENERATOR,
            generator_version: GENERATOR_VERSION,
            platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            node: hostname(),
            name: name.to_owned(),
            experiment: Value::Null,
            start: crate::time::rfc3339(SystemTime::now()),
            end: None,
            duration: None,
            status: Status::Failed,
            outcome: Outcome::Error,
            deviated: false,
            seed: 0,
            steady_states: SteadyStates::default(),
            run: Vec::new(),
            rollbacks: Vec::new(),
            stopped_by: None,
            error: None,
            notifications: Vec::new(),
            recovered: None,
            targets: Vec::new(),
            started: None,
            pending: None,
            finished: false,
        }
    }

    /// Whether the run completed (a journal of a run cut short says `error`/`failed`).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub(super) fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::ValidateStarted {
                experiment,
                description,
            } => {
                self.name.clone_from(experiment);
                if !description.is_null() {
                    self.experiment = (**description).clone();
                }
                self.start = crate::time::rfc3339(event.at);
                self.started = Some(event.at);
            }
            EventKind::ValidateFailed { error } => self.error = Some(error.clone()),
            EventKind::RunStarted {
                experiment,
                description,
                seed,
            } => {
                self.name.clone_from(experiment);
                self.experiment = (**description).clone();
                self.seed = *seed;
                if self.started.is_none() {
                    self.start = crate::time::rfc3339(event.at);
                    self.started = Some(event.at);
                }
            }
            EventKind::HypothesisStarted { phase } => {
                self.close_pending();
                self.pending = Some((
                    *phase,
                    HypothesisRecord {
                        steady_state_met: true,
                        probes: Vec::new(),
                    },
                ));
            }
            EventKind::HypothesisCompleted { phase, met } => {
                if let Some((p, mut h)) = self.pending.take() {
                    debug_assert_eq!(p, *phase);
                    h.steady_state_met = *met;
                    self.place(p, h);
                }
            }
            EventKind::ActivityCompleted { phase, record } => match phase {
                Phase::Method => self.run.push((**record).clone()),
                Phase::Rollbacks => self.rollbacks.push((**record).clone()),
                steady => match &mut self.pending {
                    Some((p, h)) if p == steady => {
                        if record.tolerance_met != Some(true) {
                            h.steady_state_met = false;
                        }
                        h.probes.push((**record).clone());
                    }
                    _ => {
                        let h = HypothesisRecord {
                            steady_state_met: record.tolerance_met == Some(true),
                            probes: vec![(**record).clone()],
                        };
                        self.place(*steady, h);
                    }
                },
            },
            EventKind::RunCompleted { report } => {
                self.close_pending();
                self.outcome = report.outcome;
                self.status = report.status;
                self.deviated = report.deviated;
                self.stopped_by.clone_from(&report.stopped_by);
                self.targets.clone_from(&report.targets);
                self.seed = report.seed;
                self.end = Some(crate::time::rfc3339(event.at));
                self.duration = Some(
                    self.started
                        .and_then(|s| event.at.duration_since(s).ok())
                        .unwrap_or(report.duration)
                        .as_secs_f64(),
                );
                self.finished = true;
            }
            _ => {}
        }
    }

    fn place(&mut self, phase: Phase, h: HypothesisRecord) {
        match phase {
            Phase::SteadyStateBefore => self.steady_states.before = Some(h),
            Phase::SteadyStateAfter => self.steady_states.after = Some(h),
            _ => self.steady_states.during.push(h),
        }
    }

    fn close_pending(&mut self) {
        if let Some((p, mut h)) = self.pending.take() {
            h.steady_state_met = false;
            self.place(p, h);
        }
    }

    /// Marks a journal whose run never completed (the harness caught a panic) as `error`.
    pub fn finish_broken(&mut self, why: &str) {
        if self.finished {
            return;
        }
        self.close_pending();
        let now = SystemTime::now();
        self.end = Some(crate::time::rfc3339(now));
        self.duration = self
            .started
            .and_then(|s| now.duration_since(s).ok())
            .map(|d| d.as_secs_f64());
        self.outcome = Outcome::Error;
        self.status = Status::Failed;
        if let Value::Object(m) = &mut self.experiment {
            m.insert("broken".into(), json!(why));
        } else {
            self.experiment = json!({ "broken": why });
        }
        self.finished = true;
    }

    /// The journal as JSON, with every registered secret redacted.
    pub fn to_value(&self) -> Value {
        let mut v = serde_json::to_value(self)
            .unwrap_or_else(|e| json!({ "serialization-error": e.to_string() }));
        crate::redact::redact_json(&mut v);
        v
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}
