//! Notifications: events delivered to channels (HTTP endpoints, Slack incoming webhooks, your
//! own [`Channel`]s), concurrently and in the background, so that a slow or broken receiver
//! never delays an experiment nor changes its verdict.
//!
//! - A [`NotificationSink`] is an [`EventSink`] for one run: for each event some channel wants,
//!   it builds the body Chaos Toolkit's receivers expect (`{name, payload, phase, ts, error?}`,
//!   redacted), queues one delivery per channel and returns at once.
//! - The [`Notifier`] delivers on its own thread and runtime: up to a bounded number of
//!   deliveries in flight, each with the channel's timeout, retries and backoff.
//! - [`Deliveries::flush`] waits, bounded, for a run's deliveries at its end; what was
//!   delivered, what failed (with the error) and what was still pending go to the journal.

use crate::error::BoxError;
use crate::event::{Event, EventKind, EventSink, RunReport};
use crate::journal::JournalRecorder;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};

/// One event as channels receive it.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The event's name (`run-started`, `activity-completed`, ...).
    pub name: &'static str,
    /// Chaos Toolkit's flow phase: `run` or `validate`.
    pub phase: &'static str,
    /// When the event happened, in seconds since the Unix epoch (Chaos Toolkit's `ts`).
    pub ts: f64,
    /// The event's payload (the experiment, the journal, an activity record...), redacted.
    pub payload: Value,
    /// The error, for `validate-failed` and `run-failed`, redacted.
    pub error: Option<String>,
    /// The event's position in its run (1, 2, ...): deliveries are concurrent, so receivers
    /// may get events out of order; HTTP channels send it as the `x-chaos-event-seq` header.
    pub seq: u64,
    /// The experiment's name.
    pub experiment: String,
    /// For the final events: the run's report.
    pub report: Option<Arc<RunReport>>,
    /// The journal's path, when the harness writes one.
    pub journal_path: Option<PathBuf>,
}

impl Notification {
    /// The body Chaos Toolkit's receivers expect: `{name, payload, phase, ts, error?}`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "name": self.name,
            "payload": self.payload,
            "phase": self.phase,
            "ts": self.ts,
        });
        if let Some(e) = &self.error {
            body["error"] = json!(e);
        }
        body
    }
}

/// Timeout, retries and backoff of one channel's deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Time allowed for one attempt.
    pub timeout: Duration,
    /// Attempts after the first one failed.
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one.
    pub backoff: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            timeout: Duration::from_secs(3),
            retries: 2,
            backoff: Duration::from_millis(200),
        }
    }
}

/// A notification channel: where events go. Implement it to add your own (the analogue of
/// Chaos Toolkit's plugin channels) and register it in `chaos_harness::main!(setup = ...)`.
///
/// ```
/// use chaos_runtime::notify::{Channel, Notification};
/// use futures_util::future::BoxFuture;
/// struct Stderr;
/// impl Channel for Stderr {
///     fn name(&self) -> &str { "stderr" }
///     fn accepts(&self, event: &str) -> bool { event.starts_with("run-") }
///     fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), chaos_runtime::BoxError>> {
///         Box::pin(async move {
///             eprintln!("{} {}", n.name, n.experiment);
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait Channel: Send + Sync + 'static {
    /// The channel's name, used in the journal and logs.
    fn name(&self) -> &str;
    /// Whether the channel wants events named `event` (default: all).
    fn accepts(&self, event: &str) -> bool {
        let _ = event;
        true
    }
    /// Timeout, retries and backoff (default: 3 s, 2 retries, 200 ms doubling).
    fn policy(&self) -> DeliveryPolicy {
        DeliveryPolicy::default()
    }
    /// Delivers one notification; an error is retried per [`Channel::policy`].
    fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>>;
}

/// How one delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// Not finished yet.
    Pending,
    /// Delivered.
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Still pending when the harness stopped waiting.
    GaveUp,
    /// Not queued: the notifier's queue was full.
    Dropped,
}

/// One delivery, as recorded in the journal's `notifications`.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryRecord {
    /// The channel.
    pub channel: String,
    /// The event's name.
    pub event: &'static str,
    /// The event's position in its run.
    pub seq: u64,
    /// How it ended.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Time from queueing to the end of the last attempt, in milliseconds.
    pub elapsed_ms: f64,
}

#[derive(Default)]
struct DeliveryState {
    records: Vec<DeliveryRecord>,
    pending: usize,
}

