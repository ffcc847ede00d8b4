//! The event stream: every phase and activity, in order, to every sink.

use chaos_runtime::event::{Event, EventKind, EventSink};
use chaos_runtime::{run::Runner, Action, Activity, Context, Experiment, Outcome, Probe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Names(Arc<Mutex<Vec<String>>>);

impl EventSink for Names {
    fn on_event(&mut self, event: &Event) {
        let name = match &event.kind {
            EventKind::ActivityStarted { name, .. } => format!("{} {name}", event.name()),
            EventKind::ActivityCompleted { record, .. } => {
                format!("{} {}", event.name(), record.name)
            }
            EventKind::HypothesisStarted { phase }
            | EventKind::HypothesisCompleted { phase, .. } => {
                format!("{} {phase:?}", event.name())
            }
            _ => event.name().to_owned(),
        };
        self.0.lock().unwrap().push(name);
    }
}

fn run(exp: &Experiment, sinks: &[Names]) -> chaos_runtime::event::RunReport {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = Runner::new();
    for s in sinks {
        runner = runner.sink(s.clone());
    }
    rt.block_on(runner.run(exp, Context::builder().seed(1).build()))
}

#[test]
fn events_follow_the_phases_in_order_for_every_sink() {
    let exp = Experiment::builder("t::events")
        .steady_state(Probe::new("p", |_| async { Ok(1) }).tolerance("== 1", |v| *v == 1))
        .method(Action::new("a", |_| async { Ok(()) }))
        .method(Activity::pause(Duration::from_millis(1)))
        .rollback(Action::new("r", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let (a, b) = (Names::default(), Names::default());
    let report = run(&exp, &[a.clone(), b.clone()]);
    assert_eq!(report.outcome, Outcome::Passed);
    let expected = [
        "validate-started",
        "validate-completed",
        "run-started",
        "hypothesis-started SteadyStateBefore",
        "activity-started p",
        "activity-completed p",
        "hypothesis-completed SteadyStateBefore",
        "method-started",
        "activity-started a",
        "activity-completed a",
        "activity-started pause 1ms",
        "activity-completed pause 1ms",
        "method-completed",
        "hypothesis-started SteadyStateAfter",
        "activity-started p",
        "activity-completed p",
        "hypothesis-completed SteadyStateAfter",
        "rollbacks-started",
        "activity-started r",
        "activity-completed r",
        "rollbacks-completed",
        "run-completed",
    ];
    assert_eq!(*a.0.lock().unwrap(), expected);
    assert_eq!(*b.0.lock().unwrap(), expected);
}

#[test]
fn the_last_event_names_the_verdict() {
    let deviating = Experiment::builder("t::dev")
        .method(Probe::new("p", |_| async { Ok(5) }).tolerance("< 3", |v| *v < 3))
        .build()
        .unwrap();
    let names = Names::default();
    assert_eq!(
        run(&deviating, std::slice::from_ref(&names)).outcome,
        Outcome::Deviated
    );
    assert_eq!(names.0.lock().unwrap().last().unwrap(), "run-deviated");

    let failing = Experiment::builder("t::fail")
        .method(Action::new("a", |_| async { Err::<(), _>("nope".into()) }))
        .build()
        .unwrap();
    let names = Names::default();
    assert_eq!(
        run(&failing, std::slice::from_ref(&names)).outcome,
        Outcome::ActivityFailed
    );
    assert_eq!(names.0.lock().unwrap().last().unwrap(), "run-failed");
}

#[test]
fn a_panicking_tolerance_is_the_probes_failure() {
    let exp = Experiment::builder("t::tolpanic")
        .method(Probe::new("p", |_| async { Ok(1) }).tolerance("boom", |_| panic!("tolerance bug")))
        .build()
        .unwrap();
    let report = run(&exp, &[]);
    assert_eq!(report.outcome, Outcome::ActivityFailed);
    assert_eq!(
        report.findings[0].failure.as_deref(),
        Some("panicked: tolerance bug")
    );
}
