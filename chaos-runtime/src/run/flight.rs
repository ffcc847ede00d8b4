//! The activities in flight: started and not yet recorded, in the foreground or as background
//! tasks; and their cancellation, which ends every one of them before it returns.

use super::activity::{self, Executed};
use super::state::{Background, InFlight, Pending, Run};
use super::tally::FindingKind;
use crate::error::ActivityFailure;
use crate::event::{ActivityRecord, EventKind, Phase};
use crate::model::Activity;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

impl Run<'_> {
    /// Marks `activity` as started and emits `activity-started`; returns its id.
    pub(super) fn begin(&self, activity: &Activity, phase: Phase) -> u64 {
        let id = {
            let mut st = self.state();
            st.next_id += 1;
            let id = st.next_id;
            st.in_flight.push(InFlight {
                id,
                phase,
                activity: activity.clone(),
                start: SystemTime::now(),
                started: Instant::now(),
            });
            id
        };
        self.bus.emit(EventKind::ActivityStarted {
            phase,
            name: activity.name.clone(),
            kind: activity.kind,
        });
        id
    }

    /// Records a started activity's result and emits `activity-completed`.
    pub(super) fn complete(
        &self,
        activity: &Activity,
        phase: Phase,
        id: u64,
        executed: Executed,
    ) -> ActivityRecord {
        self.state().in_flight.retain(|f| f.id != id);
        let record = activity::record(activity, executed);
        self.bus.emit_at(
            SystemTime::now(),
            EventKind::ActivityCompleted {
                phase,
                record: Arc::new(record.clone()),
            },
        );
        record
    }

    /// Starts a method activity as a background task; [`Run::join`] waits for its result.
    pub(super) fn spawn_background(&self, activity: &Activity) -> Pending {
        let id = self.begin(activity, Phase::Method);
        let shared = Arc::new(activity.clone());
        let (tx, rx) = oneshot::channel();
        let task = {
            let activity = shared.clone();
            let cx = self.cx.clone();
            async move {
                let executed = activity::execute(&activity, cx).await;
                let _ = tx.send(executed);
            }
        };
        let handle = tokio::spawn(task);
        self.state().background.push(Background { id, handle });
        Pending {
            activity: shared,
            id,
            start: SystemTime::now(),
            started: Instant::now(),
            result: rx,
        }
    }

    /// Waits for a background activity's result and records it.
    pub(super) async fn join(&self, pending: Pending) -> ActivityRecord {
        let executed = match pending.result.await {
            Ok(executed) => executed,
            Err(_) => {
                // The task ended without a result: it panicked outside the activity's guard.
                let why = match self.take_background(pending.id) {
                    Some(handle) => match handle.await {
                        Err(join) => join.to_string(),
                        Ok(()) => "the background task ended without a result".to_owned(),
                    },
                    None => "the background task was stopped".to_owned(),
                };
                Executed::failed(ActivityFailure::Panic(why), pending.start, pending.started)
            }
        };
        // The task sent its result and is ending: wait for it, so that none of it outlives
        // the join.
        if let Some(handle) = self.take_background(pending.id) {
            let _ = handle.await;
        }
        self.complete(&pending.activity, Phase::Method, pending.id, executed)
    }

    fn take_background(&self, id: u64) -> Option<JoinHandle<()>> {
        let mut st = self.state();
        let at = st.background.iter().position(|b| b.id == id)?;
        Some(st.background.swap_remove(at).handle)
    }

    /// Ends everything in flight: aborts every background task and waits until each has
    /// stopped, then records every activity that had not ended as failed with `reason`.
    ///
    /// The caller has already dropped (or stopped polling) the foreground future, so when this
    /// returns nothing the experiment started is running.
    pub(super) async fn cancel_in_flight(&self, reason: &str) {
        let background = std::mem::take(&mut self.state().background);
        for b in &background {
            b.handle.abort();
        }
        for b in background {
            // A cancelled task's `JoinError` is expected; a panic was caught by the guard.
            let _ = b.handle.await;
        }
        let in_flight = std::mem::take(&mut self.state().in_flight);
        for f in in_flight {
            let executed = Executed::failed(
                ActivityFailure::Error(reason.to_owned()),
                f.start,
                f.started,
            );
            let record = activity::record(&f.activity, executed);
            self.state()
                .tally
                .record(FindingKind::Cancelled, activity::finding(f.phase, &record));
            self.bus.emit(EventKind::ActivityCompleted {
                phase: f.phase,
                record: Arc::new(record),
            });
        }
    }
}
