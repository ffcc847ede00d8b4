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
    run_on(Runner::new(), exp)
}

/// Runs `exp` with `runner`, a journal recorder added, on a runtime of its own.
fn run_on(runner: Runner, exp: Experiment) -> (RunReport, Journal) {
    let rec = JournalRecorder::new(exp.name());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(
        runner
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

/// Runs `exp` on a two-thread runtime, as the harness does, with an interrupt the test raises.
fn run_multi(
    exp: &Experiment,
    interrupt: Option<chaos_runtime::interrupt::Interrupt>,
) -> RunReport {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = Runner::new();
    if let Some(i) = interrupt {
        runner = runner.interrupt(i);
    }
    rt.block_on(runner.run(exp, Context::builder().seed(3).build()))
}

/// A background action that changes its "target" `after` it starts, a rollback that takes
/// long enough for a leaked task to act during it, and the flag that tells whether it did.
fn leaky(name: &str, after: Duration) -> (ExperimentBuilder, Arc<AtomicU32>) {
    let changed = Arc::new(AtomicU32::new(0));
    let c = changed.clone();
    let exp = Experiment::builder(name)
        .method(
            Action::new("slow background change", move |_| {
                let c = c.clone();
                async move {
                    tokio::time::sleep(after).await;
                    c.store(1, Ordering::SeqCst);
                    Ok(())
                }
            })
            .background(),
        )
        .rollback(Activity::pause(Duration::from_millis(700)));
    (exp, changed)
}

#[test]
fn a_background_activity_does_not_outlive_an_experiment_timeout() {
    let (exp, changed) = leaky("t::bg_timeout", Duration::from_millis(300));
    let exp = exp.timeout(Duration::from_millis(100)).build().unwrap();
    let r = run_multi(&exp, None);
    assert_eq!(r.outcome, Outcome::Aborted);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        changed.load(Ordering::SeqCst),
        0,
        "the background activity ran on after the timeout, into the rollbacks"
    );
    assert!(r
        .findings
        .iter()
        .any(|f| f.activity == "action \"slow background change\""
            && f.failure.as_deref() == Some("error: cancelled by the experiment timeout (100ms)")));
}

#[test]
fn a_background_activity_does_not_outlive_a_signal() {
    let (exp, changed) = leaky("t::bg_signal", Duration::from_millis(300));
    let exp = exp.build().unwrap();
    let (trigger, interrupt) = chaos_runtime::interrupt::Interrupt::manual();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        trigger.raise();
    });
    let r = run_multi(&exp, Some(interrupt));
    raiser.join().unwrap();
    assert_eq!(r.outcome, Outcome::Interrupted);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(changed.load(Ordering::SeqCst), 0);
}

#[test]
fn a_background_activity_does_not_outlive_a_fail_fast_miss() {
    let (exp, changed) = leaky("t::bg_fail_fast", Duration::from_millis(300));
    let samples = Arc::new(AtomicU32::new(0));
    let exp = exp
        .hypothesis(Hypothesis::DuringMethodOnly {
            every: Duration::from_millis(20),
            fail_fast: true,
        })
        .steady_state(
            Probe::new("healthy", move |_| {
                let s = samples.clone();
                async move { Ok(s.fetch_add(1, Ordering::SeqCst)) }
            })
            .tolerance("< 2", |v| *v < 2),
        )
        .build()
        .unwrap();
    let r = run_multi(&exp, None);
    assert_eq!(r.outcome, Outcome::Aborted);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        changed.load(Ordering::SeqCst),
        0,
        "the background activity ran on after fail-fast stopped the method"
    );
}

/// A `during` hypothesis whose probe needs a variable nobody set, and a method that would
/// change something after a while.
fn sampled_setup_error(fail_fast: bool) -> (Experiment, Arc<AtomicU32>) {
    let changed = Arc::new(AtomicU32::new(0));
    let c = changed.clone();
    let exp = Experiment::builder("t::sampled_setup")
        .hypothesis(Hypothesis::DuringMethodOnly {
            every: Duration::from_millis(20),
            fail_fast,
        })
        .steady_state(
            Probe::new("needs a variable", |cx| async move {
                Ok(cx.var("CHAOS_TEST_SURELY_UNSET_VARIABLE")?)
            })
            .tolerance("is set", |_| true),
        )
        .method(Activity::pause(Duration::from_millis(300)))
        .method(Action::new("change", move |_| {
            let c = c.clone();
            async move {
                c.store(1, Ordering::SeqCst);
                Ok(())
            }
        }))
        .build()
        .unwrap();
    (exp, changed)
}

#[test]
fn a_setup_error_seen_by_a_fail_fast_sampler_is_an_error() {
    let (exp, changed) = sampled_setup_error(true);
    let (r, _) = run(exp);
    assert_eq!(r.outcome, Outcome::Error, "{:?}", r.stopped_by);
    assert_eq!(r.stopped_by, None);
    assert_eq!(changed.load(Ordering::SeqCst), 0, "the method stopped");
    assert!(r.findings[0]
        .failure
        .as_deref()
        .unwrap()
        .contains("CHAOS_TEST_SURELY_UNSET_VARIABLE"));
}

#[test]
fn a_setup_error_seen_by_a_sampler_stops_the_method() {
    let (exp, changed) = sampled_setup_error(false);
    let (r, _) = run(exp);
    assert_eq!(r.outcome, Outcome::Error);
    assert_eq!(
        changed.load(Ordering::SeqCst),
        0,
        "the method went on after a setup error"
    );
}

fn run_with_ledger(exp: Experiment, ledger: &std::path::Path) -> (RunReport, Journal) {
    run_on(Runner::new().ledger(ledger), exp)
}

