//! The console sink: progress lines on stderr (with `--nocapture` or `CHAOS_PROGRESS=1`) and
//! `tracing` events always.

use chaos_runtime::event::{ActivityStatus, Event, EventKind, EventSink};
use chaos_runtime::redact::redact;

pub(crate) struct Console {
    experiment: String,
    verbose: bool,
}

impl Console {
    pub(crate) fn new(experiment: &str, verbose: bool) -> Self {
        Console {
            experiment: experiment.to_owned(),
            verbose,
        }
    }
}

impl Console {
    /// The progress line for `event`, redacted: the activity's name and the rest as they are,
    /// with every registered secret (raw or escaped) masked.
    fn line(&self, event: &Event) -> String {
        let line = match &event.kind {
            EventKind::ActivityCompleted { phase, record } => {
                let status = match record.status {
                    ActivityStatus::Succeeded => match record.tolerance_met {
                        Some(false) => "missed its tolerance",
                        _ => "succeeded",
                    },
                    ActivityStatus::Failed => "failed",
                };
                format!(
                    "{:?} \"{}\" {status} in {} ({})",
                    record.kind,
                    record.name,
                    chaos_runtime::time::human(record.elapsed),
                    phase.describe()
                )
            }
            EventKind::RunCompleted { report } => format!(
                "ended `{}` in {}",
                report.outcome,
                chaos_runtime::time::human(report.duration)
            ),
            _ => event.name().to_owned(),
        };
        redact(&line).into_owned()
    }
}

impl EventSink for Console {
    fn on_event(&mut self, event: &Event) {
        let line = self.line(event);
        let experiment = redact(&self.experiment);
        tracing::debug!(experiment = %experiment, event = event.name(), "{line}");
        if self.verbose {
            eprintln!("[chaos] {experiment}: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::awkward;
    use chaos_runtime::event::{ActivityRecord, Phase};
    use chaos_runtime::ActivityKind;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime};

    /// A log writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn completed(name: String) -> Event {
        Event {
            at: SystemTime::now(),
            kind: EventKind::ActivityCompleted {
                phase: Phase::Method,
                record: Arc::new(ActivityRecord {
                    activity: serde_json::Value::Null,
                    output: serde_json::Value::Null,
                    status: ActivityStatus::Succeeded,
                    start: String::new(),
                    end: String::new(),
                    duration: 0.0,
                    exception: None,
                    tolerance_met: None,
                    name,
                    kind: ActivityKind::Probe,
                    tolerance: None,
                    failure: None,
                    elapsed: Duration::ZERO,
                }),
            },
        }
    }

    #[test]
    fn console_log_lines_mask_escaped_secrets() {
        for s in awkward("log") {
            let buffer = Buffer::default();
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                let mut console = Console::new(&format!("t::{s:?}"), false);
                console.on_event(&completed(format!(
                    "fetch {}",
                    serde_json::json!({ "token": s })
                )));
            });
            let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
            assert!(log.contains("fetch"), "{log}");
            assert!(
                !log.contains("Zq") && !log.contains("Xw"),
                "the log leaks a secret: {log}"
            );
        }
    }

    #[test]
    fn a_redacting_log_writer_masks_debug_and_json_fields() {
        for s in awkward("fld") {
            let buffer = Buffer::default();
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || chaos_runtime::redact::RedactingWriter::new(writer.clone()))
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn!(
                    token = ?s,
                    raw = %s,
                    "answer {} and {s:?}",
                    serde_json::json!({ "pw": s })
                );
            });
            let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
            assert!(log.contains("answer"), "{log}");
            assert!(
                !log.contains("Zq") && !log.contains("Xw"),
                "the log leaks a secret: {log}"
            );
        }
    }

    #[test]
    fn progress_lines_are_redacted() {
        for s in awkward("prg") {
            let console = Console::new("t::progress", true);
            let line = console.line(&completed(format!("check {s:?}")));
            assert_eq!(line, "Probe \"check \"***\"\" succeeded in 0ms (method)");
        }
    }
}
