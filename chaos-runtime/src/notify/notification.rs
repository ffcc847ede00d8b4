//! [`Notification`]: one event as channels receive it.

use crate::event::RunReport;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

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
