//! FIGURE 3: timing accuracy of `pause 100ms` and of a `continuously(every = 50ms)` hypothesis.
//!
//! `cargo bench -p chaos-tests --bench accuracy` (`CHAOS_BENCH_RUNS=N` pause runs, default 30).
//!
//! Built with the builder API and run with `Runner` + `JournalRecorder` on a current-thread
//! tokio runtime, as the harness does, in release mode:
//! - `pause 100ms` alone in a method (with a trivial steady state), N times: the deviation of the pause's recorded duration
//!   (the journal's `run[0].duration`) from 100 ms;
//! - a trivial steady-state probe sampled `continuously(every = 50ms)` (20 Hz) while the method
//!   pauses 5 s, 3 times: the deviation of each during-sample's start (the journal's
//!   `steady_states.during[k].probes[0].start`) from the ideal grid `first + k * 50ms`, and of
//!   each interval between two samples from 50 ms. The probe also stamps a monotonic clock, as
//!   a cross-check of the journal's wall-clock timestamps.
//!
//! Medians and worst values; nothing asserts a timing.

mod common;

use chaos_runtime::journal::{Journal, JournalRecorder};
use chaos_runtime::run::Runner;
use chaos_runtime::{Activity, Context, Experiment, Hypothesis, Outcome, Probe};
use common::{median, runs, worst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PAUSE: Duration = Duration::from_millis(100);
const EVERY: Duration = Duration::from_millis(50);
const METHOD: Duration = Duration::from_secs(5);
const SAMPLED_RUNS: usize = 3;

fn run(rt: &tokio::runtime::Runtime, exp: &Experiment) -> Journal {
    let recorder = JournalRecorder::new(exp.name());
    let report = rt.block_on(
        Runner::new()
            .sink(recorder.clone())
            .run(exp, Context::builder().experiment(exp.name()).build()),
    );
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    let journal = recorder.journal();
    assert!(journal.is_finished());
    journal
}

/// Microseconds since the epoch of a journal timestamp `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
fn parse_rfc3339_micros(s: &str) -> i64 {
    let num = |r: std::ops::Range<usize>| -> i64 {
        s.get(r)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("bad timestamp {s}"))
    };
    assert!(s.ends_with("+00:00") && s.len() == 32, "bad timestamp {s}");
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    secs * 1_000_000 + num(20..26)
}

/// Deviations (ms) of `starts` (µs) from the grid `starts[0] + k * every`, with `k` the nearest
/// tick (a sample that overran skips ticks), and of each interval from `every`; and the number
/// of skipped ticks.
fn grid(starts: &[i64], every: Duration) -> (Vec<f64>, Vec<f64>, i64) {
    let every_us = every.as_micros() as i64;
    let t0 = starts[0];
    let mut dev = Vec::new();
    let mut skipped = 0;
    let mut last_k = 0;
    for (i, &t) in starts.iter().enumerate() {
        let k = ((t - t0) as f64 / every_us as f64).round() as i64;
        if i > 0 {
            skipped += k - last_k - 1;
        }
        last_k = k;
        dev.push((t - t0 - k * every_us) as f64 / 1000.0);
    }
    let intervals = starts
        .windows(2)
        .map(|w| (w[1] - w[0] - every_us) as f64 / 1000.0)
        .collect();
    (dev, intervals, skipped)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Pause accuracy.
    let n = runs(30);
    // The steady state only makes the experiment check something (one that cannot fail is
    // rejected); the pause is still the run's only method activity.
    let pause = Experiment::builder("accuracy::pause")
        .steady_state(Probe::new("one", |_cx| async { Ok(1u8) }).tolerance("== 1", |v| *v == 1))
        .method(Activity::pause(PAUSE))
        .build()
        .expect("valid experiment");
    run(&rt, &pause); // warm-up
    let mut pause_dev = Vec::new();
    for _ in 0..n {
        let j = run(&rt, &pause);
        assert_eq!(j.run.len(), 1);
        pause_dev.push((j.run[0].duration - PAUSE.as_secs_f64()) * 1000.0);
    }

    // Sampling accuracy.
    let mut dev = Vec::new();
    let mut intervals = Vec::new();
    let mut mono_dev = Vec::new();
    let mut counts = Vec::new();
    let mut skipped = 0;
    for r in 0..SAMPLED_RUNS {
        let stamps: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let probe_stamps = stamps.clone();
        let exp = Experiment::builder(format!("accuracy::continuously{r}"))
            .hypothesis(Hypothesis::Continuously {
                every: EVERY,
                fail_fast: false,
            })
            .steady_state(
                Probe::new("stamp", move |_cx| {
                    let stamps = probe_stamps.clone();
                    async move {
                        stamps.lock().expect("stamps").push(Instant::now());
                        Ok(1u8)
                    }
                })
                .tolerance("== 1", |v| *v == 1),
            )
            .method(Activity::pause(METHOD))
            .build()
            .expect("valid experiment");
        let j = run(&rt, &exp);
        let starts: Vec<i64> = j
            .steady_states
            .during
            .iter()
            .map(|h| parse_rfc3339_micros(&h.probes[0].start))
            .collect();
        counts.push(starts.len());
        let (d, i, s) = grid(&starts, EVERY);
        dev.extend(d);
        intervals.extend(i);
        skipped += s;
        // The probe's own monotonic stamps: before, the during samples, after.
        let stamps = stamps.lock().expect("stamps");
        assert_eq!(stamps.len(), starts.len() + 2);
        let during = &stamps[1..=starts.len()];
        let mono: Vec<i64> = during
            .iter()
            .map(|t| t.duration_since(during[0]).as_micros() as i64)
            .collect();
        mono_dev.extend(grid(&mono, EVERY).0);
    }

    // Ticks at 0, 50ms, ..., 5s: the last one races the end of the method.
    let expected = METHOD.as_millis() / EVERY.as_millis();
    println!();
    println!("== FIGURE 3: timing accuracy (builder API + Runner + JournalRecorder, release) ==");
    println!(
        "pause 100ms: {n} runs; recorded duration - 100 ms: median {:+.3} ms, worst {:+.3} ms",
        median(&pause_dev),
        worst(&pause_dev)
    );
    println!(
        "continuously(every = 50ms) over a 5 s method: {SAMPLED_RUNS} runs, {counts:?} samples during the method (ideal {expected} or {}), {skipped} ticks skipped",
        expected + 1
    );
    println!(
        "  sample start - ideal grid (journal timestamps): median {:+.3} ms, worst {:+.3} ms",
        median(&dev),
        worst(&dev)
    );
    println!(
        "  sample start - ideal grid (probe's monotonic clock): median {:+.3} ms, worst {:+.3} ms",
        median(&mono_dev),
        worst(&mono_dev)
    );
    println!(
        "  interval - 50 ms: median {:+.3} ms, worst {:+.3} ms",
        median(&intervals),
        worst(&intervals)
    );
    println!(
        "FIGURE 3: pause 100ms off by {:+.2} ms median (worst {:+.2} ms); 20 Hz sampling off the grid by {:+.2} ms median (worst {:+.2} ms), intervals off by {:+.2} ms median (worst {:+.2} ms)",
        median(&pause_dev),
        worst(&pause_dev),
        median(&dev),
        worst(&dev),
        median(&intervals),
        worst(&intervals)
    );
}
