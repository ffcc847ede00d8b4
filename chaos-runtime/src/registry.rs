//! The registry of experiments made by `#[experiment]`, collected with `inventory`.

use crate::model::{Experiment, ExperimentError};
use crate::outcome::Outcome;

/// One experiment as `#[experiment]` registers it: static metadata (read without building the
/// experiment, so `--list` and `--exact` stay fast) and the function that builds it.
#[derive(Debug)]
pub struct Registration {
    /// `module_path!()` where the experiment is defined.
    pub module_path: &'static str,
    /// The function's name.
    pub function: &'static str,
    /// `Some(reason)` when the experiment is ignored (run it with `--ignored`).
    pub ignore: Option<&'static str>,
    /// The outcome the experiment is expected to end in (`passed` unless `expect = ...`).
    pub expect: Outcome,
    /// Whether the journal is reviewed as an insta snapshot.
    pub snapshot: bool,
    /// The source file.
    pub file: &'static str,
    /// The line of the function.
    pub line: u32,
    /// Builds the experiment.
    pub build: fn() -> Result<Experiment, ExperimentError>,
}

impl Registration {
    /// The trial name: `module::function`.
    pub fn name(&self) -> String {
        format!("{}::{}", self.module_path, self.function)
    }
}

inventory::collect!(Registration);

/// Every registered experiment, in no particular order.
pub fn registered() -> impl Iterator<Item = &'static Registration> {
    inventory::iter::<Registration>.into_iter()
}
