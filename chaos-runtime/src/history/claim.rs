//! Minimum intervals: whether an experiment started too recently, checked and recorded in one
//! immediate transaction, so that of processes started at once exactly one gets the start.

use super::store::{HistoryError, Store};
use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, TransactionBehavior};
use std::time::Duration;

/// What [`Store::claim`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This start is recorded: run.
    Granted,
    /// A start of the experiment is within the interval: skip.
    TooSoon {
        /// That start.
        last: Timestamp,
        /// When the interval since it is over.
        next: Timestamp,
    },
}

/// The latest start in `starts` (RFC 3339 texts; unreadable ones are left out).
fn latest(starts: impl IntoIterator<Item = String>) -> Option<Timestamp> {
    starts
        .into_iter()
        .filter_map(|s| s.parse::<Timestamp>().ok())
        .max()
}

const LATEST: &str = "SELECT start FROM starts WHERE experiment = ?1
                      UNION ALL SELECT start FROM runs WHERE experiment = ?1";

impl Store {
    /// The latest start of `experiment`: a run in the history, or a start claimed by
    /// [`Store::claim`] whose run has not ended yet.
    pub fn last_start(&self, experiment: &str) -> Result<Option<Timestamp>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(LATEST).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![experiment], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let starts = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(latest(starts))
    }

    /// Records a start of `experiment` at `now` unless one (a run, or another claim) is less
    /// than `interval` before it: the check and the record are one immediate transaction, so
    /// that processes claiming at once (nextest) get one [`Claim::Granted`] per interval.
    ///
    /// ```
    /// use chaos_runtime::history::{Claim, Store};
    /// use std::time::Duration;
    /// let dir = tempfile::tempdir()?;
    /// let mut store = Store::open(&dir.path().join("history.sqlite"))?;
    /// let hour = Duration::from_secs(3600);
    /// let at: jiff::Timestamp = "2026-12-07T09:00:00Z".parse()?;
    /// assert_eq!(store.claim("shop::latency", hour, at)?, Claim::Granted);
    /// let later: jiff::Timestamp = "2026-12-07T09:30:00Z".parse()?;
    /// let Claim::TooSoon { next, .. } = store.claim("shop::latency", hour, later)? else { panic!() };
    /// assert_eq!(next.to_string(), "2026-12-07T10:00:00Z");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claim(
        &mut self,
        experiment: &str,
        interval: Duration,
        now: Timestamp,
    ) -> Result<Claim, HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let last = {
            let mut stmt = tx.prepare_cached(LATEST).map_err(err)?;
            let rows = stmt
                .query_map(params![experiment], |r| r.get::<_, String>(0))
                .map_err(err)?;
            latest(rows.collect::<Result<Vec<_>, _>>().map_err(err)?)
        };
        if let Some(last) = last {
            let next = last
                .checked_add(SignedDuration::try_from(interval).unwrap_or(SignedDuration::MAX))
                .unwrap_or(Timestamp::MAX);
            if now < next {
                return Ok(Claim::TooSoon { last, next });
            }
        }
        tx.execute(
            "INSERT INTO starts (experiment, start, pid) VALUES (?1, ?2, ?3)",
            params![experiment, now.to_string(), std::process::id()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Claim::Granted)
    }
}
