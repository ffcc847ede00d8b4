//! `[report]`: the reports a harness run writes besides its journals, with the `CHAOS_JUNIT`
//! and `CHAOS_HISTORY` overrides.

use super::parse::{join, Node, Parser, Res};
use std::path::PathBuf;

const REPORT_KEYS: &[&str] = &["junit", "history"];

/// `[report]`: the reports a harness run writes besides its journals.
///
/// ```
/// use chaos_runtime::settings::Settings;
/// use std::path::Path;
/// let settings = Settings::from_toml_str("[report]\njunit = \"reports/junit.xml\"\n", Path::new("/repo/chaos.toml"))?;
/// assert_eq!(settings.report.junit.as_deref(), Some(Path::new("/repo/reports/junit.xml")));
/// # Ok::<(), chaos_runtime::settings::SettingsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportSettings {
    /// Where the harness writes a JUnit XML file of its run, one testcase per experiment
    /// (`None`: none). A relative path in the file is resolved against the settings file's
    /// directory; `CHAOS_JUNIT` overrides it.
    pub junit: Option<PathBuf>,
    /// The run history's SQLite file (`None`: `history.sqlite` in the journal directory). A
    /// relative path in the file is resolved against the settings file's directory;
    /// `CHAOS_HISTORY` overrides it (`off` keeps no history).
    pub history: Option<PathBuf>,
}

impl ReportSettings {
    /// Applies `CHAOS_JUNIT` when it is set and not empty.
    pub(super) fn apply_env_overrides(&mut self) {
        if let Some(path) = crate::env::path(crate::env::JUNIT) {
            self.junit = Some(path);
        }
        if let Some(path) = crate::env::path(crate::env::HISTORY) {
            self.history = Some(path);
        }
    }
}

impl Parser<'_> {
    pub(super) fn report(&self, node: &Node) -> Res<ReportSettings> {
        let mut report = ReportSettings::default();
        for e in self.table(node, "report")? {
            let key = join("report", &e.key);
            match e.key.as_str() {
                "junit" => report.junit = Some(self.path(&e.node, &key)?),
                "history" => report.history = Some(self.path(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, "report", REPORT_KEYS)),
            }
        }
        Ok(report)
    }
}
