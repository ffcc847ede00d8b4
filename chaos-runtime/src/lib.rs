//! The engine of chaos-harness: the experiment model and its builder, the runner, the event
//! stream, the journal, and the HTTP and process targets.
//!
//! Users normally depend on `chaos-harness` alone, which re-exports this crate and adds the
//! `#[experiment]` macro and the test harness. This crate can be used by hand:
//!
//! ```
//! use chaos_runtime::{Action, Context, Experiment, Outcome, Probe, run::Runner};
//!
//! let exp = Experiment::builder("manual::hello")
//!     .title("the answer stays 42")
//!     .steady_state(Probe::new("answer", |_cx| async { Ok(42) }).tolerance("== 42", |v| *v == 42))
//!     .method(Action::new("poke", |_cx| async { Ok("poked") }))
//!     .build()?;
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let report = rt.block_on(Runner::new().run(&exp, Context::builder().build()));
//! assert_eq!(report.outcome, Outcome::Passed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod context;
pub mod credentials;
pub mod ctk;
pub mod env;
pub mod error;
pub mod event;
pub mod extend;
pub mod history;
pub mod interrupt;
pub mod journal;
pub mod ledger;
mod model;
pub mod notify;
pub mod outcome;
pub mod redact;
pub mod registry;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod target;
pub mod time;
pub mod tls;

pub use context::Context;
pub use error::{BoxError, MissingVariable};
pub use model::{
    Action, Activity, ActivityKind, ActivityOptions, Concurrency, Experiment, ExperimentBuilder,
    ExperimentError, Hypothesis, Probe, RollbackStrategy, Unchecked, DEFAULT_GROUP,
};
pub use outcome::{Outcome, Status};
pub use rng::SeededRng;

/// A run could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `CHAOS_SEED` is not a number.
    #[error("CHAOS_SEED=`{0}` is not a number: give the seed a failed run printed")]
    BadSeed(String),
}

#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use std::time::Duration;
}
