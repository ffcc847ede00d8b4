//! Entries whose run is gone, taken for recovery: by a harness starting (any entry whose lock
//! is free) or by a guardian (waiting on one entry's lock until its owner lets go).

use super::error::{LedgerError, LedgerErrorKind};
use super::file::{append, decode, read_all, sync_dir, Damage};
use super::record::{EntryState, Owner, Record, UndoOutcome};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// An entry whose owner is gone, locked by this process for its recovery: no other process
/// can take it until it is finished or dropped.
///
/// Dropping it without [`Claimed::finish`] leaves the entry for the next recovery (an undo
/// failed, say), with what was recorded meanwhile.
#[derive(Debug)]
pub struct Claimed {
    path: PathBuf,
    file: File,
    state: EntryState,
    damage: Option<Damage>,
}

impl Claimed {
    /// The entry's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's state as the entry records it.
    pub fn state(&self) -> &EntryState {
        &self.state
    }

    /// Where reading the entry stopped early (a write cut short), if it did: the records
    /// before it are in [`Claimed::state`].
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }

    /// Records, durably, how the undo of record `seq` ended in this recovery.
    pub fn undone(&mut self, seq: u64, outcome: &UndoOutcome) -> Result<(), LedgerError> {
        // A damaged tail is cut first, so that what is appended can be read back.
        if self.damage.take().is_some() {
            self.rewrite()?;
        }
        append(
            &mut self.file,
            &self.path,
            &Record::Undone {
                seq,
                outcome: outcome.clone(),
                by: Owner::this_process(),
                at: crate::time::rfc3339(std::time::SystemTime::now()),
            },
        )?;
        if let Some(u) = self.state.undos.iter_mut().find(|u| u.seq == seq) {
            u.outcome = Some(outcome.clone());
        }
        Ok(())
    }

    /// Writes the readable records again in place of the file's content, without the
    /// damaged tail.
    fn rewrite(&mut self) -> Result<(), LedgerError> {
        let write = |e| LedgerError::new(&self.path, LedgerErrorKind::Write(e));
        let bytes = read_all(&mut self.file, &self.path)?;
        let (records, _) = decode(&bytes);
        self.file.set_len(0).map_err(write)?;
        for record in &records {
            append(&mut self.file, &self.path, record)?;
        }
        Ok(())
    }

    /// The recovery is over: the entry is closed and removed.
    pub fn finish(mut self) -> Result<(), LedgerError> {
        append(
            &mut self.file,
            &self.path,
            &Record::Closed {
                at: crate::time::rfc3339(std::time::SystemTime::now()),
            },
        )?;
        std::fs::remove_file(&self.path)
            .map_err(|e| LedgerError::new(&self.path, LedgerErrorKind::Write(e)))?;
        match self.path.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }
}

/// What became of one entry file looked at for recovery.
pub(super) enum Looked {
    /// Its owner or another recovery holds it.
    Busy,
    /// It is gone, or its run had closed it: nothing to do.
    Done,
    /// Taken for recovery.
    Claimed(Box<Claimed>),
}

/// Opens the entry at `path`, takes its lock (waiting for it when `wait`) and reads it.
pub(super) fn look(path: &Path, wait: bool) -> Result<Looked, LedgerError> {
    let mut file = match OpenOptions::new().read(true).append(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Looked::Done),
        Err(e) => return Err(LedgerError::new(path, LedgerErrorKind::Read(e))),
    };
    let locked = if wait {
        file.lock().map_err(TryLockError::Error)
    } else {
        file.try_lock()
    };
    match locked {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Looked::Busy),
        Err(TryLockError::Error(e)) => {
            return Err(LedgerError::new(path, LedgerErrorKind::Lock(e)))
        }
    }
    let bytes = read_all(&mut file, path)?;
    let (records, damage) = decode(&bytes);
    let Some(state) = EntryState::from_records(records) else {
        let why = match &damage {
            Some(d) => d.to_string(),
            None if bytes.is_empty() => "the file is empty".to_owned(),
            None => "the first record is not a header".to_owned(),
        };
        return Err(LedgerError::new(path, LedgerErrorKind::NoHeader(why)));
    };
    if state.closed {
        // Closed by its run, which died before removing it, or already removed by the time
        // the lock was ours.
        if path.exists() {
            let _ = std::fs::remove_file(path);
        }
        return Ok(Looked::Done);
    }
    if !path.exists() {
        return Ok(Looked::Done);
    }
    Ok(Looked::Claimed(Box::new(Claimed {
        path: path.to_owned(),
        file,
        state,
        damage,
    })))
}
