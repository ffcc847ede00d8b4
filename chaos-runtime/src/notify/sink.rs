//! [`NotificationSink`]: the event sink that turns a run's events into notifications.

use super::{BoxedChannel, Deliveries, Job, Notification, Notifier};
use crate::event::{Event, EventKind, EventSink, RunReport};
use crate::journal::JournalRecorder;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

/// The [`EventSink`] that notifies channels of one run's events.
///
/// The payloads that carry the journal (`validate-completed`, `validate-failed` and the final
/// events) are read from the run's [`JournalRecorder`]: add that recorder to the same runner
/// before this sink (sinks see each event in the order they were added), so that it has
/// recorded an event by the time this sink reads it.
///
/// ```
/// use chaos_runtime::journal::JournalRecorder;
/// use chaos_runtime::notify::{channel_fn, BoxedChannel, NotificationSink, Notifier};
/// use chaos_runtime::{run::Runner, Action, Context, Experiment};
/// use std::time::Duration;
///
/// let exp = Experiment::builder("doc::notify")
///     .method(Action::new("a", |_| async { Ok(()) }))
///     .build()?;
/// let recorder = JournalRecorder::new("doc::notify");
/// let channel = BoxedChannel::new(channel_fn("quiet", |_n| async { Ok(()) }));
/// let sink = NotificationSink::new(&recorder, Notifier::start(16, 4)?, vec![channel], None);
/// let deliveries = sink.deliveries();
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(Runner::new().sink(recorder.clone()).sink(sink).run(&exp, Context::builder().build()));
/// deliveries.flush(Duration::from_secs(5));
/// assert!(recorder.journal().notifications.iter().any(|d| d.event == "run-completed"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NotificationSink {
    notifier: Notifier,
    channels: Vec<BoxedChannel>,
    deliveries: Deliveries,
    journal: JournalRecorder,
    journal_path: Option<PathBuf>,
    seq: u64,
    experiment: String,
}

impl NotificationSink {
    /// A sink for the run `journal` records, notifying `channels` through `notifier`;
    /// `journal_path` is where the journal will be written, for the final events. Keep
    /// [`NotificationSink::deliveries`] to flush at the end of the run.
    pub fn new(
        journal: &JournalRecorder,
        notifier: Notifier,
        channels: Vec<BoxedChannel>,
        journal_path: Option<PathBuf>,
    ) -> Self {
        NotificationSink {
            notifier,
            channels,
            deliveries: Deliveries::new(journal.clone()),
            experiment: journal.with(|j| j.name.clone()),
            journal: journal.clone(),
            journal_path,
            seq: 0,
        }
    }

    /// The run's deliveries.
    pub fn deliveries(&self) -> Deliveries {
        self.deliveries.clone()
    }

    fn payload(&self, event: &Event) -> (Value, Option<String>, Option<Arc<RunReport>>) {
        match &event.kind {
            EventKind::ValidateStarted { description, .. }
            | EventKind::RunStarted { description, .. } => ((**description).clone(), None, None),
            EventKind::ValidateCompleted => {
                (self.journal.with(|j| j.experiment.clone()), None, None)
            }
            EventKind::ValidateFailed { error } => (
                self.journal.with(|j| j.experiment.clone()),
                Some(error.clone()),
                None,
            ),
            EventKind::HypothesisStarted { phase } => (json!({ "phase": phase }), None, None),
            EventKind::HypothesisCompleted { phase, met } => (
                json!({ "phase": phase, "steady_state_met": met }),
                None,
                None,
            ),
            EventKind::ActivityStarted { phase, name, kind } => (
                json!({ "phase": phase, "name": name, "type": kind }),
                None,
                None,
            ),
            EventKind::ActivityCompleted { phase, record } => {
                let mut v = serde_json::to_value(&**record).unwrap_or(Value::Null);
                v["phase"] = json!(phase);
                (v, None, None)
            }
            EventKind::MethodStarted
            | EventKind::MethodCompleted
            | EventKind::RollbacksStarted
            | EventKind::RollbacksCompleted => (Value::Null, None, None),
            EventKind::RunCompleted { report } => {
                let error = report.error.clone().or_else(|| {
                    (report.outcome != crate::Outcome::Passed).then(|| {
                        let first = report.findings.first().map(|f| {
                            format!(
                                "{}: {}{}",
                                f.phase.describe(),
                                f.activity,
                                f.failure
                                    .as_ref()
                                    .map(|e| format!(": {e}"))
                                    .unwrap_or_default()
                            )
                        });
                        match first {
                            Some(f) => format!("{}: {f}", report.outcome),
                            None => report.outcome.to_string(),
                        }
                    })
                });
                let mut journal = self.journal.with(|j| j.to_value());
                if let Some(p) = &self.journal_path {
                    journal["journal_path"] = json!(p.display().to_string());
                }
                (journal, error, Some(report.clone()))
            }
        }
    }
}

impl EventSink for NotificationSink {
    fn on_event(&mut self, event: &Event) {
        let name = event.name();
        let wanted: Vec<BoxedChannel> = self
            .channels
            .iter()
            .filter(|c| c.accepts(name))
            .cloned()
            .collect();
        self.seq += 1;
        if wanted.is_empty() {
            return;
        }
        let (mut payload, error, report) = self.payload(event);
        crate::redact::redact_json(&mut payload);
        let notification = Arc::new(Notification {
            name,
            phase: event.flow(),
            ts: event
                .at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64(),
            payload,
            error: error.map(|e| crate::redact::redact(&e).into_owned()),
            seq: self.seq,
            experiment: self.experiment.clone(),
            report,
            journal_path: self.journal_path.clone(),
        });
        for channel in wanted {
            let slot = self.deliveries.begin(channel.name(), &notification);
            self.notifier.submit(Job {
                channel,
                notification: notification.clone(),
                deliveries: self.deliveries.clone(),
                slot,
                queued: Instant::now(),
            });
        }
    }
}
