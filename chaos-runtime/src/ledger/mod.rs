//! The write-ahead ledger: what a run will have to undo, made durable before each change a
//! target makes, so that a run killed mid-way (`kill -9`, the OOM killer, a cancelled CI job)
//! is still rolled back, by its guardian or by the next harness start.
//!
//! A ledger is a directory with one entry per live run, a file named after the run's id. An
//! entry is a log of records, one per line, each line its CRC-32 and its JSON: the run's
//! [`Header`] first; then for each change a target makes, its [`UndoRecord`] (written before
//! the change), a mark once the change took effect, and how its undo ended; and a last record
//! when the run's rollbacks finished, after which the entry is removed. Every record is made
//! durable (`fsync`) before the call that writes it returns; creating and removing an entry
//! also syncs the directory.
//!
//! A run holds an exclusive lock on its entry as long as it lives, and the kernel releases it
//! when the process ends, however it ends. So an entry whose lock can be taken has no live
//! owner, and whoever takes it (a guardian waiting on it, or a harness starting) is the only
//! process recovering it.
//!
//! ```
//! use chaos_runtime::ledger::{Header, Ledger, UndoRecord};
//! use serde_json::json;
//! let dir = std::env::temp_dir().join(format!("chaos-ledger-mod-doc-{}", std::process::id()));
//! let ledger = Ledger::open(&dir)?;
//! let entry = ledger.begin(&Header::new("shop::cordon", 1))?;
//! entry.intend(&UndoRecord::new("k8s.uncordon", "uncordon `node-1`", json!({"node": "node-1"})))?;
//! // The run dies here: its entry is left, unlocked.
//! drop(entry);
//! let orphans = ledger.orphans();
//! assert_eq!(orphans.claimed.len(), 1);
//! let claimed = &orphans.claimed[0];
//! assert_eq!(claimed.state().header.experiment, "shop::cordon");
//! assert_eq!(claimed.state().pending().count(), 1);
//! # drop(orphans);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claim;
mod entry;
mod error;
mod file;
mod guardian;
mod record;
#[cfg(test)]
mod tests;

pub use claim::Claimed;
pub use entry::Entry;
pub use error::{LedgerError, LedgerErrorKind};
pub use file::Damage;
pub use guardian::{Guardian, CRASH_AT};
pub use record::{EntryState, Header, Owner, UndoOutcome, UndoRecord, UndoState};

use claim::Looked;
use std::path::{Path, PathBuf};

/// Where an undo's outcome is recorded: a live run's [`Entry`], or what a recovery collects
/// for the [`Claimed`] entry it recovers.
pub trait UndoLog: Send + Sync {
    /// Records how the undo of record `seq` ended.
    fn undone(&self, seq: u64, outcome: &UndoOutcome) -> Result<(), LedgerError>;
}

impl UndoLog for Entry {
    fn undone(&self, seq: u64, outcome: &UndoOutcome) -> Result<(), LedgerError> {
        Entry::undone(self, seq, outcome)
    }
}

/// The extension of entry files.
const EXTENSION: &str = "entry";

/// A ledger directory.
#[derive(Clone, Debug)]
pub struct Ledger {
    dir: PathBuf,
}

/// What a look for orphaned entries found.
#[derive(Debug, Default)]
pub struct Orphans {
    /// Entries whose owner is gone, now locked by this process for recovery.
    pub claimed: Vec<Claimed>,
    /// Entries that could not be read (each error names its file); an entry with no readable
    /// header is renamed with `.damaged` added, so that it is reported once.
    pub errors: Vec<LedgerError>,
}

impl Ledger {
    /// The ledger in `dir`, created if need be.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Ledger, LedgerError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| LedgerError::new(&dir, LedgerErrorKind::Create(e)))?;
        Ok(Ledger { dir })
    }

    /// The ledger's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a new entry for the run `header` describes, durably, and locks it for this
    /// process. An error here means no change may be made: there would be no record of it.
    pub fn begin(&self, header: &Header) -> Result<Entry, LedgerError> {
        Entry::create(&self.dir, header, None, false)
    }

    /// Like [`Ledger::begin`], with `guardian` watching the entry from another process: from
    /// before the entry exists when `now` (a run with a rollback block to recover), else from
    /// the first change recorded.
    pub fn begin_guarded(
        &self,
        header: &Header,
        guardian: std::sync::Arc<dyn Guardian>,
        now: bool,
    ) -> Result<Entry, LedgerError> {
        Entry::create(&self.dir, header, Some(guardian), now)
    }

    /// Whether the ledger holds an entry for run `run_id` (live, or left by a dead run).
    pub fn has_entry(&self, run_id: &str) -> bool {
        self.dir.join(entry::file_name(run_id)).exists()
    }

    /// Every entry whose owner is gone, each locked for this process's recovery. Entries that
    /// a live run or another recovery holds are left alone; so are files that are not entries.
    /// Quick when there are none: one directory listing.
    pub fn orphans(&self) -> Orphans {
        let mut found = Orphans::default();
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return found,
            Err(e) => {
                found
                    .errors
                    .push(LedgerError::new(&self.dir, LedgerErrorKind::Read(e)));
                return found;
            }
        };
        let mut paths: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
            .collect();
        paths.sort();
        for path in paths {
            match claim::look(&path, false) {
                Ok(Looked::Claimed(c)) => found.claimed.push(*c),
                Ok(Looked::Busy | Looked::Done) => {}
                Err(e) => {
                    if matches!(e.kind, LedgerErrorKind::NoHeader(_)) {
                        let mut damaged = path.clone().into_os_string();
                        damaged.push(".damaged");
                        let _ = std::fs::rename(&path, damaged);
                    }
                    found.errors.push(e);
                }
            }
        }
        found
    }

    /// Waits until the owner of the entry at `path` lets go of it (closes it, or dies), then
    /// takes it: `None` when the run closed it, the entry to recover when it did not. This
    /// blocks the calling thread: a guardian's whole work.
    pub fn wait_for(path: &Path) -> Result<Option<Claimed>, LedgerError> {
        match claim::look(path, true)? {
            Looked::Claimed(c) => Ok(Some(*c)),
            Looked::Busy | Looked::Done => Ok(None),
        }
    }
}
