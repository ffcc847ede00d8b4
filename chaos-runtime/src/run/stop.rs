//! Why a run stopped early, and the one channel every stop reason goes through.

use std::time::Duration;
use tokio::sync::watch;

/// What stopped a run before its phases ended.
///
/// When several reasons arrive, the run keeps the one of highest precedence, in this order
/// (lowest first): [`Stop::FailFast`], [`Stop::Timeout`], [`Stop::Control`], [`Stop::Signal`],
/// [`Stop::Killed`].
///
/// ```
/// use chaos_runtime::run::Stop;
/// use std::time::Duration;
/// assert!(Stop::Signal.precedence() > Stop::Timeout(Duration::from_secs(1)).precedence());
/// assert_eq!(Stop::Timeout(Duration::from_millis(300)).to_string(), "the experiment timeout (300ms)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A `fail_fast` hypothesis missed while the method ran.
    FailFast,
    /// The experiment's `timeout` elapsed.
    Timeout(Duration),
    /// A control refused to let the run go on; the text says which and why.
    Control(String),
    /// A signal (Ctrl-C, SIGTERM) or a raised [`Interrupt`](crate::interrupt::Interrupt).
    Signal,
    /// The run's process ended before its rollbacks (`kill -9`, the OOM killer): a recovery
    /// from the [ledger](crate::ledger) ran them.
    Killed,
}

impl Stop {
    /// The rank that decides which of two reasons a run keeps: the higher one.
    pub fn precedence(&self) -> u8 {
        match self {
            Stop::FailFast => 0,
            Stop::Timeout(_) => 1,
            Stop::Control(_) => 2,
            Stop::Signal => 3,
            Stop::Killed => 4,
        }
    }

    /// The failure recorded for an activity this stop cancelled.
    pub(crate) fn cancellation(&self) -> String {
        match self {
            Stop::FailFast => {
                "cancelled: the hypothesis missed during the method (fail-fast)".to_owned()
            }
            other => format!("cancelled by {other}"),
        }
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::FailFast => f.write_str("the hypothesis (fail-fast) missed during the method"),
            Stop::Timeout(t) => write!(f, "the experiment timeout ({})", crate::time::human(*t)),
            Stop::Control(why) => f.write_str(why),
            Stop::Signal => f.write_str("a signal"),
            Stop::Killed => f.write_str("the end of its process, before its rollbacks (recovered)"),
        }
    }
}

/// The run's one stop channel: every reason is raised here, and the highest one is kept.
pub(crate) struct StopSignal {
    tx: watch::Sender<Option<Stop>>,
}

impl StopSignal {
    pub(crate) fn new() -> Self {
        StopSignal {
            tx: watch::channel(None).0,
        }
    }

    /// Raises `stop`; it replaces the current reason only if it ranks higher.
    pub(crate) fn raise(&self, stop: Stop) {
        self.tx.send_if_modified(|current| match current {
            Some(c) if c.precedence() >= stop.precedence() => false,
            _ => {
                *current = Some(stop);
                true
            }
        });
    }

    /// Whether any reason was raised.
    pub(crate) fn is_raised(&self) -> bool {
        self.tx.borrow().is_some()
    }

    /// The reason kept, if any.
    pub(crate) fn current(&self) -> Option<Stop> {
        self.tx.borrow().clone()
    }

    /// Resolves once a reason is raised.
    pub(crate) async fn raised(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so the wait only ends when a reason is raised.
        let _ = rx.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_reason_is_kept_whatever_the_order() {
        let s = StopSignal::new();
        assert!(!s.is_raised());
        s.raise(Stop::Timeout(Duration::from_secs(1)));
        s.raise(Stop::FailFast);
        assert_eq!(s.current(), Some(Stop::Timeout(Duration::from_secs(1))));
        s.raise(Stop::Signal);
        s.raise(Stop::Control("control `c`: no".into()));
        assert_eq!(s.current(), Some(Stop::Signal));
    }

    #[test]
    fn the_first_of_equal_reasons_is_kept() {
        let s = StopSignal::new();
        s.raise(Stop::Control("first".into()));
        s.raise(Stop::Control("second".into()));
        assert_eq!(s.current(), Some(Stop::Control("first".into())));
    }
}
