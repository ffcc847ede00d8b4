//! FIGURE (issue 3): an experiment that emits at least 8 events to a receiver that takes 2 s
//! to answer each, against the same experiment with no channel: the run's own wall time (the
//! experiment's timeline) and the end-of-run flush, bounded by the flush timeout.
//!
//! `cargo bench -p chaos-tests --bench notify` (about 40 s). Chaos Toolkit sends its events
//! one after another on the run's thread: with 2 s per event that adds about 2 s per event.

use chaos_harness::journal::{DeliveryStatus, JournalRecorder};
use chaos_harness::notify::{
    BoxedChannel, DeliveryPolicy, HttpChannel, HttpChannelConfig, NotificationSink, Notifier,
};
use chaos_harness::{run::Runner, Action, Context, Experiment, Probe};
use chaos_test_support::receiver::{Answer, Receiver};
use std::time::{Duration, Instant};

mod common;

fn experiment() -> Experiment {
    Experiment::builder("bench::notify")
        .steady_state(Probe::new("up", |_| async { Ok(200) }).tolerance("== 200", |v| *v == 200))
        .method(Action::new("poke", |_| async { Ok(()) }))
        .rollback(Action::new("undo", |_| async { Ok(()) }))
        .build()
        .expect("experiment")
}

struct Sample {
    run: Duration,
    flush: Duration,
    events: usize,
    delivered: usize,
    gave_up: usize,
}

fn once(exp: &Experiment, channels: Vec<BoxedChannel>, flush_timeout: Duration) -> Sample {
    let notifier = Notifier::global().expect("notifier");
    let recorder = JournalRecorder::new(exp.name());
    let sink = NotificationSink::new(&recorder, notifier, channels, None);
    let deliveries = sink.deliveries();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let started = Instant::now();
    rt.block_on(
        Runner::new()
            .sink(recorder)
            .sink(sink)
            .run(exp, Context::builder().seed(1).build()),
    );
    let run = started.elapsed();
    let flushed = Instant::now();
    let records = deliveries.flush(flush_timeout);
    Sample {
        run,
        flush: flushed.elapsed(),
        events: records.len(),
        delivered: records
            .iter()
            .filter(|r| r.status == DeliveryStatus::Delivered)
            .count(),
        gave_up: records
            .iter()
            .filter(|r| r.status == DeliveryStatus::GaveUp)
            .count(),
    }
}

fn main() {
    let exp = experiment();
    let receiver = Receiver::start(Answer::After(Duration::from_secs(2)));
    let slow = |name: &str| -> BoxedChannel {
        BoxedChannel::new(
            HttpChannel::new(HttpChannelConfig {
                name: name.into(),
                url: receiver.url(),
                headers: Vec::new(),
                verify_tls: true,
                forward_event_payload: true,
                events: None,
                policy: DeliveryPolicy {
                    timeout: Duration::from_secs(5),
                    retries: 0,
                    backoff: Duration::from_millis(100),
                },
            })
            .expect("channel"),
        )
    };
    // Separate channels, so that deliveries the bounded flush gave up on (still running in the
    // background) do not hold the other channel's in-flight slots.
    let channel = slow("slow");
    let bounded = slow("slow-bounded");
    let rounds = common::runs(7);
    let (mut quiet, mut noisy, mut flush_all, mut flush_bounded) = (vec![], vec![], vec![], vec![]);
    let mut last = None;
    for _ in 0..rounds {
        quiet.push(common::ms(once(&exp, vec![], Duration::from_secs(10)).run));
        let s = once(&exp, vec![channel.clone()], Duration::from_secs(10));
        noisy.push(common::ms(s.run));
        flush_all.push(common::ms(s.flush));
        assert_eq!(
            s.delivered, s.events,
            "with a 10 s flush every event is delivered"
        );
        let b = once(&exp, vec![bounded.clone()], Duration::from_millis(500));
        flush_bounded.push(common::ms(b.flush));
        last = Some((s, b));
    }
    let (s, b) = last.expect("rounds");
    let added = common::median(&noisy) - common::median(&quiet);
    println!("== FIGURE (issue 3): notifications to a receiver that takes 2 s per event ==");
    println!(
        "events per run: {} (all delivered with a 10 s flush: {})",
        s.events, s.delivered
    );
    println!(
        "run without a channel: {:.3} ms median",
        common::median(&quiet)
    );
    println!(
        "run with the 2 s channel: {:.3} ms median (worst {:.3} ms)",
        common::median(&noisy),
        common::max(&noisy)
    );
    println!(
        "flush until all delivered: {:.0} ms median (events sent concurrently)",
        common::median(&flush_all)
    );
    println!(
        "flush with a 500 ms flush timeout: {:.0} ms median, worst {:.0} ms ({} of {} gave up, recorded in the journal)",
        common::median(&flush_bounded),
        common::max(&flush_bounded),
        b.gave_up,
        b.events
    );
    println!(
        "FIGURE 5: {} events to a 2 s receiver add {added:+.3} ms to the experiment (target < 50 ms); flush bounded at {:.0} ms for a 500 ms timeout; Chaos Toolkit would add about {} s",
        s.events,
        common::max(&flush_bounded),
        2 * s.events
    );
}
