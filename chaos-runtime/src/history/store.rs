//! The SQLite file: opened in WAL mode with a busy timeout, written in immediate
//! transactions, so harness processes started at once append without losing a row.

use super::row::Run;
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a write waits for another process's write before it gives up.
const BUSY: Duration = Duration::from_secs(10);

/// The store's schema version (`PRAGMA user_version`): 1 the runs, 2 the starts claimed for
/// minimum intervals.
const VERSION: i64 = 2;

/// A history file that cannot be opened, read or written, with its path.
#[derive(Debug, thiserror::Error)]
#[error("history {}: {source}", path.display())]
pub struct HistoryError {
    /// The file.
    pub path: PathBuf,
    /// What SQLite said.
    #[source]
    pub source: rusqlite::Error,
}

/// An open history file.
#[derive(Debug)]
pub struct Store {
    pub(super) path: PathBuf,
    pub(super) conn: Connection,
}

impl Store {
    /// Opens (creating when missing, with its directory) the history at `path`.
    pub fn open(path: &Path) -> Result<Store, HistoryError> {
        let err = |source| HistoryError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY).map_err(err)?;
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version < 1 {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS runs (
                     id INTEGER PRIMARY KEY,
                     experiment TEXT NOT NULL,
                     outcome TEXT NOT NULL,
                     start TEXT NOT NULL,
                     duration_ms INTEGER,
                     seed TEXT,
                     findings TEXT NOT NULL,
                     revision TEXT,
                     journal TEXT,
                     probes INTEGER NOT NULL,
                     probes_met INTEGER NOT NULL,
                     recovery_ms INTEGER,
                     weight INTEGER NOT NULL,
                     source TEXT NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, start);",
            )
            .map_err(err)?;
        }
        if version < 2 {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS starts (
                     experiment TEXT NOT NULL,
                     start TEXT NOT NULL,
                     pid INTEGER NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS starts_by_experiment ON starts (experiment, start);",
            )
            .map_err(err)?;
        }
        if version < VERSION {
            tx.pragma_update(None, "user_version", VERSION)
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(Store {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `run`.
    pub fn append(&mut self, run: &Run) -> Result<(), HistoryError> {
        let findings = serde_json::to_string(&run.findings).unwrap_or_else(|_| "[]".into());
        let path = &self.path;
        let err = |source| HistoryError {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        tx.execute(
            "INSERT INTO runs (experiment, outcome, start, duration_ms, seed, findings, revision,
                               journal, probes, probes_met, recovery_ms, weight, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run.experiment,
                run.outcome,
                run.start,
                run.duration_ms,
                run.seed.map(|s| s.to_string()),
                findings,
                run.revision,
                run.journal.as_ref().map(|j| j.display().to_string()),
                run.probes,
                run.probes_met,
                run.recovery_ms,
                run.weight,
                run.source,
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Every run (of `experiment` when given), oldest first.
    pub fn runs(&self, experiment: Option<&str>) -> Result<Vec<Run>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT experiment, outcome, start, duration_ms, seed, findings, revision, journal,
                        probes, probes_met, recovery_ms, weight, source
                 FROM runs WHERE ?1 IS NULL OR experiment = ?1 ORDER BY start, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![experiment], |r| {
                let findings: String = r.get(5)?;
                let seed: Option<String> = r.get(4)?;
                let journal: Option<String> = r.get(7)?;
                Ok(Run {
                    experiment: r.get(0)?,
                    outcome: r.get(1)?,
                    start: r.get(2)?,
                    duration_ms: r.get(3)?,
                    seed: seed.and_then(|s| s.parse().ok()),
                    findings: serde_json::from_str(&findings).unwrap_or_default(),
                    revision: r.get(6)?,
                    journal: journal.map(PathBuf::from),
                    probes: r.get(8)?,
                    probes_met: r.get(9)?,
                    recovery_ms: r.get(10)?,
                    weight: r.get(11)?,
                    source: r.get(12)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The outcomes and start times of `experiment`'s last `n` runs, oldest first.
    pub fn recent(
        &self,
        experiment: &str,
        n: usize,
    ) -> Result<Vec<(String, String)>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT outcome, start FROM runs WHERE experiment = ?1
                 ORDER BY start DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![experiment, n as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = rows
            .collect::<Result<Vec<(String, String)>, _>>()
            .map_err(|e| self.err(e))?;
        out.reverse();
        Ok(out)
    }
}