/// The deliveries of one run: recorded as they end, waited for at the end of the run.
#[derive(Clone, Default)]
pub struct Deliveries {
    inner: Arc<(Mutex<DeliveryState>, Condvar)>,
}

impl Deliveries {
    fn begin(&self, channel: &str, n: &Notification) -> usize {
        let mut st = self.lock();
        st.pending += 1;
        st.records.push(DeliveryRecord {
            channel: channel.to_owned(),
            event: n.name,
            seq: n.seq,
            status: DeliveryStatus::Pending,
            attempts: 0,
            error: None,
            elapsed_ms: 0.0,
        });
        st.records.len() - 1
    }

    fn end(
        &self,
        slot: usize,
        status: DeliveryStatus,
        attempts: u32,
        error: Option<String>,
        elapsed: Duration,
    ) {
        let mut st = self.lock();
        if let Some(r) = st.records.get_mut(slot) {
            if r.status == DeliveryStatus::Pending || r.status == DeliveryStatus::GaveUp {
                r.status = status;
                r.attempts = attempts;
                r.error = error.map(|e| crate::redact::redact(&e).into_owned());
                r.elapsed_ms = elapsed.as_secs_f64() * 1000.0;
            }
        }
        st.pending = st.pending.saturating_sub(1);
        drop(st);
        self.inner.1.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DeliveryState> {
        self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until every delivery ended or `timeout` passed; deliveries still pending are
    /// marked [`DeliveryStatus::GaveUp`] (they may still complete in the background). Logs the
    /// failures. Returns every record, in the order the deliveries were queued.
    pub fn flush(&self, timeout: Duration) -> Vec<DeliveryRecord> {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        while st.pending > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .inner
                .1
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        for r in st.records.iter_mut() {
            if r.status == DeliveryStatus::Pending {
                r.status = DeliveryStatus::GaveUp;
                r.error = Some(format!(
                    "not delivered within the flush timeout ({})",
                    crate::time::human(timeout)
                ));
            }
            match r.status {
                DeliveryStatus::Delivered | DeliveryStatus::Pending => {}
                _ => tracing::warn!(
                    channel = %r.channel,
                    event = r.event,
                    "notification {:?}: {}",
                    r.status,
                    r.error.as_deref().unwrap_or("")
                ),
            }
        }
        st.records.clone()
    }

    /// The records so far.
    pub fn records(&self) -> Vec<DeliveryRecord> {
        self.lock().records.clone()
    }
}

struct Job {
    channel: Arc<dyn Channel>,
    notification: Arc<Notification>,
    deliveries: Deliveries,
    slot: usize,
    queued: Instant,
}

/// Delivers notifications in the background, on its own thread and runtime, at most
/// `max_in_flight` at once per channel (so a receiver that never answers holds up only its own
/// channel). Cheap to clone; one per process is enough.
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Job>,
}

/// The in-flight bound of each channel, keyed by the channel's address.
type Bounds = std::collections::HashMap<usize, Arc<Semaphore>>;

impl Notifier {
    /// Starts a notifier with a queue of `queue` deliveries and at most `max_in_flight`
    /// running at once for each channel.
    pub fn start(queue: usize, max_in_flight: usize) -> std::io::Result<Notifier> {
        let (tx, mut rx) = mpsc::channel::<Job>(queue.max(1));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let max_in_flight = max_in_flight.max(1);
        std::thread::Builder::new()
            .name("chaos-notifier".into())
            .spawn(move || {
                rt.block_on(async move {
                    let mut bounds = Bounds::new();
                    while let Some(job) = rx.recv().await {
                        let key = Arc::as_ptr(&job.channel) as *const () as usize;
                        let permits = bounds
                            .entry(key)
                            .or_insert_with(|| Arc::new(Semaphore::new(max_in_flight)))
                            .clone();
                        tokio::spawn(async move {
                            let Ok(_permit) = permits.acquire_owned().await else {
                                return;
                            };
                            deliver(job).await;
                        });
                    }
                })
            })?;
        Ok(Notifier { tx })
    }

    /// The process's notifier (1,024 queued, 32 in flight per channel), started on first use.
    pub fn global() -> Option<Notifier> {
        static GLOBAL: std::sync::OnceLock<Option<Notifier>> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| match Notifier::start(1024, 32) {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::warn!("notifications are off: could not start the notifier: {e}");
                    None
                }
            })
            .clone()
    }

    fn submit(&self, job: Job) {
        let (deliveries, slot) = (job.deliveries.clone(), job.slot);
        if let Err(e) = self.tx.try_send(job) {
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the notification queue is full",
                mpsc::error::TrySendError::Closed(_) => "the notifier stopped",
            };
            deliveries.end(
                slot,
                DeliveryStatus::Dropped,
                0,
                Some(why.into()),
                Duration::ZERO,
            );
        }
    }
}

