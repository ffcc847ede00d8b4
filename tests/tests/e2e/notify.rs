//! Notifications against real HTTP receivers on loopback: what they get for each outcome,
//! headers, GET versus POST, filters; receivers that fail, refuse or never answer change
//! neither the verdict nor the journal; Slack messages; custom channels.

use chaos_harness::event::RunReport;
use chaos_harness::journal::{DeliveryRecord, DeliveryStatus, Journal, JournalRecorder};
use chaos_harness::notify::{
    channel_fn, BoxedChannel, Channel, DeliveryPolicy, HttpChannel, HttpChannelConfig,
    Notification, NotificationSink, Notifier, SlackChannel,
};
use chaos_harness::{run::Runner, Action, Context, Experiment, Outcome, Probe};
use chaos_test_support::receiver::{refusing_url, Answer, Receiver, Request};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn experiment(outcome: Outcome) -> Experiment {
    let b = Experiment::builder(format!("notify::{}", outcome.as_str().replace('-', "_")))
        .title(format!("ends {outcome}"));
    let b = match outcome {
        Outcome::BaselineNotMet => b
            .steady_state(
                Probe::new("checkout answers", |_| async { Ok(503) })
                    .tolerance("== 200", |v| *v == 200),
            )
            .method(Action::new("a", |_| async { Ok(()) })),
        Outcome::Deviated => b
            .steady_state(
                Probe::new("checkout answers", |_| async { Ok(200) })
                    .tolerance("== 200", |v| *v == 200),
            )
            .method(Probe::new("latency", |_| async { Ok(900) }).tolerance("< 500", |v| *v < 500)),
        Outcome::ActivityFailed => b
            .steady_state(
                Probe::new("checkout answers", |_| async { Ok(200) })
                    .tolerance("== 200", |v| *v == 200),
            )
            .method(Action::new("kill", |_| async {
                Err::<(), _>("target vanished".into())
            })),
        _ => b
            .steady_state(
                Probe::new("checkout answers", |_| async { Ok(200) })
                    .tolerance("== 200", |v| *v == 200),
            )
            .method(Action::new("a", |_| async { Ok(()) })),
    };
    b.rollback(Action::new("undo", |_| async { Ok(()) }))
        .build()
        .unwrap()
}

fn http(url: &str, configure: impl FnOnce(&mut HttpChannelConfig)) -> BoxedChannel {
    let mut config = HttpChannelConfig {
        name: "receiver".into(),
        url: url.into(),
        headers: vec![("authorization".into(), "Bearer channel-token".into())],
        verify_tls: true,
        forward_event_payload: true,
        events: None,
        policy: DeliveryPolicy {
            timeout: Duration::from_millis(500),
            retries: 1,
            backoff: Duration::from_millis(20),
        },
    };
    configure(&mut config);
    BoxedChannel::new(HttpChannel::new(config).unwrap())
}

struct Run {
    report: RunReport,
    journal: Journal,
    run_time: Duration,
    deliveries: Vec<DeliveryRecord>,
}

fn run(exp: &Experiment, channels: Vec<BoxedChannel>, flush: Duration) -> Run {
    let notifier = Notifier::global().expect("notifier");
    let rec = JournalRecorder::new(exp.name());
    let sink = NotificationSink::new(&rec, notifier, channels, Some("/tmp/j.json".into()));
    let deliveries = sink.deliveries();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let report = rt.block_on(
        Runner::new()
            .sink(rec.clone())
            .sink(sink)
            .run(exp, Context::builder().seed(5).build()),
    );
    let run_time = started.elapsed();
    let deliveries = deliveries.flush(flush);
    Run {
        report,
        journal: rec.journal(),
        run_time,
        deliveries,
    }
}

fn by_seq(mut got: Vec<Request>) -> Vec<Request> {
    got.sort_by_key(|r| r.headers["x-chaos-event-seq"].parse::<u64>().unwrap());
    got
}

