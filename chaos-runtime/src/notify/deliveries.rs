//! [`Deliveries`]: the deliveries of one run, recorded as they end, waited for at its end and
//! written to the run's journal.

use super::Notification;
use crate::journal::{DeliveryRecord, DeliveryStatus, JournalRecorder};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct DeliveryState {
    records: Vec<DeliveryRecord>,
    pending: usize,
}

/// The deliveries of one run: recorded as they end, waited for at the end of the run and
/// then written to the run's journal. Get it from [`NotificationSink::deliveries`](super::NotificationSink::deliveries).
#[derive(Clone)]
pub struct Deliveries {
    inner: Arc<(Mutex<DeliveryState>, Condvar)>,
    journal: JournalRecorder,
}

impl Deliveries {
    /// The deliveries of the run `journal` records.
    pub(super) fn new(journal: JournalRecorder) -> Deliveries {
        Deliveries {
            inner: Arc::default(),
            journal,
        }
    }

    pub(super) fn begin(&self, channel: &str, n: &Notification) -> usize {
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

    pub(super) fn end(
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
    /// failures, writes every record to the journal's `notifications` and returns them, in the
    /// order the deliveries were queued.
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
        let records = st.records.clone();
        drop(st);
        self.journal.with(|j| j.notifications.clone_from(&records));
        records
    }

    /// The records so far.
    pub fn records(&self) -> Vec<DeliveryRecord> {
        self.lock().records.clone()
    }
}
