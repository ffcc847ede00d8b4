//! `[journal]`: where journals and the ledger go and how long a run's end waits for
//! notifications, with the `CHAOS_JOURNAL_DIR`, `CHAOS_LEDGER_DIR` and `CHAOS_FLUSH_TIMEOUT`
//! overrides.

use super::duration::parse_duration;
use super::parse::{join, Node, Parser, Res};
use super::SettingsError;
use std::path::PathBuf;
use std::time::Duration;

/// How long the harness waits at the end of a run for notifications, by default.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_FLUSH_TIMEOUT, Duration::from_secs(5));
/// ```
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) const JOURNAL_KEYS: &[&str] = &["dir", "ledger_dir", "flush_timeout"];

/// `[journal]`: where journals go and how long a run's end waits for notifications.
///
/// ```
/// use chaos_runtime::settings::JournalSettings;
/// let journal = JournalSettings::default();
/// assert_eq!(journal.dir, None);
/// assert_eq!(journal.ledger_dir, None);
/// assert_eq!(journal.flush_timeout, std::time::Duration::from_secs(5));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalSettings {
    /// The directory journals are written to (`None`: the harness's default). A relative
    /// path in the file is resolved against the settings file's directory;
    /// `CHAOS_JOURNAL_DIR` overrides it.
    pub dir: Option<PathBuf>,
    /// The directory of the write-ahead ledger (`None`: `ledger` in the journal directory).
    /// A relative path in the file is resolved against the settings file's directory;
    /// `CHAOS_LEDGER_DIR` overrides it.
    pub ledger_dir: Option<PathBuf>,
    /// How long the harness waits at the end of a run for notifications to be delivered
    /// (default 5s); `CHAOS_FLUSH_TIMEOUT` overrides it.
    pub flush_timeout: Duration,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            dir: None,
            ledger_dir: None,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
    }
}

impl JournalSettings {
    /// Applies `CHAOS_JOURNAL_DIR`, `CHAOS_LEDGER_DIR` and `CHAOS_FLUSH_TIMEOUT`, when they
    /// are set and not empty.
    pub(super) fn apply_env_overrides(&mut self) -> Result<(), SettingsError> {
        if let Some(dir) = crate::env::path(crate::env::JOURNAL_DIR) {
            self.dir = Some(dir);
        }
        if let Some(dir) = crate::env::path(crate::env::LEDGER_DIR) {
            self.ledger_dir = Some(dir);
        }
        if let Some(value) = crate::env::var(crate::env::FLUSH_TIMEOUT) {
            self.flush_timeout = parse_duration(&value)
                .map_err(|message| SettingsError::env(crate::env::FLUSH_TIMEOUT, value, message))?;
        }
        Ok(())
    }
}

impl Parser<'_> {
    pub(super) fn journal(&self, node: &Node) -> Res<JournalSettings> {
        let mut journal = JournalSettings::default();
        for e in self.table(node, "journal")? {
            let key = join("journal", &e.key);
            match e.key.as_str() {
                "dir" => journal.dir = Some(self.path(&e.node, &key)?),
                "ledger_dir" => journal.ledger_dir = Some(self.path(&e.node, &key)?),
                "flush_timeout" => journal.flush_timeout = self.duration(&e.node, &key)?,
                _ => return Err(self.unknown_key(e, "journal", JOURNAL_KEYS)),
            }
        }
        Ok(journal)
    }
}