fn names(got: &[Request]) -> Vec<String> {
    got.iter()
        .map(|r| r.json()["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn receivers_get_every_event_in_order_with_chaos_toolkit_bodies_for_each_outcome() {
    for (outcome, last) in [
        (Outcome::Passed, "run-completed"),
        (Outcome::Deviated, "run-deviated"),
        (Outcome::ActivityFailed, "run-failed"),
        (Outcome::BaselineNotMet, "run-failed"),
    ] {
        let receiver = Receiver::start(Answer::Ok);
        let r = run(
            &experiment(outcome),
            vec![http(&receiver.url(), |_| {})],
            Duration::from_secs(5),
        );
        assert_eq!(r.report.outcome, outcome);
        assert!(
            r.deliveries
                .iter()
                .all(|d| d.status == DeliveryStatus::Delivered),
            "{:?}",
            r.deliveries
        );
        let got = by_seq(receiver.wait_for(r.deliveries.len(), Duration::from_secs(5)));
        assert_eq!(got.len(), r.deliveries.len());
        let names = names(&got);
        assert_eq!(
            names[..3],
            ["validate-started", "validate-completed", "run-started"],
            "{outcome}"
        );
        assert_eq!(names.last().unwrap(), last, "{outcome}");
        for required in [
            "hypothesis-started",
            "hypothesis-completed",
            "activity-started",
            "activity-completed",
        ] {
            assert!(
                names.iter().any(|n| n == required),
                "{outcome}: {required} missing in {names:?}"
            );
        }
        if outcome != Outcome::BaselineNotMet {
            for required in [
                "method-started",
                "method-completed",
                "rollbacks-started",
                "rollbacks-completed",
            ] {
                assert!(
                    names.iter().any(|n| n == required),
                    "{outcome}: {required} missing"
                );
            }
        }
        for req in &got {
            assert_eq!(req.method, "POST");
            assert_eq!(req.headers["content-type"], "application/json");
            assert_eq!(req.headers["authorization"], "Bearer channel-token");
            let body = req.json();
            let mut keys: Vec<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort();
            let expected: &[&str] = if body.get("error").is_some() {
                &["error", "name", "payload", "phase", "ts"]
            } else {
                &["name", "payload", "phase", "ts"]
            };
            assert_eq!(keys, expected);
            assert!(body["ts"].as_f64().unwrap() > 1.7e9);
            let phase = if body["name"].as_str().unwrap().starts_with("validate-") {
                "validate"
            } else {
                "run"
            };
            assert_eq!(body["phase"], phase);
        }
        let final_body = got.last().unwrap().json();
        assert_eq!(final_body["payload"]["outcome"], outcome.as_str());
        assert_eq!(final_body["payload"]["journal_path"], "/tmp/j.json");
        if outcome == Outcome::Passed {
            assert!(final_body.get("error").is_none());
        } else {
            assert!(
                final_body["error"]
                    .as_str()
                    .unwrap()
                    .starts_with(outcome.as_str()),
                "{final_body}"
            );
        }
        let started = got
            .iter()
            .find(|r| r.json()["name"] == "run-started")
            .unwrap()
            .json();
        assert_eq!(started["payload"]["title"], format!("ends {outcome}"));
    }
}

#[test]
fn forward_event_payload_off_sends_a_bare_get_and_filters_pick_events() {
    let receiver = Receiver::start(Answer::Ok);
    let channel = http(&format!("{}/hook", receiver.url()), |c| {
        c.forward_event_payload = false;
        c.events = Some(vec!["run-started".into(), "run-failed".into()]);
    });
    let r = run(
        &experiment(Outcome::ActivityFailed),
        vec![channel],
        Duration::from_secs(5),
    );
    assert_eq!(r.deliveries.len(), 2);
    let got = by_seq(receiver.wait_for(2, Duration::from_secs(5)));
    assert_eq!(got.len(), 2);
    for (req, name) in got.iter().zip(["run-started", "run-failed"]) {
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/hook");
        assert_eq!(req.body, "");
        assert_eq!(req.headers["x-chaos-event"], name);
    }
}

#[test]
fn failing_refusing_and_silent_receivers_change_neither_verdict_nor_journal() {
    let exp = experiment(Outcome::Deviated);
    let quiet = run(&exp, vec![], Duration::from_secs(1));
    let failing = Receiver::start(Answer::Status(500));
    let silent = Receiver::start(Answer::Never);
    let flush = Duration::from_millis(1500);
    let started = Instant::now();
    let noisy = run(
        &exp,
        vec![
            http(&failing.url(), |c| c.name = "failing".into()),
            http(&refusing_url(), |c| c.name = "refusing".into()),
            http(&silent.url(), |c| {
                c.name = "silent".into();
                c.policy.retries = 0;
                c.policy.timeout = Duration::from_secs(30);
            }),
        ],
        flush,
    );
    let total = started.elapsed();
    assert_eq!(noisy.report.outcome, quiet.report.outcome);
    assert_eq!(noisy.report.findings.len(), quiet.report.findings.len());
    assert_eq!(noisy.journal.outcome, quiet.journal.outcome);
    assert_eq!(noisy.journal.run.len(), quiet.journal.run.len());
    assert_eq!(noisy.journal.run[0].output, quiet.journal.run[0].output);
    assert!(
        noisy.run_time < Duration::from_millis(500),
        "the run was delayed: {:?}",
        noisy.run_time
    );
    assert!(
        total < flush + Duration::from_secs(1),
        "the flush is bounded: {total:?}"
    );
    let by = |channel: &str| -> Vec<&DeliveryRecord> {
        noisy
            .deliveries
            .iter()
            .filter(|d| d.channel == channel)
            .collect()
    };
    for d in by("failing") {
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert_eq!(d.attempts, 2, "one retry");
        assert!(
            d.error.as_deref().unwrap().contains("answered 500"),
            "{:?}",
            d.error
        );
    }
    for d in by("refusing") {
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert!(
            d.error
                .as_deref()
                .unwrap()
                .to_lowercase()
                .contains("connect"),
            "{:?}",
            d.error
        );
    }
    for d in by("silent") {
        assert_eq!(d.status, DeliveryStatus::GaveUp);
        assert!(
            d.error.as_deref().unwrap().contains("flush timeout"),
            "{:?}",
            d.error
        );
    }
}

#[test]
fn slack_messages_read_at_a_glance() {
    let slack = Receiver::start(Answer::Ok);
    let channel = BoxedChannel::new(
        SlackChannel::new(
            "slack",
            format!("{}/services/T0/B0/x", slack.url()),
            None,
            DeliveryPolicy::default(),
        )
        .unwrap(),
    );
    let r = run(
        &experiment(Outcome::Deviated),
        vec![channel],
        Duration::from_secs(5),
    );
    assert_eq!(r.deliveries.len(), 1, "only the final event by default");
    let got = slack.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].path, "/services/T0/B0/x");
    let msg = got[0].json();
    let text = msg["text"].as_str().unwrap();
    assert!(
        text.contains("*ends deviated*") && text.contains("`deviated`"),
        "{text}"
    );
    let block = msg["blocks"][0]["text"]["text"].as_str().unwrap();
    for part in [
        "probe \"latency\"",
        "value `900`",
        "tolerance `< 500`",
        "journal: `/tmp/j.json`",
        "experiment `notify::deviated`",
    ] {
        assert!(block.contains(part), "{part} missing in {block}");
    }
    assert_eq!(msg["blocks"][0]["text"]["type"], "mrkdwn");
}

