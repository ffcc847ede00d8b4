//! [`Channel`]: where notifications go. A user writes `async fn deliver`; [`BoxedChannel`]
//! holds any channel behind one type (the boxing of its futures happens here), and
//! [`channel_fn`] makes a channel of a closure.

use super::Notification;
use crate::error::BoxError;
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Timeout, retries and backoff of one channel's deliveries.
///
/// ```
/// use chaos_runtime::notify::DeliveryPolicy;
/// let policy = DeliveryPolicy::default();
/// assert_eq!((policy.timeout.as_secs(), policy.retries), (3, 2));
/// ```
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
/// Chaos Toolkit's plugin channels) and register it in `chaos_harness::main!(setup = ...)`
/// with `Setup::channel`; for a one-off, [`channel_fn`] makes one of a closure.
///
/// ```
/// use chaos_runtime::notify::{Channel, Notification};
/// use chaos_runtime::BoxError;
///
/// struct Stderr;
///
/// impl Channel for Stderr {
///     fn name(&self) -> &str {
///         "stderr"
///     }
///     fn accepts(&self, event: &str) -> bool {
///         event.starts_with("run-")
///     }
///     async fn deliver(&self, n: &Notification) -> Result<(), BoxError> {
///         eprintln!("{} {}", n.name, n.experiment);
///         Ok(())
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
    /// Delivers one notification; an error is retried per [`Channel::policy`]. Write it as an
    /// `async fn`.
    fn deliver(&self, n: &Notification) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// A shared channel is a channel: keep an `Arc` to look at what yours collected.
impl<C: Channel> Channel for Arc<C> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn accepts(&self, event: &str) -> bool {
        (**self).accepts(event)
    }
    fn policy(&self) -> DeliveryPolicy {
        (**self).policy()
    }
    fn deliver(&self, n: &Notification) -> impl Future<Output = Result<(), BoxError>> + Send {
        (**self).deliver(n)
    }
}

/// The object-safe twin of [`Channel`], implemented for every channel: it boxes `deliver`'s
/// future so channels of different types can share one list.
trait DynChannel: Send + Sync {
    fn name(&self) -> &str;
    fn accepts(&self, event: &str) -> bool;
    fn policy(&self) -> DeliveryPolicy;
    fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>>;
}

impl<C: Channel> DynChannel for C {
    fn name(&self) -> &str {
        Channel::name(self)
    }
    fn accepts(&self, event: &str) -> bool {
        Channel::accepts(self, event)
    }
    fn policy(&self) -> DeliveryPolicy {
        Channel::policy(self)
    }
    fn deliver<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(Channel::deliver(self, n))
    }
}

/// Any [`Channel`], ready to share between runs: what a notification sink holds. Cheap to
/// clone.
///
/// ```
/// use chaos_runtime::notify::{channel_fn, BoxedChannel};
/// let channel = BoxedChannel::new(channel_fn("quiet", |_n| async { Ok(()) }));
/// assert_eq!(channel.name(), "quiet");
/// assert!(channel.accepts("run-completed"));
/// ```
#[derive(Clone)]
pub struct BoxedChannel(Arc<dyn DynChannel>);

impl BoxedChannel {
    /// Boxes `channel`.
    pub fn new(channel: impl Channel) -> BoxedChannel {
        BoxedChannel(Arc::new(channel))
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Whether the channel wants events named `event`.
    pub fn accepts(&self, event: &str) -> bool {
        self.0.accepts(event)
    }

    /// The channel's timeout, retries and backoff.
    pub fn policy(&self) -> DeliveryPolicy {
        self.0.policy()
    }

    /// One delivery attempt.
    pub(crate) fn deliver<'a>(
        &'a self,
        n: &'a Notification,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        self.0.deliver(n)
    }

    /// Identifies the channel (clones share it), to bound its deliveries in flight.
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl std::fmt::Debug for BoxedChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BoxedChannel").field(&self.name()).finish()
    }
}

/// A channel made of a closure; see [`channel_fn`].
pub struct FnChannel<F> {
    name: String,
    events: Option<Vec<String>>,
    policy: DeliveryPolicy,
    deliver: F,
}

/// A channel named `name` that delivers with `deliver`, an async closure given its own copy
/// of each notification. It accepts every event unless [`FnChannel::events`] narrows it.
///
/// ```
/// use chaos_runtime::notify::{channel_fn, Channel};
/// let channel = channel_fn("stderr", |n| async move {
///     eprintln!("{} {}", n.name, n.experiment);
///     Ok(())
/// })
/// .events(["run-completed", "run-failed"]);
/// assert!(channel.accepts("run-failed"));
/// assert!(!channel.accepts("activity-started"));
/// ```
pub fn channel_fn<F, Fut>(name: impl Into<String>, deliver: F) -> FnChannel<F>
where
    F: Fn(Notification) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    FnChannel {
        name: name.into(),
        events: None,
        policy: DeliveryPolicy::default(),
        deliver,
    }
}

impl<F> FnChannel<F> {
    /// Only the events named here.
    pub fn events<'a>(mut self, events: impl IntoIterator<Item = &'a str>) -> Self {
        self.events = Some(events.into_iter().map(str::to_owned).collect());
        self
    }

    /// Timeout, retries and backoff other than the default.
    pub fn policy(mut self, policy: DeliveryPolicy) -> Self {
        self.policy = policy;
        self
    }
}

impl<F, Fut> Channel for FnChannel<F>
where
    F: Fn(Notification) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn accepts(&self, event: &str) -> bool {
        accepts(&self.events, event)
    }
    fn policy(&self) -> DeliveryPolicy {
        self.policy
    }
    fn deliver(&self, n: &Notification) -> impl Future<Output = Result<(), BoxError>> + Send {
        (self.deliver)(n.clone())
    }
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

/// Whether an event filter (`None`: every event) lets `event` through.
pub(crate) fn accepts(filter: &Option<Vec<String>>, event: &str) -> bool {
    filter.as_ref().is_none_or(|f| f.iter().any(|e| e == event))
}
