//! Notifications: events delivered to channels (HTTP endpoints, Slack incoming webhooks, your
//! own [`Channel`]s), concurrently and in the background, so that a slow or broken receiver
//! never delays an experiment nor changes its verdict.
//!
//! - A [`NotificationSink`] is an [`EventSink`](crate::event::EventSink) for one run: for each
//!   event some channel wants, it builds the body Chaos Toolkit's receivers expect
//!   (`{name, payload, phase, ts, error?}`, redacted), queues one delivery per channel and
//!   returns at once. It reads the run's journal from the run's one
//!   [`JournalRecorder`](crate::journal::JournalRecorder).
//! - The [`Notifier`] delivers on its own thread and runtime: up to a bounded number of
//!   deliveries in flight, each with the channel's timeout, retries and backoff.
//! - [`Deliveries::flush`] waits, bounded, for a run's deliveries at its end; what was
//!   delivered, what failed (with the error) and what was still pending go to the journal's
//!   `notifications`.
//! - A channel from the settings file's `[[notifications]]` is built with
//!   [`ChannelSettings::channel`](crate::settings::ChannelSettings::channel).

mod channel;
mod deliveries;
mod from_settings;
mod http;
mod notification;
mod notifier;
mod sink;
mod slack;
#[cfg(test)]
mod tests;

pub use channel::{channel_fn, BoxedChannel, Channel, ChannelError, DeliveryPolicy, FnChannel};
pub use deliveries::Deliveries;
pub use http::{HttpChannel, HttpChannelConfig};
pub use notification::Notification;
use notifier::Job;
pub use notifier::Notifier;
pub use sink::NotificationSink;
pub use slack::{slack_message, SlackChannel};
