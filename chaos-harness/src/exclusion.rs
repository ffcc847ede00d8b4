//! Experiments of one exclusion group never overlap.
//!
//! An experiment's hypothesis assumes it is the only fault in the system, so each run holds an
//! exclusive file lock on `<lock dir>/<group>.lock` from before its first activity until after
//! its last rollback. One mechanism covers both ways experiments run at once: the trial threads
//! of one process (`cargo test`; each trial opens the file afresh, and locks on two open files
//! conflict even within one process) and separate processes (`cargo nextest run`, or two
//! `cargo test` commands). A `parallel` experiment takes no lock.
//!
//! The lock dir is `CHAOS_LOCK_DIR`, else `<target>/chaos/locks/`, next to the journals, so
//! every test binary built in one target directory shares it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The environment variable naming the lock dir.
pub(crate) const LOCK_DIR_VAR: &str = chaos_runtime::env::LOCK_DIR;

/// Where the group locks live: `CHAOS_LOCK_DIR`, else `<target>/chaos/locks` of the target
/// directory holding the running test binary.
pub(crate) fn lock_dir() -> PathBuf {
    match chaos_runtime::env::path(LOCK_DIR_VAR) {
        Some(dir) => dir,
        None => crate::paths::target_dir().join("chaos").join("locks"),
    }
}

/// The lock of an exclusion group could not be taken; the run then ends `error` (running
/// without it could overlap another experiment of the group).
#[derive(Debug, thiserror::Error)]
#[error("could not take the lock of exclusion group `{group}` ({path}): {source}; set {LOCK_DIR_VAR} to a writable directory")]
pub(crate) struct LockError {
    group: String,
    path: String,
    #[source]
    source: std::io::Error,
}

/// A held group lock; released when dropped (closing the file releases it, also when the
/// process dies).
#[derive(Debug)]
pub(crate) struct GroupLock {
    _file: File,
}

/// Takes the lock of `group` for experiment `experiment`, waiting for the experiment of the
/// group that holds it, if any, to end.
pub(crate) fn acquire(experiment: &str, group: &str) -> Result<GroupLock, LockError> {
    acquire_in(&lock_dir(), experiment, group)
}

fn acquire_in(dir: &Path, experiment: &str, group: &str) -> Result<GroupLock, LockError> {
    let path = dir.join(format!("{group}.lock"));
    let fail = |source| LockError {
        group: group.to_owned(),
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = holder(&mut file);
            tracing::info!(
                experiment,
                group,
                lock = %path.display(),
                "waiting for {holder} to end: experiments of exclusion group `{group}` run one at a time"
            );
            let waiting = Instant::now();
            loop {
                match file.lock() {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(fail(e)),
                }
            }
            tracing::info!(
                experiment,
                group,
                waited_ms = waiting.elapsed().as_millis() as u64,
                "took the lock of exclusion group `{group}`"
            );
        }
        Err(TryLockError::Error(e)) => return Err(fail(e)),
    }
    // Who holds it, for the log line of the next one to wait (best effort: the lock is what
    // matters, not this note).
    let note = format!("`{experiment}` (pid {})\n", std::process::id());
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(note.as_bytes()));
    if let Err(e) = written {
        tracing::debug!(lock = %path.display(), "could not note the lock's holder: {e}");
    }
    tracing::debug!(experiment, group, lock = %path.display(), "holding the exclusion group's lock");
    Ok(GroupLock { _file: file })
}

/// The holder's note in a lock file, or a generic name.
fn holder(file: &mut File) -> String {
    let mut note = String::new();
    let read = file.rewind().and_then(|()| file.read_to_string(&mut note));
    match read {
        Ok(_) if !note.trim().is_empty() => note.trim().to_owned(),
        _ => "the experiment holding it".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_group_is_held_by_one_trial_at_a_time_even_within_a_process() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire_in(dir.path(), "suite::a", "default").unwrap();
        let (tx, rx) = mpsc::channel();
        let d = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let lock = acquire_in(&d, "suite::b", "default").unwrap();
            tx.send(()).unwrap();
            lock
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second trial waits while the first holds the group"
        );
        // Another group is not held up.
        acquire_in(dir.path(), "suite::c", "other").unwrap();
        drop(first);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the second trial goes on once the first is done");
        let second = waiter.join().unwrap();
        let note = std::fs::read_to_string(dir.path().join("default.lock")).unwrap();
        assert!(note.starts_with("`suite::b` (pid "), "{note}");
        drop(second);
    }

    #[test]
    fn an_unusable_lock_dir_is_an_error_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "").unwrap();
        let e = acquire_in(&file, "suite::a", "default").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("could not take the lock of exclusion group `default`"),
            "{msg}"
        );
        assert!(
            msg.ends_with("set CHAOS_LOCK_DIR to a writable directory"),
            "{msg}"
        );
    }
}
