//! A live run's entry: created with its header before the method, appended to as targets act,
//! closed when the rollbacks finished. The run holds the entry's lock as long as it lives.

use super::error::{LedgerError, LedgerErrorKind};
use super::file::{append, sync_dir};
use super::guardian::{crash_point, Guardian};
use super::record::{Header, Owner, Record, UndoOutcome, UndoRecord};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The file name of a run's entry.
pub(super) fn file_name(run_id: &str) -> String {
    format!("{run_id}.{}", super::EXTENSION)
}

/// A run's entry in the ledger, locked by this process until it is closed or the process
/// ends. Each method writes one record and makes it durable before it returns.
///
/// ```
/// use chaos_runtime::ledger::{Header, Ledger, UndoOutcome, UndoRecord};
/// use serde_json::json;
/// let dir = std::env::temp_dir().join(format!("chaos-ledger-entry-doc-{}", std::process::id()));
/// let ledger = Ledger::open(&dir)?;
/// let entry = ledger.begin(&Header::new("shop::scale_down", 7))?;
/// let seq = entry.intend(&UndoRecord::new("k8s.scale", "restore `web` to 3",
///     json!({"name": "web", "replicas": 3})))?;
/// entry.applied(seq)?;
/// // ... the rollbacks run the undo ...
/// entry.undone(seq, &UndoOutcome::Done)?;
/// let path = entry.path().to_owned();
/// entry.close()?;
/// assert!(!path.exists(), "a closed entry is removed");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Entry {
    path: PathBuf,
    dir: PathBuf,
    run_id: String,
    experiment: String,
    inner: Mutex<Inner>,
    /// Who watches the entry from another process, once it was asked to.
    guardian: Option<Arc<dyn Guardian>>,
    watched: AtomicBool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("path", &self.path)
            .field("guarded", &self.guardian.is_some())
            .field("watched", &self.watched.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Inner {
    file: File,
    next: u64,
    /// Undo records whose undo has not ended `Done`.
    pending: std::collections::BTreeSet<u64>,
}

impl Entry {
    /// Writes `header` to a new entry in `dir`: under a temporary name first, locked, synced,
    /// then renamed, so that no one sees an entry without its header or takes it for dead.
    /// With `guardian`, the entry is watched by it from its first change; with `watch_now`
    /// too, the guardian is asked before the entry exists, so that a process killed right
    /// after writing it is recovered at once.
    pub(super) fn create(
        dir: &Path,
        header: &Header,
        guardian: Option<Arc<dyn Guardian>>,
        watch_now: bool,
    ) -> Result<Entry, LedgerError> {
        let name = file_name(&header.run_id);
        let temp = dir.join(format!(".{name}.new"));
        let path = dir.join(name);
        let mut watched = false;
        if let (Some(g), true) = (&guardian, watch_now) {
            watched = true;
            if let Err(e) = g.watch(&path) {
                tracing::warn!(entry = %path.display(), error = %e,
                    "no guardian watches this run: if the process dies, the next harness start recovers it");
            }
        }
        let create = |e| LedgerError::new(&temp, LedgerErrorKind::Create(e));
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&temp)
            .map_err(create)?;
        file.lock()
            .map_err(|e| LedgerError::new(&temp, LedgerErrorKind::Lock(e)))?;
        let written = append(&mut file, &temp, &Record::Header(header.clone()))
            .and_then(|()| {
                std::fs::rename(&temp, &path)
                    .map_err(|e| LedgerError::new(&path, LedgerErrorKind::Create(e)))
            })
            .and_then(|()| sync_dir(dir));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        crash_point();
        Ok(Entry {
            path,
            dir: dir.to_owned(),
            run_id: header.run_id.clone(),
            experiment: header.experiment.clone(),
            inner: Mutex::new(Inner {
                file,
                next: 1,
                pending: Default::default(),
            }),
            guardian,
            watched: AtomicBool::new(watched),
        })
    }

    /// Asks the entry's guardian, if it has one, to watch it now (once; later calls do
    /// nothing). A guardian that cannot start is logged: the next recovery finds the entry.
    fn watch(&self) {
        let Some(guardian) = &self.guardian else {
            return;
        };
        if self.watched.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Err(e) = guardian.watch(&self.path) {
            tracing::warn!(entry = %self.path.display(), error = %e,
                "no guardian watches this run: if the process dies, the next harness start recovers it");
        }
    }

    /// The entry's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run's experiment.
    pub fn experiment(&self) -> &str {
        &self.experiment
    }

    fn write(&self, record: impl FnOnce(u64) -> Record) -> Result<u64, LedgerError> {
        let mut inner = self.lock();
        let seq = inner.next;
        append(&mut inner.file, &self.path, &record(seq))?;
        inner.next += 1;
        drop(inner);
        crash_point();
        Ok(seq)
    }

    /// Records, durably, how to undo a change about to be made; returns the record's number.
    /// Call it before the change takes effect.
    pub fn intend(&self, undo: &UndoRecord) -> Result<u64, LedgerError> {
        // Watched before there is anything to recover.
        self.watch();
        let seq = self.write(|seq| Record::Intent {
            seq,
            undo: undo.clone(),
            standby: false,
        })?;
        self.lock().pending.insert(seq);
        Ok(seq)
    }

    /// Records, durably, how to undo a change about to be made, for a recovery only: while
    /// the run lives, its own rollback block undoes it (a rollback helper such as
    /// `k8s::restore_scales`, which then marks it [undone](Entry::undone)). A run that ends
    /// without undoing it closes its entry all the same; a run that dies leaves it to the
    /// recovery. Returns the record's number.
    pub fn standby(&self, undo: &UndoRecord) -> Result<u64, LedgerError> {
        self.watch();
        self.write(|seq| Record::Intent {
            seq,
            undo: undo.clone(),
            standby: true,
        })
    }

    /// Whether an undo recorded here has not ended `Done` (it failed, or has not run): the
    /// entry is then to be left for a recovery rather than closed.
    pub fn has_pending(&self) -> bool {
        !self.lock().pending.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that the change of undo record `seq` took effect.
    pub fn applied(&self, seq: u64) -> Result<(), LedgerError> {
        self.write(|_| Record::Applied { seq }).map(drop)
    }

    /// Records how the undo of record `seq` ended.
    pub fn undone(&self, seq: u64, outcome: &UndoOutcome) -> Result<(), LedgerError> {
        self.write(|_| Record::Undone {
            seq,
            outcome: outcome.clone(),
            by: Owner::this_process(),
            at: crate::time::rfc3339(std::time::SystemTime::now()),
        })?;
        if outcome.is_done() {
            self.lock().pending.remove(&seq);
        }
        Ok(())
    }

    /// Closes the entry: the run's rollbacks finished. The entry is removed (the run's journal
    /// holds what happened); its lock goes with the last handle.
    pub fn close(&self) -> Result<(), LedgerError> {
        self.write(|_| Record::Closed {
            at: crate::time::rfc3339(std::time::SystemTime::now()),
        })?;
        std::fs::remove_file(&self.path)
            .map_err(|e| LedgerError::new(&self.path, LedgerErrorKind::Write(e)))?;
        sync_dir(&self.dir)
    }
}