struct Collect(Mutex<Vec<(String, u64)>>);
impl Channel for Collect {
    fn name(&self) -> &str {
        "collect"
    }
    fn accepts(&self, event: &str) -> bool {
        event.starts_with("run-")
    }
    async fn deliver(&self, n: &Notification) -> Result<(), chaos_harness::BoxError> {
        self.0.lock().unwrap().push((n.name.to_owned(), n.seq));
        Ok(())
    }
}

#[test]
fn custom_channels_receive_what_they_accept() {
    let collect = Arc::new(Collect(Mutex::new(Vec::new())));
    let r = run(
        &experiment(Outcome::Passed),
        vec![BoxedChannel::new(collect.clone())],
        Duration::from_secs(5),
    );
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Delivered));
    let mut got = collect.0.lock().unwrap().clone();
    got.sort_by_key(|(_, seq)| *seq);
    let names: Vec<_> = got.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["run-started", "run-completed"]);
    assert!(
        r.journal
            .notifications
            .iter()
            .all(|d| d.channel == "collect" && d.status == DeliveryStatus::Delivered),
        "the deliveries are a typed field of the journal: {:?}",
        r.journal.notifications
    );
}

#[test]
fn a_closure_is_a_channel() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let channel = channel_fn("closure", move |n: Notification| {
        let keep = keep.clone();
        async move {
            keep.lock().unwrap().push(n.name.to_owned());
            if n.name == "run-completed" {
                Err("the receiver said no".into())
            } else {
                Ok(())
            }
        }
    })
    .events(["run-started", "run-completed"])
    .policy(DeliveryPolicy {
        timeout: Duration::from_secs(1),
        retries: 0,
        backoff: Duration::ZERO,
    });
    let r = run(
        &experiment(Outcome::Passed),
        vec![BoxedChannel::new(channel)],
        Duration::from_secs(5),
    );
    let mut got = seen.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, ["run-completed", "run-started"]);
    let failed: Vec<_> = r
        .deliveries
        .iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .map(|d| (d.event, d.error.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(failed, [("run-completed", "the receiver said no")]);
    assert_eq!(
        r.report.outcome,
        Outcome::Passed,
        "a failing channel changes no verdict"
    );
}

#[test]
fn the_other_outcomes_end_with_run_failed_and_their_error() {
    use chaos_harness::interrupt::Interrupt;
    use chaos_harness::Activity;
    let cases: Vec<(Outcome, Experiment)> = vec![
        (
            Outcome::RollbackFailed,
            Experiment::builder("notify::rollback_failed")
                .method(Action::new("a", |_| async { Ok(()) }))
                .rollback(Action::new("restore", |_| async {
                    Err::<(), _>("restore refused".into())
                }))
                .build()
                .unwrap(),
        ),
        (
            Outcome::Aborted,
            Experiment::builder("notify::aborted")
                .timeout(Duration::from_millis(50))
                .method(Action::new("a", |_| async { Ok(()) }))
                .method(Activity::pause(Duration::from_secs(5)))
                .build()
                .unwrap(),
        ),
        (
            Outcome::Interrupted,
            Experiment::builder("notify::interrupted")
                .method(Action::new("a", |_| async { Ok(()) }))
                .method(Activity::pause(Duration::from_secs(5)))
                .build()
                .unwrap(),
        ),
        (
            Outcome::Error,
            Experiment::builder("notify::error")
                .method(Action::new("needs", |cx| async move {
                    Ok(cx.var("NOTIFY_SURELY_UNSET")?)
                }))
                .build()
                .unwrap(),
        ),
    ];
    for (outcome, exp) in cases {
        let receiver = Receiver::start(Answer::Ok);
        let notifier = Notifier::global().unwrap();
        let rec = JournalRecorder::new(exp.name());
        let sink = NotificationSink::new(&rec, notifier, vec![http(&receiver.url(), |_| {})], None);
        let deliveries = sink.deliveries();
        let (trigger, interrupt) = Interrupt::manual();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(async {
            let run = Runner::new()
                .sink(rec.clone())
                .sink(sink)
                .interrupt(interrupt)
                .run(&exp, Context::builder().build());
            let raise = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                trigger.raise();
                std::future::pending::<()>().await
            };
            if outcome == Outcome::Interrupted {
                tokio::select! { r = run => r, _ = raise => unreachable!() }
            } else {
                run.await
            }
        });
        assert_eq!(report.outcome, outcome);
        let records = deliveries.flush(Duration::from_secs(5));
        let got = by_seq(receiver.wait_for(records.len(), Duration::from_secs(5)));
        let last = got.last().unwrap().json();
        assert_eq!(last["name"], "run-failed", "{outcome}");
        assert_eq!(last["payload"]["outcome"], outcome.as_str());
        assert!(
            last["error"]
                .as_str()
                .unwrap()
                .starts_with(outcome.as_str()),
            "{last}"
        );
    }

    // A run that cannot start: validate-failed carries the error, then run-failed.
    let receiver = Receiver::start(Answer::Ok);
    let rec = JournalRecorder::new("notify::unbuilt");
    let sink = NotificationSink::new(
        &rec,
        Notifier::global().unwrap(),
        vec![http(&receiver.url(), |_| {})],
        None,
    );
    let deliveries = sink.deliveries();
    let report = Runner::new().sink(rec.clone()).sink(sink).fail(
        "notify::unbuilt",
        1,
        "chaos.toml:3: secrets.token: environment variable TOKEN is not set".into(),
    );
    assert_eq!(report.outcome, Outcome::Error);
    let n = deliveries.flush(Duration::from_secs(5)).len();
    let got = by_seq(receiver.wait_for(n, Duration::from_secs(5)));
    assert_eq!(
        names(&got),
        ["validate-started", "validate-failed", "run-failed"]
    );
    assert_eq!(got[1].json()["phase"], "validate");
    assert!(got[1].json()["error"]
        .as_str()
        .unwrap()
        .contains("chaos.toml:3"));
}
