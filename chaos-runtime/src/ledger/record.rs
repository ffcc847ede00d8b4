//! The records an entry holds, and the state of a run read back from them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The first record of an entry: the run it belongs to, what it ran with, and who owns it.
///
/// ```
/// use chaos_runtime::ledger::{Header, Owner};
/// let header = Header::new("db::slow_disk", 42);
/// assert_eq!(header.experiment, "db::slow_disk");
/// assert_eq!(header.owner, Owner::this_process());
/// assert!(!header.run_id.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The experiment's full name, as the harness lists it.
    pub experiment: String,
    /// The run's id, unique among the ledger's entries; the entry's file is named after it.
    pub run_id: String,
    /// The run's seed.
    pub seed: u64,
    /// The process that runs it.
    pub owner: Owner,
    /// When the entry was written (RFC 3339, UTC).
    pub started: String,
    /// The variables the run resolved, secrets redacted.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The settings file the run loaded, if any (read again by a recovery for its secrets).
    #[serde(default)]
    pub settings: Option<PathBuf>,
    /// The run's stash when the method began.
    #[serde(default)]
    pub stash: Value,
    /// Written by a recovery from the markers on the targets, not by the run: the undo
    /// records come from the markers, and the run's rollback block is not run (what it was to
    /// undo is not known here).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_markers: bool,
}

impl Header {
    /// A header for a run of `experiment` with `seed` by this process, with a fresh run id.
    pub fn new(experiment: impl Into<String>, seed: u64) -> Header {
        let owner = Owner::this_process();
        Header {
            experiment: experiment.into(),
            run_id: new_run_id(owner.pid),
            seed,
            owner,
            started: crate::time::rfc3339(std::time::SystemTime::now()),
            variables: BTreeMap::new(),
            settings: None,
            stash: Value::Null,
            from_markers: false,
        }
    }
}

/// A fresh run id: the time in milliseconds, the process id and a counter, in hex.
fn new_run_id(pid: u32) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}-{pid:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A process, as the ledger names it: its id, when it started (so that a recycled id is not
/// taken for it) and the host it ran on.
///
/// ```
/// use chaos_runtime::ledger::Owner;
/// let me = Owner::this_process();
/// assert_eq!(me.pid, std::process::id());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The process id.
    pub pid: u32,
    /// When it started, in clock ticks since boot (`/proc/<pid>/stat`); `None` where the
    /// system does not tell.
    pub start: Option<u64>,
    /// The host name.
    pub host: String,
}

impl Owner {
    /// This process.
    pub fn this_process() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start: process_start(pid),
            host: crate::journal::hostname(),
        }
    }
}

/// A process's start time in clock ticks since boot: field 22 of `/proc/<pid>/stat`.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// How to reverse one change a target made: the kind of undo (which code runs it), a label
/// for the rollback activity, and the data it needs, all of it JSON so that another process
/// can run it.
///
/// ```
/// use chaos_runtime::ledger::UndoRecord;
/// use serde_json::json;
/// let undo = UndoRecord::new("k8s.scale", "restore deployment `web` to 3 replicas",
///     json!({"namespace": "shop", "name": "web", "replicas": 3}));
/// assert_eq!(undo.kind, "k8s.scale");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UndoRecord {
    /// Which undo runs it (`k8s.scale`, `proxy.toxic`, ...).
    pub kind: String,
    /// The rollback activity's name.
    pub label: String,
    /// What the undo needs: what to restore and where.
    pub data: Value,
}

impl UndoRecord {
    /// An undo record.
    pub fn new(kind: impl Into<String>, label: impl Into<String>, data: Value) -> UndoRecord {
        UndoRecord {
            kind: kind.into(),
            label: label.into(),
            data,
        }
    }
}

/// How an undo ended, as the ledger records it.
///
/// ```
/// use chaos_runtime::ledger::UndoOutcome;
/// assert!(UndoOutcome::Done.is_done());
/// assert!(!UndoOutcome::Failed("403 Forbidden".into()).is_done());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoOutcome {
    /// The change is reversed.
    Done,
    /// The undo failed (after its retries): the record stays for the next recovery.
    Failed(String),
}

impl UndoOutcome {
    /// Whether the change is reversed.
    pub fn is_done(&self) -> bool {
        matches!(self, UndoOutcome::Done)
    }
}

/// One line of an entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(super) enum Record {
    Header(Header),
    Intent {
        seq: u64,
        undo: UndoRecord,
        /// Undone by the run's own rollback block while the run lives; by a recovery only.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        standby: bool,
    },
    Applied {
        seq: u64,
    },
    Undone {
        seq: u64,
        outcome: UndoOutcome,
        by: Owner,
        at: String,
    },
    Closed {
        at: String,
    },
}

/// A run's state, read back from its entry.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryState {
    /// The run.
    pub header: Header,
    /// Its undo records, in the order they were written.
    pub undos: Vec<UndoState>,
    /// Whether the run closed its entry (its rollbacks finished).
    pub closed: bool,
}

/// One undo record and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct UndoState {
    /// Its place in the entry.
    pub seq: u64,
    /// What to undo.
    pub undo: UndoRecord,
    /// Whether the change was known to have taken effect. An undo that was intended but not
    /// marked applied is still run: the run may have died after the effect and before the mark.
    pub applied: bool,
    /// The last outcome recorded for its undo, if it ran.
    pub outcome: Option<UndoOutcome>,
    /// A record for recovery only: while the run lived, its own rollback block was to undo
    /// the change (see [`Entry::standby`](super::Entry::standby)).
    pub standby: bool,
}

impl UndoState {
    /// Whether the undo still has to run.
    pub fn pending(&self) -> bool {
        !self.outcome.as_ref().is_some_and(UndoOutcome::is_done)
    }
}

impl EntryState {
    /// The state the records give; `None` without a header first.
    pub(super) fn from_records(records: Vec<Record>) -> Option<EntryState> {
        let mut records = records.into_iter();
        let Some(Record::Header(header)) = records.next() else {
            return None;
        };
        let mut state = EntryState {
            header,
            undos: Vec::new(),
            closed: false,
        };
        for record in records {
            match record {
                Record::Header(_) => {}
                Record::Intent { seq, undo, standby } => state.undos.push(UndoState {
                    seq,
                    undo,
                    applied: false,
                    outcome: None,
                    standby,
                }),
                Record::Applied { seq } => {
                    if let Some(u) = state.undos.iter_mut().find(|u| u.seq == seq) {
                        u.applied = true;
                    }
                }
                Record::Undone { seq, outcome, .. } => {
                    if let Some(u) = state.undos.iter_mut().find(|u| u.seq == seq) {
                        u.outcome = Some(outcome);
                    }
                }
                Record::Closed { .. } => state.closed = true,
            }
        }
        Some(state)
    }

    /// The undos that still have to run, latest first (the order rollbacks run in).
    pub fn pending(&self) -> impl Iterator<Item = &UndoState> {
        self.undos.iter().rev().filter(|u| u.pending())
    }
}
