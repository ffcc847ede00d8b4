//! The experiment model and its builder: what `#[experiment]` expands into, usable by hand.
//! Every item is re-exported at the crate root.

mod activity;
mod builder;
mod experiment;
mod strategies;
#[cfg(test)]
mod tests;

pub(crate) use activity::Produced;
pub use activity::{Action, Activity, ActivityKind, ActivityOptions, Probe};
pub use builder::ExperimentBuilder;
pub use experiment::{Experiment, ExperimentError, Unchecked};
pub use strategies::{Concurrency, Hypothesis, RollbackStrategy, DEFAULT_GROUP};
