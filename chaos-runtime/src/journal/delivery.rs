//! [`DeliveryRecord`]: one notification delivery as the journal's `notifications` records it.

use serde::Serialize;

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
