//! An entry on disk: one record per line, `<CRC-32 in 8 hex digits> <JSON>\n`, appended and
//! made durable one at a time. Reading stops at the first line that is cut short or whose
//! checksum does not match (a process killed mid-write), and says where.

use super::error::{LedgerError, LedgerErrorKind};
use super::record::Record;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Where reading an entry stopped before its end: the records before it are used.
///
/// ```
/// use chaos_runtime::ledger::Damage;
/// let d = Damage { line: 3, reason: "cut short".into() };
/// assert_eq!(d.to_string(), "line 3: cut short");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Damage {
    /// The first line that could not be read (1-based).
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// `record` as one line of an entry.
pub(super) fn encode(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(record)?;
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

/// The records of an entry, up to the first damaged line.
pub(super) fn decode(bytes: &[u8]) -> (Vec<Record>, Option<Damage>) {
    let mut records = Vec::new();
    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let damage = |reason: &str| Damage {
            line: i + 1,
            reason: reason.to_owned(),
        };
        let Some(body) = line.strip_suffix(b"\n") else {
            return (records, Some(damage("cut short (a write was interrupted)")));
        };
        let (Some(sum), Some(json)) = (body.get(..8), body.get(9..)) else {
            return (records, Some(damage("too short to be a record")));
        };
        let sum = std::str::from_utf8(sum)
            .ok()
            .and_then(|s| u32::from_str_radix(s, 16).ok());
        if body.get(8) != Some(&b' ') || sum.is_none() {
            return (
                records,
                Some(damage("no checksum at the start of the line")),
            );
        }
        if sum != Some(crc32fast::hash(json)) {
            return (records, Some(damage("checksum mismatch")));
        }
        match serde_json::from_slice(json) {
            Ok(record) => records.push(record),
            Err(e) => return (records, Some(damage(&format!("not a record: {e}")))),
        }
    }
    (records, None)
}

/// Appends `record` to `file` and makes it durable.
pub(super) fn append(file: &mut File, path: &Path, record: &Record) -> Result<(), LedgerError> {
    let line = encode(record).map_err(|e| LedgerError::new(path, LedgerErrorKind::Encode(e)))?;
    file.write_all(&line)
        .and_then(|()| file.sync_data())
        .map_err(|e| LedgerError::new(path, LedgerErrorKind::Write(e)))
}

/// Everything in `file`, from its start.
pub(super) fn read_all(file: &mut File, path: &Path) -> Result<Vec<u8>, LedgerError> {
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bytes))
        .map_err(|e| LedgerError::new(path, LedgerErrorKind::Read(e)))?;
    Ok(bytes)
}

/// Makes the entries created, renamed or removed in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| LedgerError::new(dir, LedgerErrorKind::Write(e)))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
