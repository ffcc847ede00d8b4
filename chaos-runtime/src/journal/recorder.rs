//! [`JournalRecorder`]: the one recorder of a run's journal, an event sink the other sinks
//! read from.

use super::Journal;
use crate::event::{Event, EventSink};
use std::sync::{Arc, Mutex};

/// An [`EventSink`] that builds a run's [`Journal`] from its events. Clone it to keep a handle
/// on the journal while the runner owns the sink.
///
/// ```
/// use chaos_runtime::{journal::JournalRecorder, run::Runner, Experiment, Action, Context};
/// let exp = Experiment::builder("doc::j").method(Action::new("a", |_| async { Ok(1) })).build().unwrap();
/// let recorder = JournalRecorder::new("doc::j");
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// rt.block_on(Runner::new().sink(recorder.clone()).run(&exp, Context::builder().build()));
/// let journal = recorder.journal();
/// assert_eq!(journal.run.len(), 1);
/// assert_eq!(journal.outcome.as_str(), "passed");
/// ```
#[derive(Clone, Debug)]
pub struct JournalRecorder {
    journal: Arc<Mutex<Journal>>,
}

impl JournalRecorder {
    /// A recorder for experiment `name`.
    pub fn new(name: &str) -> Self {
        JournalRecorder {
            journal: Arc::new(Mutex::new(Journal::new(name))),
        }
    }

    /// A copy of the journal as recorded so far.
    pub fn journal(&self) -> Journal {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `f` on the journal.
    pub fn with<R>(&self, f: impl FnOnce(&mut Journal) -> R) -> R {
        f(&mut self.journal.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventSink for JournalRecorder {
    fn on_event(&mut self, event: &Event) {
        self.with(|j| j.apply(event))
    }
}
