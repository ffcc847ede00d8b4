//! What can go wrong with the ledger: every error names the entry or directory it concerns.

use std::path::{Path, PathBuf};

/// A ledger operation failed.
///
/// ```
/// use chaos_runtime::ledger::Ledger;
/// // A ledger under a regular file cannot be created.
/// let file = std::env::temp_dir().join(format!("chaos-ledger-doc-{}", std::process::id()));
/// std::fs::write(&file, b"not a directory")?;
/// let err = Ledger::open(file.join("ledger")).unwrap_err();
/// assert!(err.to_string().contains("chaos-ledger-doc"), "{err}");
/// std::fs::remove_file(&file)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[error("ledger {}: {kind}", path.display())]
pub struct LedgerError {
    /// The ledger directory or entry file concerned.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: LedgerErrorKind,
}

/// What went wrong, in a [`LedgerError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerErrorKind {
    /// The directory could not be created or an entry could not be created in it.
    #[error("cannot create: {0}")]
    Create(#[source] std::io::Error),
    /// A record could not be written or made durable.
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
    /// The entry could not be read.
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// The entry's lock could not be taken (other than because another process holds it).
    #[error("cannot lock: {0}")]
    Lock(#[source] std::io::Error),
    /// The entry has no readable header record: nothing in it can be recovered.
    #[error("no readable header ({0})")]
    NoHeader(String),
    /// A record could not be encoded (a stash or undo that is not JSON).
    #[error("cannot encode a record: {0}")]
    Encode(#[source] serde_json::Error),
}

impl LedgerError {
    pub(super) fn new(path: &Path, kind: LedgerErrorKind) -> LedgerError {
        LedgerError {
            path: path.to_owned(),
            kind,
        }
    }
}
