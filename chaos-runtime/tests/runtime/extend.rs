//! Hooks and controls change, refuse and interrupt runs.

use chaos_runtime::event::{Event, EventSink};
use chaos_runtime::extend::{Control, ControlPoint, Hook, RunPlan, Veto};
use chaos_runtime::journal::JournalRecorder;
use chaos_runtime::{run::Runner, Action, Context, Experiment, Outcome, Probe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[derive(Clone, Default)]
struct Names(Arc<Mutex<Vec<&'static str>>>);
impl EventSink for Names {
    fn on_event(&mut self, e: &Event) {
        self.0.lock().unwrap().push(e.name());
    }
}

struct Tagger;
impl Hook for Tagger {
    fn name(&self) -> &str {
        "tagger"
    }
    fn before_run(&self, plan: &mut RunPlan) -> Result<(), Veto> {
        plan.tags.push("hooked".into());
        plan.variables.insert("from_hook".into(), "yes".into());
        Ok(())
    }
}

struct Refuser;
impl Hook for Refuser {
    fn name(&self) -> &str {
        "change-freeze"
    }
    fn before_run(&self, _plan: &mut RunPlan) -> Result<(), Veto> {
        Err("changes are frozen until Monday".into())
    }
}

fn counted(ran: &Arc<AtomicU32>, rolled: &Arc<AtomicU32>) -> Experiment {
    let (r1, r2) = (ran.clone(), rolled.clone());
    Experiment::builder("t::ext")
        .tags(["base"])
        .method(Action::new("first", move |cx| {
            let r = r1.clone();
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(cx.var_or("from_hook", "no"))
            }
        }))
        .method(Action::new("second", |_| async { Ok(()) }))
        .rollback(Action::new("undo", move |_| {
            let r = r2.clone();
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }))
        .build()
        .unwrap()
}

#[test]
fn hooks_change_tags_and_variables() {
    let (ran, rolled) = (Arc::default(), Arc::default());
    let rec = JournalRecorder::new("t::ext");
    let report = block_on(
        Runner::new()
            .sink(rec.clone())
            .hook(Arc::new(Tagger))
            .run(&counted(&ran, &rolled), Context::builder().build()),
    );
    assert_eq!(report.outcome, Outcome::Passed);
    let j = rec.journal();
    assert_eq!(j.experiment["tags"], serde_json::json!(["base", "hooked"]));
    assert_eq!(j.run[0].output, "yes");
}

#[test]
fn a_hook_refusal_aborts_before_anything_is_touched() {
    let (ran, rolled) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let names = Names::default();
    let rec = JournalRecorder::new("t::ext");
    let report = block_on(
        Runner::new()
            .sink(names.clone())
            .sink(rec.clone())
            .hook(Arc::new(Refuser))
            .run(&counted(&ran, &rolled), Context::builder().build()),
    );
    assert_eq!(report.outcome, Outcome::Aborted);
    assert_eq!(
        report.stopped_by.as_deref(),
        Some("hook `change-freeze` refused the run: changes are frozen until Monday")
    );
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(rolled.load(Ordering::SeqCst), 0);
    assert_eq!(
        *names.0.lock().unwrap(),
        ["validate-started", "validate-failed", "run-failed"]
    );
    let j = rec.journal();
    assert_eq!(j.outcome, Outcome::Aborted);
    assert!(j.error.unwrap().contains("changes are frozen"));
}

/// Records every point it sees; refuses before the activity named `stop_before`.
struct Recorder {
    seen: Mutex<Vec<String>>,
    stop_before: Option<&'static str>,
}
impl Control for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn before(&self, point: &ControlPoint<'_>, _cx: &Context) -> Result<(), Veto> {
        self.seen.lock().unwrap().push(format!("before {point:?}"));
        match point {
            ControlPoint::Activity { name, .. } if Some(*name) == self.stop_before => {
                Err(format!("no `{name}` today").into())
            }
            ControlPoint::Rollbacks => Err("refusing rollbacks has no effect".into()),
            _ => Ok(()),
        }
    }
    fn after(&self, point: &ControlPoint<'_>, _cx: &Context) -> Result<(), Veto> {
        self.seen.lock().unwrap().push(format!("after {point:?}"));
        Ok(())
    }
}

#[test]
fn controls_are_called_around_every_phase_and_activity() {
    let exp = Experiment::builder("t::ctl")
        .steady_state(Probe::new("p", |_| async { Ok(1) }).tolerance("== 1", |v| *v == 1))
        .method(Action::new("a", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let control = Arc::new(Recorder {
        seen: Mutex::default(),
        stop_before: None,
    });
    let report = block_on(
        Runner::new()
            .control(control.clone())
            .run(&exp, Context::builder().build()),
    );
    assert_eq!(report.outcome, Outcome::Passed);
    let seen = control.seen.lock().unwrap().clone();
    let expected: Vec<String> = [
        "before Experiment",
        "before Hypothesis(SteadyStateBefore)",
        "before Activity { phase: SteadyStateBefore, name: \"p\", kind: Probe }",
        "after Activity { phase: SteadyStateBefore, name: \"p\", kind: Probe }",
        "after Hypothesis(SteadyStateBefore)",
        "before Method",
        "before Activity { phase: Method, name: \"a\", kind: Action }",
        "after Activity { phase: Method, name: \"a\", kind: Action }",
        "after Method",
        "before Hypothesis(SteadyStateAfter)",
        "before Activity { phase: SteadyStateAfter, name: \"p\", kind: Probe }",
        "after Activity { phase: SteadyStateAfter, name: \"p\", kind: Probe }",
        "after Hypothesis(SteadyStateAfter)",
        "after Experiment",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_control_interrupts_before_an_activity_and_rollbacks_still_run() {
    let (ran, rolled) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let control = Arc::new(Recorder {
        seen: Mutex::default(),
        stop_before: Some("first"),
    });
    let report = block_on(
        Runner::new()
            .control(control)
            .run(&counted(&ran, &rolled), Context::builder().build()),
    );
    assert_eq!(report.outcome, Outcome::Interrupted);
    assert_eq!(
        report.stopped_by.as_deref(),
        Some("control `recorder`: no `first` today")
    );
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the refused activity never ran"
    );
    assert_eq!(
        rolled.load(Ordering::SeqCst),
        1,
        "rollbacks run and cannot be refused"
    );
}
