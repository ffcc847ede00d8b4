//! Extension points: hooks that see (and may change or refuse) an experiment before it runs,
//! controls called around every phase and activity (which may interrupt the run), and
//! observers called with the finished journal. Kallisti's trial creation hooks and trial
//! observers, and Chaos Toolkit's controls, in Rust.
//!
//! They are registered once per harness, in `chaos_harness::main!(setup = ...)`.

use crate::context::Context;
use crate::event::{Phase, RunReport};
use crate::model::ActivityKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What a [`Hook`] may change about a run before it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunPlan {
    /// The experiment's name (read only: changing it has no effect).
    pub experiment: String,
    /// The experiment's tags, as recorded in the journal.
    pub tags: Vec<String>,
    /// Variables given to the run; they override settings, and are overridden by the
    /// environment, as `cx.var` reads them.
    pub variables: BTreeMap<String, String>,
}

/// A hook's or a control's refusal: why it stops a run, in the journal's `stopped_by` and the
/// verdict. Made from any message: `Err("changes are frozen".into())`.
///
/// ```
/// use chaos_runtime::extend::Veto;
/// let veto = Veto::from(format!("no `{}` today", "kill"));
/// assert_eq!(veto.to_string(), "no `kill` today");
/// assert_eq!(veto.reason(), "no `kill` today");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Veto {
    reason: String,
}

impl Veto {
    /// A refusal for `reason`.
    pub fn new(reason: impl Into<String>) -> Veto {
        Veto {
            reason: reason.into(),
        }
    }

    /// Why the run is refused or stopped.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl From<String> for Veto {
    fn from(reason: String) -> Veto {
        Veto::new(reason)
    }
}

impl From<&str> for Veto {
    fn from(reason: &str) -> Veto {
        Veto::new(reason)
    }
}

/// Called with every experiment before it runs (Kallisti's trial creation hook).
///
/// ```
/// use chaos_runtime::extend::{Hook, RunPlan, Veto};
/// struct OnlyNightly;
/// impl Hook for OnlyNightly {
///     fn name(&self) -> &str { "only-nightly" }
///     fn before_run(&self, plan: &mut RunPlan) -> Result<(), Veto> {
///         plan.tags.push("checked".into());
///         if std::env::var("NIGHTLY").is_err() && plan.tags.iter().any(|t| t == "nightly") {
///             return Err("nightly experiments run only in the nightly job".into());
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Hook: Send + Sync + 'static {
    /// The hook's name, used in verdicts and logs.
    fn name(&self) -> &str;
    /// Changes the plan, or refuses the run with a reason: the experiment then ends with
    /// outcome `aborted` before anything is touched.
    fn before_run(&self, plan: &mut RunPlan) -> Result<(), Veto>;
}

/// Where a [`Control`] is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlPoint<'a> {
    /// The whole experiment.
    Experiment,
    /// A steady-state check (before, during or after the method).
    Hypothesis(Phase),
    /// The method.
    Method,
    /// The rollbacks.
    Rollbacks,
    /// One activity.
    Activity {
        /// Its phase.
        phase: Phase,
        /// Its name.
        name: &'a str,
        /// Probe, action or pause.
        kind: ActivityKind,
    },
}

/// Called before and after the experiment, each hypothesis check, the method, the rollbacks
/// and each activity (Chaos Toolkit's controls). Returning `Err(`[`Veto`]`)` interrupts the run:
/// the activity in flight is cancelled, rollbacks run (they cannot be interrupted), and the
/// run ends `interrupted`, naming the control and its reason.
///
/// Controls are called on the run's timeline: keep them quick.
///
/// ```
/// use chaos_runtime::extend::{Control, ControlPoint, Veto};
/// use chaos_runtime::Context;
/// struct StopFile;
/// impl Control for StopFile {
///     fn name(&self) -> &str { "stop-file" }
///     fn before(&self, point: &ControlPoint<'_>, _cx: &Context) -> Result<(), Veto> {
///         if matches!(point, ControlPoint::Activity { .. }) && std::path::Path::new("/tmp/STOP-CHAOS").exists() {
///             return Err("/tmp/STOP-CHAOS exists".into());
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Control: Send + Sync + 'static {
    /// The control's name, used in verdicts and logs.
    fn name(&self) -> &str;
    /// Called before `point`.
    fn before(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        let _ = (point, cx);
        Ok(())
    }
    /// Called after `point`.
    fn after(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        let _ = (point, cx);
        Ok(())
    }
}

