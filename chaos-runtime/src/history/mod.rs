//! The run history: one row per experiment run ([`Run`]: experiment, outcome, start, duration,
//! seed, findings, git revision, journal, probe counts, time to recover, weight) in an SQLite
//! file ([`Store`]), safe when many harness processes append at once (nextest), and what it
//! says per experiment ([`summarize`]): the last outcomes, pass rate, flakiness, time to
//! recover and Litmus's resilience score ([`score`]); and the starts that minimum intervals
//! are checked against ([`Store::claim`]).
//!
//! ```
//! use chaos_runtime::history::{Run, Store};
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(&dir.path().join("history.sqlite"))?;
//! let journal = serde_json::json!({
//!     "name": "shop::latency", "outcome": "passed", "start": "2026-12-05T10:00:00+00:00",
//!     "duration": 1.5, "seed": 7, "steady_states": {"before": null, "after": null, "during": []},
//!     "run": [], "rollbacks": [], "experiment": {}
//! });
//! store.append(&Run::from_journal(&journal, None, Some("abc123".into())))?;
//! let runs = store.runs(None)?;
//! assert_eq!(runs.len(), 1);
//! assert_eq!(runs[0].outcome, "passed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claim;
mod row;
mod stats;
mod store;

pub use claim::Claim;
pub use row::Run;
pub use stats::{score, summarize, Summary};
pub use store::{HistoryError, Store};

#[cfg(test)]
mod tests;
