//! [`Notifier`]: delivers notifications in the background, with each channel's timeout,
//! retries and backoff.

use super::{BoxedChannel, Deliveries, Notification};
use crate::journal::DeliveryStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

pub(super) struct Job {
    pub(super) channel: BoxedChannel,
    pub(super) notification: Arc<Notification>,
    pub(super) deliveries: Deliveries,
    pub(super) slot: usize,
    pub(super) queued: Instant,
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
                        let key = job.channel.key();
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

    pub(super) fn submit(&self, job: Job) {
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