async fn deliver(job: Job) {
    let policy = job.channel.policy();
    let mut attempts = 0;
    let mut backoff = policy.backoff;
    let mut last_error;
    loop {
        attempts += 1;
        let attempt = tokio::time::timeout(policy.timeout, job.channel.deliver(&job.notification));
        match attempt.await {
            Ok(Ok(())) => {
                job.deliveries.end(
                    job.slot,
                    DeliveryStatus::Delivered,
                    attempts,
                    None,
                    job.queued.elapsed(),
                );
                return;
            }
            Ok(Err(e)) => last_error = Some(crate::error::error_chain(e.as_ref())),
            Err(_) => {
                last_error = Some(format!(
                    "no answer within {}",
                    crate::time::human(policy.timeout)
                ))
            }
        }
        if attempts > policy.retries {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    }
    job.deliveries.end(
        job.slot,
        DeliveryStatus::Failed,
        attempts,
        last_error,
        job.queued.elapsed(),
    );
}

/// The [`EventSink`] that notifies channels of one run's events.
pub struct NotificationSink {
    notifier: Notifier,
    channels: Vec<Arc<dyn Channel>>,
    deliveries: Deliveries,
    journal: JournalRecorder,
    journal_path: Option<PathBuf>,
    seq: u64,
    experiment: String,
}

impl NotificationSink {
    /// A sink for experiment `experiment` that notifies `channels` through `notifier`. Keep
    /// [`NotificationSink::deliveries`] to flush at the end of the run.
    pub fn new(
        experiment: &str,
        notifier: Notifier,
        channels: Vec<Arc<dyn Channel>>,
        journal_path: Option<PathBuf>,
    ) -> Self {
        NotificationSink {
            notifier,
            channels,
            deliveries: Deliveries::default(),
            journal: JournalRecorder::new(experiment),
            journal_path,
            seq: 0,
            experiment: experiment.to_owned(),
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
            EventKind::ValidateCompleted => (self.journal.journal().experiment, None, None),
            EventKind::ValidateFailed { error } => {
                (self.journal.journal().experiment, Some(error.clone()), None)
            }
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
                let mut journal = self.journal.journal().to_value();
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
        self.journal.clone().on_event(event);
        let name = event.name();
        let wanted: Vec<Arc<dyn Channel>> = self
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

/// An HTTP channel: POSTs the event as JSON (or sends a bare GET when
/// `forward_event_payload` is off), with headers, TLS verification, timeout and retries.
pub struct HttpChannel {
    name: String,
    url: String,
    headers: Vec<(String, String)>,
    forward_event_payload: bool,
    events: Option<Vec<String>>,
    policy: DeliveryPolicy,
    client: reqwest::Client,
}

/// A channel could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("notification channel `{channel}`: {message}")]
pub struct ChannelError {
    /// The channel's name.
    pub channel: String,
    /// What went wrong.
    pub message: String,
}

/// The settings of an [`HttpChannel`].
#[derive(Clone, Debug)]
pub struct HttpChannelConfig {
    /// The channel's name.
    pub name: String,
    /// Where to send events.
    pub url: String,
    /// Headers to send (their values are the channel's own: they are sent as configured).
    pub headers: Vec<(String, String)>,
    /// Verify the receiver's TLS certificate (default true).
    pub verify_tls: bool,
    /// POST the event as JSON (true, the default) or send a bare GET (false).
    pub forward_event_payload: bool,
    /// Events to send (`None`: all).
    pub events: Option<Vec<String>>,
    /// Timeout, retries and backoff.
    pub policy: DeliveryPolicy,
}

impl HttpChannel {
    /// Builds the channel.
    pub fn new(config: HttpChannelConfig) -> Result<HttpChannel, ChannelError> {
        let client = channel_client(&config.name, &config.url, config.verify_tls)?;
        Ok(HttpChannel {
            name: config.name,
            url: config.url,
            headers: config.headers,
            forward_event_payload: config.forward_event_payload,
            events: config.events,
            policy: config.policy,
            client,
        })
    }
}

/// The HTTP client of a channel: without root certificates for plain `http://` receivers (no
/// certificate store to load), accepting any certificate when `verify_tls` is off.
fn channel_client(
    channel: &str,
    url: &str,
    verify_tls: bool,
) -> Result<reqwest::Client, ChannelError> {
    crate::tls::install_provider();
    let mut builder =
        reqwest::Client::builder().user_agent(concat!("chaos-harness/", env!("CARGO_PKG_VERSION")));
    if !verify_tls {
        builder = builder.tls_danger_accept_invalid_certs(true);
    } else if !url.to_ascii_lowercase().starts_with("https://") {
        builder = builder.tls_certs_only(Vec::new());
    }
    builder.build().map_err(|e| ChannelError {
        channel: channel.to_owned(),
        message: crate::error::error_chain(&e),
    })
}

fn accepts(filter: &Option<Vec<String>>, event: &str) -> bool {
    filter.as_ref().is_none_or(|f| f.iter().any(|e| e == event))
}

impl Channel for HttpChannel {
    fn name(&self) -> &str {
        &self.name
    }
    fn accepts(&self, event: &str) -> bool {
        accepts(&self.events, event)
    }
    fn policy(&self) -> DeliveryPolicy {
        self.policy
    }
    fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let mut req = if self.forward_event_payload {
                self.client
                    .post(&self.url)
                    .header("content-type", "application/json")
                    .body(n.body().to_string())
            } else {
                self.client.get(&self.url)
            };
            for (k, v) in &self.headers {
                req = req.header(k, v);
            }
            req = req
                .header("x-chaos-event", n.name)
                .header("x-chaos-event-seq", n.seq.to_string());
            let resp = req.send().await?;
            let status = resp.status();
            if status.as_u16() > 399 {
                let text = answer_text(&resp.text().await.unwrap_or_default());
                return Err(format!("{} answered {status}: {text}", self.url).into());
            }
            Ok(())
        })
    }
}

/// The longest part of a receiver's answer a delivery error quotes, in characters.
const ANSWER_CHARS: usize = 200;

/// A receiver's answer as a delivery error quotes it: redacted, then cut to [`ANSWER_CHARS`]
/// (a receiver may echo what it was sent; redacting first masks a secret across the cut whole).
fn answer_text(text: &str) -> String {
    crate::redact::redact_truncated(text, ANSWER_CHARS)
}

/// A Slack channel: posts a message a person reads at a glance to an incoming webhook, for the
/// run's final events (by default `run-completed`, `run-deviated` and `run-failed`).
pub struct SlackChannel {
    name: String,
    webhook_url: String,
    events: Option<Vec<String>>,
    policy: DeliveryPolicy,
    client: reqwest::Client,
}

impl SlackChannel {
    /// A Slack channel posting to `webhook_url`.
    pub fn new(
        name: impl Into<String>,
        webhook_url: impl Into<String>,
        events: Option<Vec<String>>,
        policy: DeliveryPolicy,
    ) -> Result<SlackChannel, ChannelError> {
        let name = name.into();
        let webhook_url = webhook_url.into();
        let client = channel_client(&name, &webhook_url, true)?;
        Ok(SlackChannel {
            name,
            webhook_url,
            events,
            policy,
            client,
        })
    }
}

/// The Slack message for a notification: a headline with the outcome, then what went wrong.
pub fn slack_message(n: &Notification) -> Value {
    let title = n.payload["experiment"]["title"]
        .as_str()
        .unwrap_or(&n.experiment)
        .to_owned();
    let Some(report) = &n.report else {
        let text = format!("`{}` {}", n.experiment, n.name);
        return json!({ "text": text });
    };
    let icon = match report.outcome {
        crate::Outcome::Passed => ":white_check_mark:",
        crate::Outcome::Deviated => ":warning:",
        _ => ":x:",
    };
    let headline = format!(
        "{icon} *{title}* ended `{}` in {}",
        report.outcome,
        crate::time::human(report.duration)
    );
    let mut lines = vec![headline.clone(), format!("experiment `{}`", n.experiment)];
    if let Some(by) = &report.stopped_by {
        lines.push(format!("stopped by: {by}"));
    }
    if let Some(e) = &report.error {
        lines.push(format!("cause: {e}"));
    }
    for f in &report.findings {
        let mut l = format!("• {} in {}", f.activity, f.phase.describe());
        if let Some(v) = &f.value {
            l.push_str(&format!(": value `{}`", crate::redact::json_text(v)));
        }
        if let Some(t) = &f.tolerance {
            l.push_str(&format!(", tolerance `{t}`"));
        }
        if let Some(e) = &f.failure {
            l.push_str(&format!(": {e}"));
        }
        lines.push(l);
    }
    if let Some(p) = &n.journal_path {
        lines.push(format!("journal: `{}`", p.display()));
    }
    lines.push(format!("seed: `{}`", report.seed));
    let text = crate::redact::redact(&lines.join("\n")).into_owned();
    json!({
        "text": crate::redact::redact(&headline),
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
    })
}

impl Channel for SlackChannel {
    fn name(&self) -> &str {
        &self.name
    }
    fn accepts(&self, event: &str) -> bool {
        match &self.events {
            Some(_) => accepts(&self.events, event),
            None => matches!(event, "run-completed" | "run-deviated" | "run-failed"),
        }
    }
    fn policy(&self) -> DeliveryPolicy {
        self.policy
    }
    fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let resp = self
                .client
                .post(&self.webhook_url)
                .header("content-type", "application/json")
                .body(slack_message(n).to_string())
                .send()
                .await
                .map_err(|e| crate::redact::redact(&crate::error::error_chain(&e)).into_owned())?;
            let status = resp.status();
            if !status.is_success() {
                let text = answer_text(&resp.text().await.unwrap_or_default());
                return Err(format!("Slack answered {status}: {text}").into());
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ActivityRecord, ActivityStatus, Finding, Phase, RollbackDecision};
    use crate::experiment::ActivityKind;
    use crate::outcome::{Outcome, Status};
    use crate::redact::testing::{assert_masked, awkward};
    use std::io::{Read, Write};
    use std::time::SystemTime;

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
        fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>> {
            let mut text = n.body().to_string();
            if let Some(e) = &n.error {
                text.push_str(e);
            }
            self.0.lock().unwrap().push(text);
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn notification_bodies_mask_escaped_secrets() {
        let notifier = Notifier::start(64, 4).unwrap();
        for s in awkward("ntf") {
            let capture = Arc::new(Capture::default());
            let mut sink =
                NotificationSink::new("t::notify", notifier.clone(), vec![capture.clone()], None);
            sink.on_event(&event(EventKind::ActivityCompleted {
                phase: Phase::Method,
                record: Arc::new(record(&s)),
            }));
            sink.on_event(&event(EventKind::RunCompleted {
                report: Arc::new(report(&s)),
            }));
            let records = sink.deliveries().flush(Duration::from_secs(10));
            assert!(records
                .iter()
                .all(|r| r.status == DeliveryStatus::Delivered));
            let bodies = capture.0.lock().unwrap().join("\n");
            assert!(bodies.contains("run-deviated"), "{bodies}");
            assert_masked(&bodies, "the notification bodies");
        }
    }

    /// An HTTP receiver that answers every request `500` with the body `body(path)`.
    fn failing_receiver(body: impl Fn(&str) -> String + Send + 'static) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    let n = conn.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(i + 4);
                    }
                };
                let Some(head_end) = head_end else { continue };
                let head = String::from_utf8_lossy(&request[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while request.len() < head_end + length {
                    let n = conn.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let text = body(&path);
                let _ = write!(
                    conn,
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn a_receiver_echoing_a_secret_never_reveals_part_of_it_at_the_200_character_cut() {
        let secrets = awkward("cut");
        let echoed = secrets.clone();
        let url = failing_receiver(move |path| {
            let mut parts = path.trim_start_matches('/').split('/');
            let i: usize = parts.next().unwrap().parse().unwrap();
            let dots: usize = parts.next().unwrap().parse().unwrap();
            format!("{}{} and the rest", ".".repeat(dots), echoed[i])
        });
        let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
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
                channels.push(Arc::new(channel));
            }
        }
        let count = channels.len();
        let mut sink = NotificationSink::new(
            "t::notify",
            Notifier::start(1024, 4).unwrap(),
            channels,
            None,
        );
        sink.on_event(&event(EventKind::ActivityStarted {
            phase: Phase::Method,
            name: "a".into(),
            kind: ActivityKind::Action,
        }));
        let records = sink.deliveries().flush(Duration::from_secs(60));
        assert_eq!(records.len(), count);
        for r in records {
            assert_eq!(r.status, DeliveryStatus::Failed, "{r:?}");
            let error = r.error.unwrap_or_default();
            assert!(error.contains("answered 500"), "{error}");
            assert_masked(&error, &format!("the delivery error of {}", r.channel));
        }
    }
}
