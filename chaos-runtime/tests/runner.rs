//! Run semantics, in process: hypothesis strategies, sampling without fail-fast, background
//! failures, pauses and steady-state timeouts.

use chaos_runtime::event::RunReport;
use chaos_runtime::journal::{Journal, JournalRecorder};
use chaos_runtime::{
    run::Runner, Action, Activity, Context, Experiment, ExperimentBuilder, Hypothesis, Outcome,
    Probe,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn run(exp: Experiment) -> (RunReport, Journal) {
    let rec = JournalRecorder::new(exp.name());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(
        Runner::new()
            .sink(rec.clone())
            .run(&exp, Context::builder().seed(3).build()),
    );
    (report, rec.journal())
}

fn counting(name: &str, hypothesis: Hypothesis, counter: Arc<AtomicU32>) -> ExperimentBuilder {
    let c = counter.clone();
    Experiment::builder(name)
        .hypothesis(hypothesis)
        .steady_state(
            Probe::new("count", move |_| {
                let c = c.clone();
                async move { Ok(c.fetch_add(1, Ordering::SeqCst)) }
            })
            .tolerance(">= 0", |_| true),
        )
        .method(Action::new("a", |_| async { Ok(()) }))
}

#[test]
fn before_and_after_only_strategies() {
    let n = Arc::new(AtomicU32::new(0));
    let (r, j) = run(
        counting("t::before", Hypothesis::BeforeMethodOnly, n.clone())
            .build()
            .unwrap(),
    );
    assert_eq!(r.outcome, Outcome::Passed);
    assert!(j.steady_states.before.is_some());
    assert!(j.steady_states.after.is_none());
    assert_eq!(n.load(Ordering::SeqCst), 1);

    let n = Arc::new(AtomicU32::new(0));
    let (_, j) = run(counting("t::after", Hypothesis::AfterMethodOnly, n.clone())
        .build()
        .unwrap());
    assert!(j.steady_states.before.is_none());
    assert!(j.steady_states.after.is_some());
    assert_eq!(n.load(Ordering::SeqCst), 1);
}

#[test]
fn sampling_without_fail_fast_records_the_miss_and_goes_on() {
    let broken = Arc::new(AtomicU32::new(0));
    let (b1, b2) = (broken.clone(), broken.clone());
    let done = Arc::new(AtomicU32::new(0));
    let d = done.clone();
    let exp = Experiment::builder("t::sampled")
        .hypothesis(Hypothesis::Continuously {
            every: Duration::from_millis(20),
            fail_fast: false,
        })
        .steady_state(
            Probe::new("healthy", move |_| {
                let b = b1.clone();
                async move { Ok(b.load(Ordering::SeqCst)) }
            })
            .tolerance("== 0", |v| *v == 0),
        )
        .method(Action::new("break", move |_| {
            let b = b2.clone();
            async move {
                b.store(1, Ordering::SeqCst);
                Ok(())
            }
        }))
        .method(Activity::pause(Duration::from_millis(100)))
        .method(Action::new("repair", move |_| {
            let (b, d) = (broken.clone(), d.clone());
            async move {
                b.store(0, Ordering::SeqCst);
                d.store(1, Ordering::SeqCst);
                Ok(())
            }
        }))
        .build()
        .unwrap();
    let (r, j) = run(exp);
    assert_eq!(r.outcome, Outcome::Deviated);
    assert_eq!(
        done.load(Ordering::SeqCst),
        1,
        "the method went on after the miss"
    );
    assert!(j.steady_states.during.iter().any(|h| !h.steady_state_met));
    assert!(j.steady_states.after.as_ref().unwrap().steady_state_met);
    assert!(j.deviated);
}

#[test]
fn a_failing_background_activity_fails_the_run() {
    let exp = Experiment::builder("t::bg")
        .method(
            Action::new("bg", |_| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err::<(), _>("background broke".into())
            })
            .background(),
        )
        .method(Action::new("fg", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let (r, j) = run(exp);
    assert_eq!(r.outcome, Outcome::ActivityFailed);
    assert_eq!(r.findings[0].activity, "action \"bg\"");
    assert_eq!(j.run.len(), 2);
}

#[test]
fn pauses_before_and_after_are_honoured() {
    let exp = Experiment::builder("t::pauses")
        .method(
            Action::new("a", |_| async { Ok(()) })
                .pause_before(Duration::from_millis(60))
                .pause_after(Duration::from_millis(60)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let (r, j) = run(exp);
    assert_eq!(r.outcome, Outcome::Passed);
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert!(
        j.run[0].duration < 0.05,
        "pauses are not part of the activity's duration"
    );
}

#[test]
fn a_steady_state_probe_past_its_timeout_misses_the_baseline() {
    let exp = Experiment::builder("t::slowprobe")
        .steady_state(
            Probe::new("slow", |_| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(200)
            })
            .tolerance("== 200", |v| *v == 200)
            .timeout(Duration::from_millis(50)),
        )
        .method(Action::new("a", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let started = Instant::now();
    let (r, j) = run(exp);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(r.outcome, Outcome::BaselineNotMet);
    let probe = &j.steady_states.before.as_ref().unwrap().probes[0];
    assert_eq!(probe.tolerance_met, Some(false));
    assert_eq!(probe.exception.as_ref().unwrap()[0], "timed out after 50ms");
    assert!(j.run.is_empty());
}
