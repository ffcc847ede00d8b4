//! The timings of the simulated controllers.

use std::time::Duration;

/// Timings of the simulated controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Delay before a ReplicaSet creates a replacement for a pod that went away.
    pub replace_delay: Duration,
    /// Delay from a pod's creation until it is Running and Ready.
    pub ready_delay: Duration,
    /// Upper bound on how long a pod deleted with a grace period stays Terminating
    /// (it stays min(grace, this); grace 0 = removed at once).
    pub max_termination: Duration,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            replace_delay: Duration::from_millis(300),
            ready_delay: Duration::from_millis(300),
            max_termination: Duration::from_millis(200),
        }
    }
}