#[test]
fn the_ledger_entry_exists_during_the_method_and_is_closed_after_the_rollbacks() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let (during, in_rollback) = (ledger.clone(), ledger.clone());
    let exp = Experiment::builder("t::ledger")
        .method(Action::new("count entries", move |_| {
            let dir = during.clone();
            async move { Ok(std::fs::read_dir(&dir)?.count()) }
        }))
        .rollback(Action::new("count entries again", move |_| {
            let dir = in_rollback.clone();
            async move { Ok(std::fs::read_dir(&dir)?.count()) }
        }))
        .build()
        .unwrap();
    let (report, journal) = run_with_ledger(exp, &ledger);
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    assert_eq!(journal.run[0].output, serde_json::json!(1));
    assert_eq!(journal.rollbacks[0].output, serde_json::json!(1));
    assert_eq!(std::fs::read_dir(&ledger).unwrap().count(), 0);
}

#[test]
fn a_ledger_that_cannot_be_written_ends_the_run_in_error_before_the_method() {
    let dir = tempfile::tempdir().unwrap();
    // Root ignores permissions: a regular file stands where the directory should be.
    let ledger = dir.path().join("ledger");
    std::fs::write(&ledger, b"not a directory").unwrap();
    let ran = Arc::new(AtomicU32::new(0));
    let (m, r) = (ran.clone(), ran.clone());
    let exp = Experiment::builder("t::no_ledger")
        .method(Action::new("change something", move |_| {
            let m = m.clone();
            async move { Ok(m.fetch_add(1, Ordering::SeqCst)) }
        }))
        .rollback(Action::new("undo it", move |_| {
            let r = r.clone();
            async move { Ok(r.fetch_add(1, Ordering::SeqCst)) }
        }))
        .build()
        .unwrap();
    let (report, journal) = run_with_ledger(exp, &ledger);
    assert_eq!(report.outcome, Outcome::Error, "{report:?}");
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "neither the method nor a rollback ran"
    );
    assert!(journal.run.is_empty());
    let finding = &report.findings[0];
    let failure = finding.failure.as_deref().unwrap();
    assert!(failure.contains(&*ledger.to_string_lossy()), "{failure}");
    assert!(failure.contains("the method did not start"), "{failure}");
}

static UNDO_RUNS: AtomicU32 = AtomicU32::new(0);
static FAILING_UNDO_TRIES: AtomicU32 = AtomicU32::new(0);

fn counted_undo(
    _data: serde_json::Value,
    _cx: Context,
) -> futures_util::future::BoxFuture<'static, Result<serde_json::Value, chaos_runtime::BoxError>> {
    Box::pin(async {
        Ok(serde_json::json!(
            UNDO_RUNS.fetch_add(1, Ordering::SeqCst) + 1
        ))
    })
}
chaos_runtime::undo_kind!("test.counted", counted_undo);

fn failing_undo(
    _data: serde_json::Value,
    _cx: Context,
) -> futures_util::future::BoxFuture<'static, Result<serde_json::Value, chaos_runtime::BoxError>> {
    Box::pin(async {
        FAILING_UNDO_TRIES.fetch_add(1, Ordering::SeqCst);
        Err("the API said 503".into())
    })
}
chaos_runtime::undo_kind!("test.failing", failing_undo);

fn durable(name: &str, kind: &'static str) -> Experiment {
    use chaos_runtime::target::TargetContext;
    Experiment::builder(name)
        .method(Action::new(
            "change durably",
            move |cx: Context| async move {
                let undo = chaos_runtime::ledger::UndoRecord::new(
                    kind,
                    format!("undo through `{kind}`"),
                    serde_json::json!({}),
                );
                let intent = cx.intend(undo)?;
                intent.applied()?;
                Ok(())
            },
        ))
        .build()
        .unwrap()
}

#[test]
fn a_durable_undo_runs_with_the_rollbacks_and_the_entry_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let before = UNDO_RUNS.load(Ordering::SeqCst);
    let (report, journal) = run_with_ledger(durable("t::durable", "test.counted"), &ledger);
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    assert_eq!(UNDO_RUNS.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        journal.rollbacks[0].activity["name"],
        "undo through `test.counted`"
    );
    assert_eq!(std::fs::read_dir(&ledger).unwrap().count(), 0);
}

#[test]
fn a_failing_durable_undo_is_retried_then_left_in_the_ledger_for_the_next_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let before = FAILING_UNDO_TRIES.load(Ordering::SeqCst);
    let (report, _) = run_with_ledger(durable("t::durable_fails", "test.failing"), &ledger);
    assert_eq!(report.outcome, Outcome::RollbackFailed, "{report:?}");
    assert_eq!(
        FAILING_UNDO_TRIES.load(Ordering::SeqCst),
        before + 3,
        "three tries"
    );
    let orphans = chaos_runtime::ledger::Ledger::open(&ledger)
        .unwrap()
        .orphans();
    assert_eq!(orphans.claimed.len(), 1, "{:?}", orphans.errors);
    let undo = &orphans.claimed[0].state().undos[0];
    assert!(undo.applied);
    assert_eq!(
        undo.outcome,
        Some(chaos_runtime::ledger::UndoOutcome::Failed(
            "the API said 503".into()
        ))
    );
    assert!(undo.pending());
}

#[test]
fn an_undo_of_an_unknown_kind_is_refused_before_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let (report, journal) = run_with_ledger(
        durable("t::unknown_kind", "test.no_such_kind"),
        &dir.path().join("ledger"),
    );
    assert_eq!(report.outcome, Outcome::ActivityFailed, "{report:?}");
    let failure = report.findings[0].failure.as_deref().unwrap_or_default();
    assert!(
        failure.contains("no undo kind `test.no_such_kind` is registered"),
        "{failure}"
    );
    assert!(journal.rollbacks.is_empty());
}
