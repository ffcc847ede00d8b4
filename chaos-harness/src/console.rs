//! The console sink: progress lines on stderr (with `--nocapture` or `CHAOS_PROGRESS=1`) and
//! `tracing` events always.

use chaos_runtime::event::{ActivityStatus, Event, EventKind, EventSink};

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

impl EventSink for Console {
    fn on_event(&mut self, event: &Event) {
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
        let line = chaos_runtime::redact::redact(&line);
        tracing::debug!(experiment = %self.experiment, event = event.name(), "{line}");
        if self.verbose {
            eprintln!("[chaos] {}: {line}", self.experiment);
        }
    }
}
