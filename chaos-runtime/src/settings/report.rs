//! `[report]`: the reports a harness run writes besides its journals, with the `CHAOS_JUNIT`,
//! `CHAOS_HTML` and `CHAOS_HISTORY` overrides.

use super::parse::{join, Node, NodeValue, Parser, Res};
use std::path::PathBuf;

pub(super) const REPORT_KEYS: &[&str] = &["junit", "html", "history"];

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
    /// Where the harness writes the HTML report of its run (`None`: `report.html` in the
    /// journal directory; `off`: none). A relative path in the file is resolved against the
    /// settings file's directory; `CHAOS_HTML` overrides it.
    pub html: Option<PathBuf>,
    /// The run history's SQLite file (`None`: `history.sqlite` in the journal directory). A
    /// relative path in the file is resolved against the settings file's directory;
    /// `CHAOS_HISTORY` overrides it (`off` keeps no history).
    pub history: Option<PathBuf>,
}

impl ReportSettings {
    /// Applies `CHAOS_JUNIT`, `CHAOS_HTML` and `CHAOS_HISTORY` when they are set and not
    /// empty.
    pub(super) fn apply_env_overrides(&mut self) {
        if let Some(path) = crate::env::path(crate::env::JUNIT) {
            self.junit = Some(path);
        }
        if let Some(path) = crate::env::path(crate::env::HTML) {
            self.html = Some(path);
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
                "html" => report.html = Some(self.path_or_off(&e.node, &key)?),
                "history" => report.history = Some(self.path_or_off(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, "report", REPORT_KEYS)),
            }
        }
        Ok(report)
    }
}

impl Parser<'_> {
    /// A path, or `off` as it is (not resolved against the settings file's directory).
    fn path_or_off(&self, node: &Node, key: &str) -> Res<PathBuf> {
        if matches!(&node.value, NodeValue::Str(s) if s == "off") {
            return Ok(PathBuf::from("off"));
        }
        self.path(node, key)
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;
    use std::path::Path;

    #[test]
    fn paths_resolve_against_the_file_and_off_stays_off() {
        let s = Settings::from_toml_str(
            "[report]\nhtml = \"out/report.html\"\nhistory = \"off\"\n",
            Path::new("/repo/chaos.toml"),
        )
        .expect("settings");
        assert_eq!(
            s.report.html.as_deref(),
            Some(Path::new("/repo/out/report.html"))
        );
        assert_eq!(s.report.history.as_deref(), Some(Path::new("off")));
        let s =
            Settings::from_toml_str("[report]\nhtml = \"off\"\n", Path::new("/repo/chaos.toml"))
                .expect("settings");
        assert_eq!(s.report.html.as_deref(), Some(Path::new("off")));
        let err =
            Settings::from_toml_str("[report]\nhtlm = \"x\"\n", Path::new("/repo/chaos.toml"))
                .expect_err("a misspelled key");
        assert!(
            err.to_string().contains("htlm") && err.to_string().contains("html"),
            "{err}"
        );
    }
}
