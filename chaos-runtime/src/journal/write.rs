//! Writing a journal to disk: atomically (a temporary file, then a rename), redacted.

use super::Journal;
use std::path::{Path, PathBuf};

impl Journal {
    /// Writes the journal to `path` atomically: a temporary file in the same directory, then a
    /// rename. Creates the directory. Registered secrets are redacted.
    pub fn write_atomic(&self, path: &Path) -> Result<(), JournalError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let serialized = if crate::redact::active() {
            serde_json::to_vec_pretty(&self.to_value())
        } else {
            // Nothing to redact: serialize straight from the journal, without a JSON tree.
            serde_json::to_vec_pretty(self)
        };
        let bytes = serialized.map_err(|source| JournalError::Serialize {
            path: path.to_owned(),
            source,
        })?;
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal.json".into());
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let io = |source| JournalError::Io {
            path: tmp.clone(),
            source,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            JournalError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }
}

/// A journal could not be written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file system error.
    #[error("could not write journal `{}`: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A serialization error.
    #[error("could not serialize journal `{}`: {source}", path.display())]
    Serialize {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
}
