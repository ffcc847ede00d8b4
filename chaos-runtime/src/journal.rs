//! The journal: one JSON file per run, in Chaos Toolkit's format plus our keys, written
//! atomically.
//!
//! [`JournalRecorder`] is an [`EventSink`] that builds the journal from the event stream, so a
//! run cut short (a panic in the harness, a signal) still leaves everything recorded up to then.

use crate::event::{ActivityRecord, Event, EventKind, EventSink, Phase};
use crate::outcome::{Outcome, Status};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
    pub notifications: Vec<Value>,
    #[serde(skip)]
    started: Option<SystemTime>,
    #[serde(skip)]
    pending: Option<(Phase, HypothesisRecord)>,
    #[serde(skip)]
    finished: bool,
}

impl Journal {
    fn new(name: &str) -> Self {
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

    fn apply(&mut self, event: &Event) {
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

    /// Writes the journal to `path` atomically: a temporary file in the same directory, then a
    /// rename. Creates the directory. Registered secrets are redacted.
    pub fn write_atomic(&self, path: &Path) -> Result<(), JournalError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let serialized = if crate::redact::active() {
            serde_json::to_vec_pretty(&self.to_value())
        } else {
            // Nothing to redact: serialize straight from the journal, without a JSON tree.
            serde_json::to_vec_pretty(self)
        };
        let bytes = serialized.map_err(|source| JournalError::Serialize {
            path: path.to_owned(),
            source,
        })?;
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal.json".into());
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let io = |source| JournalError::Io {
            path: tmp.clone(),
            source,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            JournalError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }
}

/// A journal could not be written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file system error.
    #[error("could not write journal `{}`: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A serialization error.
    #[error("could not serialize journal `{}`: {source}", path.display())]
    Serialize {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
}

/// An [`EventSink`] that builds a run's [`Journal`] from its events. Clone it to keep a handle
/// on the journal while the runner owns the sink.
///
/// ```
/// use chaos_runtime::{journal::JournalRecorder, run::Runner, Experiment, Action, Context};
/// let exp = Experiment::builder("doc::j").method(Action::new("a", |_| async { Ok(1) })).build().unwrap();
/// let recorder = JournalRecorder::new("doc::j");
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// rt.block_on(Runner::new().sink(recorder.clone()).run(&exp, Context::builder().build()));
/// let journal = recorder.journal();
/// assert_eq!(journal.run.len(), 1);
/// assert_eq!(journal.outcome.as_str(), "passed");
/// ```
#[derive(Clone, Debug)]
pub struct JournalRecorder {
    journal: Arc<Mutex<Journal>>,
}

impl JournalRecorder {
    /// A recorder for experiment `name`.
    pub fn new(name: &str) -> Self {
        JournalRecorder {
            journal: Arc::new(Mutex::new(Journal::new(name))),
        }
    }

    /// A copy of the journal as recorded so far.
    pub fn journal(&self) -> Journal {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `f` on the journal.
    pub fn with<R>(&self, f: impl FnOnce(&mut Journal) -> R) -> R {
        f(&mut self.journal.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventSink for JournalRecorder {
    fn on_event(&mut self, event: &Event) {
        self.with(|j| j.apply(event))
    }
}

/// The journal with run-specific values replaced by placeholders, for snapshot review:
/// timestamps (`start`, `end`, `ts`) become `[timestamp]`, `duration` becomes `[duration]`,
/// `node` `[host]`, `platform` `[platform]`, `seed` `[seed]`, `generator_version` `[version]`,
/// HTTP latencies (`latency_ms`) `[latency]` and `elapsed_ms` `[elapsed]`, at any depth; the
/// notification deliveries (`notifications`) are left out.
///
/// ```
/// let v = serde_json::json!({"start": "2026-01-01T00:00:00+00:00", "run": [{"duration": 0.1, "output": 3}]});
/// let r = chaos_runtime::journal::redact_for_snapshot(v);
/// assert_eq!(r["start"], "[timestamp]");
/// assert_eq!(r["run"][0]["duration"], "[duration]");
/// assert_eq!(r["run"][0]["output"], 3);
/// ```
pub fn redact_for_snapshot(mut v: Value) -> Value {
    // Deliveries depend on the receivers, not on the experiment: they are left out.
    if let Value::Object(m) = &mut v {
        m.remove("notifications");
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    let placeholder = match k.as_str() {
                        "start" | "end" | "ts" => Some("[timestamp]"),
                        "duration" if val.is_number() || val.is_null() => Some("[duration]"),
                        "node" => Some("[host]"),
                        "platform" => Some("[platform]"),
                        "seed" => Some("[seed]"),
                        "generator_version" => Some("[version]"),
                        "latency_ms" => Some("[latency]"),
                        "elapsed_ms" => Some("[elapsed]"),
                        _ => None,
                    };
                    match placeholder {
                        Some(p) if !val.is_object() && !val.is_array() => *val = json!(p),
                        _ => walk(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run::Runner, Action, Context, Experiment, Probe};

    #[test]
    fn a_broken_run_still_leaves_a_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("x.json");
        let rec = JournalRecorder::new("t::x");
        rec.with(|j| j.finish_broken("the harness panicked"));
        let j = rec.journal();
        assert!(j.is_finished());
        j.write_atomic(&path).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["outcome"], "error");
        assert_eq!(v["status"], "failed");
        assert_eq!(v["experiment"]["broken"], "the harness panicked");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.json"], "no temporary file is left");
    }

    #[test]
    fn journal_places_records_by_phase() {
        let exp = Experiment::builder("t::phases")
            .steady_state(Probe::new("p", |_| async { Ok(1) }).tolerance("== 1", |v| *v == 1))
            .method(Action::new("a", |_| async { Ok("done") }))
            .rollback(Action::new("r", |_| async { Ok(()) }))
            .build()
            .unwrap();
        let rec = JournalRecorder::new("t::phases");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(
            Runner::new()
                .sink(rec.clone())
                .run(&exp, Context::builder().seed(9).build()),
        );
        let v = rec.journal().to_value();
        assert_eq!(v["seed"], 9);
        assert_eq!(v["steady_states"]["before"]["probes"][0]["output"], 1);
        assert_eq!(
            v["steady_states"]["after"]["probes"][0]["tolerance_met"],
            true
        );
        assert_eq!(v["run"][0]["output"], "done");
        assert_eq!(v["rollbacks"][0]["status"], "succeeded");
        assert!(v["run"][0].get("exception").is_none());
        assert!(v["run"][0].get("tolerance_met").is_none());
        let r = redact_for_snapshot(v);
        assert_eq!(r["run"][0]["start"], "[timestamp]");
        assert_eq!(r["seed"], "[seed]");
        assert_eq!(r["node"], "[host]");
    }

    fn record(output: Value, exception: Vec<String>) -> ActivityRecord {
        ActivityRecord {
            activity: json!({ "name": "p" }),
            output,
            status: crate::event::ActivityStatus::Failed,
            start: String::new(),
            end: String::new(),
            duration: 0.0,
            exception: Some(exception),
            tolerance_met: None,
            name: "p".into(),
            kind: crate::experiment::ActivityKind::Probe,
            tolerance: None,
            failure: None,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn secrets_escaped_by_json_or_debug_never_reach_the_journal_file() {
        use crate::redact::testing::{assert_masked, awkward};
        let dir = tempfile::tempdir().unwrap();
        for (i, s) in awkward("jrn").into_iter().enumerate() {
            let mut j = Journal::new("t::journal");
            j.experiment = json!({ "description": format!("uses {}", json!(s)) });
            j.run.push(record(
                json!({ (s.clone()): [s, format!("x{s}y")] }),
                vec![
                    format!("error: {s:?}"),
                    format!("body {}", json!({ "pw": s })),
                ],
            ));
            j.error = Some(format!("{:?}", json!(s).to_string()));
            j.stopped_by = Some(format!("control `c`: {s:?}"));
            assert_masked(&j.to_value().to_string(), "the journal value");
            let path = dir.path().join(format!("{i}.json"));
            j.write_atomic(&path).unwrap();
            assert_masked(&std::fs::read_to_string(&path).unwrap(), "the journal file");
        }
    }
}