/// Called with every finished journal, after it is written (Kallisti's trial observer). The
/// journal is redacted. A panicking observer is logged and does not change the verdict.
///
/// ```
/// use chaos_runtime::extend::Observer;
/// struct CountOutcomes;
/// impl Observer for CountOutcomes {
///     fn name(&self) -> &str { "count" }
///     fn journal(&self, journal: &serde_json::Value, _path: &std::path::Path) {
///         tracing::info!(outcome = %journal["outcome"], "experiment finished");
///     }
/// }
/// ```
pub trait Observer: Send + Sync + 'static {
    /// The observer's name, used in logs.
    fn name(&self) -> &str;
    /// Called with the journal and the path it was written to.
    fn journal(&self, journal: &Value, path: &Path);
}

/// A boxed future, as [`Extension::finish_run`] returns.
pub use futures_util::future::BoxFuture;

/// Run-level behaviour a target (or any library) adds to every run it is registered for: its
/// controls, a step when each run starts and one when it ends. The Kubernetes target's Events
/// (a control, and the verdict Event flushed at the end) are one; a harness registers them in
/// its `Setup`, so no harness code special-cases a target.
///
/// ```
/// use chaos_runtime::extend::{BoxFuture, Extension};
/// use chaos_runtime::event::RunReport;
/// use chaos_runtime::Context;
/// struct Audit;
/// impl Extension for Audit {
///     fn name(&self) -> &str { "audit" }
///     fn finish_run<'a>(&'a self, cx: &'a Context, report: &'a RunReport) -> BoxFuture<'a, ()> {
///         Box::pin(async move {
///             tracing::info!(experiment = cx.experiment(), outcome = %report.outcome, "audited");
///         })
///     }
/// }
/// ```
pub trait Extension: Send + Sync + 'static {
    /// The extension's name, used in logs.
    fn name(&self) -> &str;
    /// Controls added to every run, after those registered on their own.
    fn controls(&self) -> Vec<std::sync::Arc<dyn Control>> {
        Vec::new()
    }
    /// Observers added to every harness, after those registered on their own.
    fn observers(&self) -> Vec<std::sync::Arc<dyn Observer>> {
        Vec::new()
    }
    /// Called with each run's context before its first event: the place to give the run what
    /// the extension provides (through [`Context::with_stash`]).
    fn start_run(&self, cx: &Context) {
        let _ = cx;
    }
    /// Called when each run has ended (rollbacks done, `run-completed` emitted), with its
    /// report; the run's verdict does not change whatever this does.
    fn finish_run<'a>(&'a self, cx: &'a Context, report: &'a RunReport) -> BoxFuture<'a, ()> {
        let _ = (cx, report);
        Box::pin(async {})
    }
}

impl<T: Hook + ?Sized> Hook for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn before_run(&self, plan: &mut RunPlan) -> Result<(), Veto> {
        (**self).before_run(plan)
    }
}

impl<T: Control + ?Sized> Control for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn before(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        (**self).before(point, cx)
    }
    fn after(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        (**self).after(point, cx)
    }
}

impl<T: Extension + ?Sized> Extension for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn controls(&self) -> Vec<std::sync::Arc<dyn Control>> {
        (**self).controls()
    }
    fn observers(&self) -> Vec<std::sync::Arc<dyn Observer>> {
        (**self).observers()
    }
    fn start_run(&self, cx: &Context) {
        (**self).start_run(cx)
    }
    fn finish_run<'a>(&'a self, cx: &'a Context, report: &'a RunReport) -> BoxFuture<'a, ()> {
        (**self).finish_run(cx, report)
    }
}
