//! The HTML report of a run: one self-contained page (inline CSS and SVG, no script, nothing
//! loaded from elsewhere) with a summary table of the experiments and, per experiment, its
//! findings in words, a timeline of its activities and every activity's result in text.
//!
//! The harness writes one after every run (`report.html` in the journal directory; `[report]
//! html` or `CHAOS_HTML` moves it, `off` skips it); `chaos report` renders one from any
//! journals, this framework's or Chaos Toolkit's.
//!
//! ```
//! use chaos_harness::html::{Entry, Report};
//! let journal = serde_json::json!({
//!     "experiment": {"title": "the service answers"},
//!     "status": "completed", "deviated": false,
//!     "start": "2026-01-05T10:00:00Z", "duration": 0.5,
//!     "steady_states": {"before": {"steady_state_met": true, "probes": [{
//!         "activity": {"type": "probe", "name": "answers", "tolerance": 200},
//!         "status": "succeeded", "output": 200, "tolerance_met": true,
//!         "start": "2026-01-05T10:00:00.010Z", "end": "2026-01-05T10:00:00.040Z"
//!     }]}},
//!     "run": [], "rollbacks": []
//! });
//! let page = Report::new("nightly").entry(Entry::new(journal)).render();
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("the service answers") && page.contains("<svg"));
//! ```

mod escape;
mod page;
mod story;
mod timeline;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// One experiment run in a report: its journal and what the harness knows besides it.
#[derive(Clone, Debug)]
pub struct Entry {
    journal: Value,
    path: Option<PathBuf>,
    snapshot: Option<bool>,
    recent: Vec<Recent>,
}

/// One earlier run of an experiment, for the report's strip of recent outcomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recent {
    /// One of the eight outcomes (`passed`, `deviated`...).
    pub outcome: String,
    /// When it started (RFC 3339).
    pub start: String,
}

impl Entry {
    /// The run `journal` records (this framework's journal, or Chaos Toolkit's).
    pub fn new(journal: Value) -> Entry {
        Entry {
            journal,
            path: None,
            snapshot: None,
            recent: Vec::new(),
        }
    }

    /// The journal's file, linked from the report.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Entry {
        self.path = Some(path.into());
        self
    }

    /// Whether the journal matched its reviewed snapshot (for `#[experiment(snapshot)]`).
    pub fn snapshot(mut self, matched: bool) -> Entry {
        self.snapshot = Some(matched);
        self
    }

    /// The experiment's last outcomes from the run history, oldest first.
    pub fn recent(mut self, recent: Vec<Recent>) -> Entry {
        self.recent = recent;
        self
    }
}

/// A report being put together: its title, its experiments, and the files left out of it.
///
/// ```
/// use chaos_harness::html::Report;
/// let page = Report::new("empty run")
///     .left_out("journals/x.json", "not JSON: EOF while parsing at line 3 column 0")
///     .render();
/// assert!(page.contains("journals/x.json") && page.contains("EOF while parsing"));
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    title: String,
    dir: Option<PathBuf>,
    entries: Vec<Entry>,
    left_out: Vec<(PathBuf, String)>,
    skipped: Vec<(String, String)>,
}

impl Report {
    /// An empty report titled `title`.
    pub fn new(title: &str) -> Report {
        Report {
            title: title.to_owned(),
            dir: None,
            entries: Vec::new(),
            left_out: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The directory the page is written to: journal links are made relative to it.
    pub fn written_to(mut self, dir: impl Into<PathBuf>) -> Report {
        self.dir = Some(dir.into());
        self
    }

    /// Adds an experiment run.
    pub fn entry(mut self, entry: Entry) -> Report {
        self.entries.push(entry);
        self
    }

    /// Notes a file that is not in the report, and why (a journal that is not one).
    pub fn left_out(mut self, path: impl Into<PathBuf>, why: &str) -> Report {
        self.left_out.push((path.into(), why.to_owned()));
        self
    }

    /// Notes an experiment the harness skipped, and why (outside its run window, too soon
    /// after its last run).
    ///
    /// ```
    /// use chaos_harness::html::Report;
    /// let page = Report::new("a Saturday")
    ///     .skipped("shop::latency", "outside its run window (Mon-Fri 09:00-15:00 UTC): Saturday is not a run day (Mon-Fri)")
    ///     .render();
    /// assert!(page.contains("shop::latency") && page.contains("Saturday is not a run day"));
    /// ```
    pub fn skipped(mut self, experiment: &str, why: &str) -> Report {
        self.skipped.push((experiment.to_owned(), why.to_owned()));
        self
    }

    /// The page.
    pub fn render(&self) -> String {
        page::render(self)
    }
}

/// Why a file could not be read as a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read.
    #[error("{path}: cannot be read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a journal (not JSON, cut short, or JSON of something else).
    #[error("{path}: not a journal: {why}")]
    NotAJournal {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// Reads the journal at `path`: this framework's or Chaos Toolkit's (an object with
/// `experiment`, `status`, `run`, and `steady_states` or `rollbacks`).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("cut.json");
/// std::fs::write(&path, r#"{"experiment": {"title": "x"}, "run": ["#)?;
/// let err = chaos_harness::html::read_journal(&path).unwrap_err();
/// assert!(err.to_string().contains("cut.json: not a journal: not JSON"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_journal(path: &Path) -> Result<Value, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Read {
        path: path.to_owned(),
        source,
    })?;
    let not = |why: String| JournalError::NotAJournal {
        path: path.to_owned(),
        why,
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        not(if e.is_eof() {
            format!("not JSON, or cut short ({e})")
        } else {
            format!("not JSON ({e})")
        })
    })?;
    let Some(obj) = v.as_object() else {
        return Err(not("the JSON is not an object".to_owned()));
    };
    let missing: Vec<&str> = [
        (
            "experiment",
            obj.get("experiment").is_some_and(Value::is_object),
        ),
        ("status", obj.get("status").is_some_and(Value::is_string)),
        ("run", obj.get("run").is_some_and(Value::is_array)),
    ]
    .iter()
    .filter(|(_, ok)| !ok)
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        return Err(not(format!(
            "it has no {} (a journal has `experiment`, `status` and `run`)",
            missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
