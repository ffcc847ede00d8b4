//! The notification module's unit tests: secrets masked in every body and delivery error.

use super::*;
use crate::event::{
    ActivityRecord, ActivityStatus, Event, EventKind, EventSink, Finding, Phase, RollbackDecision,
    RunReport,
};
use crate::journal::{DeliveryStatus, JournalRecorder};
use crate::model::ActivityKind;
use crate::outcome::{Outcome, Status};
use crate::redact::testing::{assert_masked, awkward};
use chaos_test_support::receiver::{Answer, Receiver, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

fn report(s: &str) -> RunReport {
    RunReport {
        experiment: "t::notify".into(),
        outcome: Outcome::Deviated,
        status: Status::Completed,
        deviated: true,
        seed: 3,
        findings: vec![Finding {
            phase: Phase::SteadyStateAfter,
            activity: "probe \"p\"".into(),
            value: Some(json!({ "token": s, (s.to_owned()): [s] })),
            tolerance: Some("== 200".into()),
            failure: Some(format!("error: {s:?}")),
        }],
        rollback_decision: RollbackDecision::NoneDeclared,
        rollbacks: Vec::new(),
        stopped_by: Some(format!("control: {}", json!(s))),
        error: None,
        targets: Vec::new(),
        duration: Duration::from_millis(4),
    }
}

fn record(s: &str) -> ActivityRecord {
    ActivityRecord {
        activity: json!({ "name": "p" }),
        output: json!({ "token": s }),
        status: ActivityStatus::Failed,
        start: String::new(),
        end: String::new(),
        duration: 0.0,
        exception: Some(vec![format!("error: {s:?}"), format!("body {}", json!(s))]),
        tolerance_met: None,
        name: "p".into(),
        kind: ActivityKind::Probe,
        tolerance: None,
        failure: None,
        elapsed: Duration::ZERO,
    }
}

fn event(kind: EventKind) -> Event {
    Event {
        at: SystemTime::now(),
        kind,
    }
}

/// A notification sink and the journal recorder it reads, fed as a runner feeds them.
struct Sinks {
    recorder: JournalRecorder,
    sink: NotificationSink,
}

impl Sinks {
    fn new(notifier: Notifier, channels: Vec<BoxedChannel>) -> Sinks {
        let recorder = JournalRecorder::new("t::notify");
        let sink = NotificationSink::new(&recorder, notifier, channels, None);
        Sinks { recorder, sink }
    }

    fn on_event(&mut self, event: &Event) {
        self.recorder.on_event(event);
        self.sink.on_event(event);
    }
}

#[test]
fn the_slack_message_masks_escaped_secrets() {
    for s in awkward("slk") {
        let n = Notification {
            name: "run-deviated",
            phase: "run",
            ts: 0.0,
            payload: Value::Null,
            error: None,
            seq: 1,
            experiment: "t::notify".into(),
            report: Some(Arc::new(report(&s))),
            journal_path: None,
        };
        let message = slack_message(&n);
        assert!(message.to_string().contains("value"), "{message}");
        assert_masked(&message.to_string(), "the Slack message");
        assert_masked(
            message["blocks"][0]["text"]["text"].as_str().unwrap(),
            "the Slack text",
        );
    }
}

/// A channel that keeps the bodies it was given.
#[derive(Default)]
struct Capture(Mutex<Vec<String>>);

impl Channel for Capture {
    fn name(&self) -> &str {
        "capture"
    }
    async fn deliver(&self, n: &Notification) -> Result<(), crate::BoxError> {
        let mut text = n.body().to_string();
        if let Some(e) = &n.error {
            text.push_str(e);
        }
        self.0.lock().unwrap().push(text);
        Ok(())
    }
}

#[test]
fn notification_bodies_mask_escaped_secrets() {
    let notifier = Notifier::start(64, 4).unwrap();
    for s in awkward("ntf") {
        let capture = Arc::new(Capture::default());
        let mut sink = Sinks::new(notifier.clone(), vec![BoxedChannel::new(capture.clone())]);
        sink.on_event(&event(EventKind::ActivityCompleted {
            phase: Phase::Method,
            record: Arc::new(record(&s)),
        }));
        sink.on_event(&event(EventKind::RunCompleted {
            report: Arc::new(report(&s)),
        }));
        let records = sink.sink.deliveries().flush(Duration::from_secs(10));
        assert_eq!(sink.recorder.journal().notifications.len(), records.len());
        assert!(records
            .iter()
            .all(|r| r.status == DeliveryStatus::Delivered));
        let bodies = capture.0.lock().unwrap().join("\n");
        assert!(bodies.contains("run-deviated"), "{bodies}");
        assert_masked(&bodies, "the notification bodies");
    }
}

/// An HTTP receiver that answers every request `500` with the body `body(path)`.
fn failing_receiver(body: impl Fn(&str) -> String + Send + Sync + 'static) -> Receiver {
    Receiver::start(Answer::with(move |req| {
        Response::new(500)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body(&req.path))
    }))
}

#[test]
fn a_receiver_echoing_a_secret_never_reveals_part_of_it_at_the_200_character_cut() {
    let secrets = awkward("cut");
    let echoed = secrets.clone();
    let receiver = failing_receiver(move |path| {
        let mut parts = path.trim_start_matches('/').split('/');
        let i: usize = parts.next().unwrap().parse().unwrap();
        let dots: usize = parts.next().unwrap().parse().unwrap();
        format!("{}{} and the rest", ".".repeat(dots), echoed[i])
    });
    let url = receiver.url();
    let mut channels = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        for dots in (200 - s.chars().count() - 4)..=201 {
            let channel = HttpChannel::new(HttpChannelConfig {
                name: format!("c{i}-{dots}"),
                url: format!("{url}/{i}/{dots}"),
                headers: Vec::new(),
                verify_tls: true,
                forward_event_payload: true,
                events: None,
                policy: DeliveryPolicy {
                    timeout: Duration::from_secs(10),
                    retries: 0,
                    backoff: Duration::ZERO,
                },
            })
            .unwrap();
            channels.push(BoxedChannel::new(channel));
        }
    }
    let count = channels.len();
    let mut sink = Sinks::new(Notifier::start(1024, 4).unwrap(), channels);
    sink.on_event(&event(EventKind::ActivityStarted {
        phase: Phase::Method,
        name: "a".into(),
        kind: ActivityKind::Action,
    }));
    let records = sink.sink.deliveries().flush(Duration::from_secs(60));
    assert_eq!(records.len(), count);
    for r in records {
        assert_eq!(r.status, DeliveryStatus::Failed, "{r:?}");
        let error = r.error.unwrap_or_default();
        assert!(error.contains("answered 500"), "{error}");
        assert_masked(&error, &format!("the delivery error of {}", r.channel));
    }
}
