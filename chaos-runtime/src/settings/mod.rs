//! Settings: one file per run holding variables, secrets, where journals go, notification
//! channels, credentials and free-form target settings.
//!
//! [`Settings::load`] finds the file: the path in `CHAOS_SETTINGS` when it is set, else the
//! nearest `chaos.toml` from the current directory up to the workspace root (see
//! [`Settings::find_from`]). No file is not an error (the settings are empty defaults); a
//! `CHAOS_SETTINGS` naming a missing file is. A `.yaml` / `.yml` file is read as Chaos
//! Toolkit's `settings.yaml`, of which the `notifications` section is used.
//!
//! Every problem is reported with the file, the line and the key:
//! `chaos.toml:14: notifications[1].timeout: malformed duration "5x": ...`.
//!
//! ```
//! use chaos_runtime::settings::{ChannelSettings, Settings};
//! use std::path::Path;
//! use std::time::Duration;
//!
//! let text = r#"
//! [variables]
//! service_url = "http://127.0.0.1:8080"
//!
//! [journal]
//! dir = "journals"
//! flush_timeout = "2s"
//!
//! [[notifications]]
//! type = "http"
//! url = "http://127.0.0.1:9000/events"
//! events = ["run-failed"]
//! "#;
//! let settings = Settings::from_toml_str(text, Path::new("/repo/chaos.toml"))?;
//! assert_eq!(settings.variables["service_url"], "http://127.0.0.1:8080");
//! assert_eq!(settings.journal.dir.as_deref(), Some(Path::new("/repo/journals")));
//! assert_eq!(settings.journal.flush_timeout, Duration::from_secs(2));
//! let ChannelSettings::Http(http) = &settings.notifications[0] else { unreachable!() };
//! assert_eq!(http.name, "http[0]");
//! assert_eq!(http.url.expose(), "http://127.0.0.1:9000/events");
//! assert!(settings.notifications[0].accepts("run-failed"));
//! assert!(!settings.notifications[0].accepts("run-started"));
//!
//! let err = Settings::from_toml_str("[journal]\nflush_timeout = \"5x\"\n", Path::new("chaos.toml"))
//!     .unwrap_err();
//! assert!(err.to_string().starts_with("chaos.toml:2: journal.flush_timeout: malformed duration \"5x\""));
//! # Ok::<(), chaos_runtime::settings::SettingsError>(())

// The settings, one file per idea: `file` finds and reads the file, `toml` and `yaml` turn
// its text into the format-independent tree of `parse`, which validates it section by section
// (`secrets` with `[variables]`, `journal`, `notifications`, `credentials`; `[targets]` is
// free-form, kept as TOML). `error` is a leaf.
mod credentials;
mod duration;
pub use duration::parse_duration;
pub(crate) use duration::DURATION_HELP;
mod error;
mod file;
mod journal;
mod notifications;
mod parse;
mod report;
mod schedule;
mod schema;
mod secrets;
mod toml;
mod yaml;

pub use credentials::{CredentialSettings, DEFAULT_K8S_TOKEN_PATH};
pub use error::{SettingsError, SettingsErrorKind};
pub use file::FILE_NAME;
pub use journal::{JournalSettings, DEFAULT_FLUSH_TIMEOUT};
pub use notifications::{
    ChannelSettings, HttpChannelSettings, SlackChannelSettings, DEFAULT_BACKOFF,
    DEFAULT_CHANNEL_TIMEOUT, DEFAULT_RETRIES,
};
pub use report::ReportSettings;
pub use schedule::ScheduleSettings;
pub use schema::{json_schema, EXAMPLE};
pub use secrets::SettingValue;

use crate::redact::Secret;
use parse::{join, Entry, Format, Parser, Res};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The top-level tables of `chaos.toml`.
const SECTIONS: &[&str] = &[
    "variables",
    "secrets",
    "journal",
    "report",
    "schedule",
    "notifications",
    "credentials",
    "targets",
];

/// A run's settings, from `chaos.toml` (or Chaos Toolkit's `settings.yaml`).
///
/// `Settings::default()` is what a run gets without a settings file.
///
/// ```
/// use chaos_runtime::settings::Settings;
/// let settings = Settings::default();
/// assert!(settings.path.is_none() && settings.notifications.is_empty());
/// assert_eq!(settings.journal.flush_timeout, chaos_runtime::settings::DEFAULT_FLUSH_TIMEOUT);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// The file the settings were read from; `None` for defaults.
    pub path: Option<PathBuf>,
    /// `[variables]`: values for `cx.var("name")`. The environment variable of the same name
    /// overrides them (`cx.var` checks it first).
    pub variables: BTreeMap<String, String>,
    /// `[secrets]`: every value registered with the [redactor](crate::redact).
    pub secrets: BTreeMap<String, Secret>,
    /// `[journal]`.
    pub journal: JournalSettings,
    /// `[report]`.
    pub report: ReportSettings,
    /// `[schedule]`.
    pub schedule: ScheduleSettings,
    /// `[[notifications]]`, in file order.
    pub notifications: Vec<ChannelSettings>,
    /// `[credentials.NAME]`.
    pub credentials: BTreeMap<String, CredentialSettings>,
    /// `[targets]`, free-form: each target reads its own part.
    pub targets: ::toml::Table,
}

impl Settings {
    /// The run's settings: the file [`Settings::find`] finds, parsed, with the environment
    /// overrides `CHAOS_JOURNAL_DIR` and `CHAOS_FLUSH_TIMEOUT` applied. No file gives the
    /// defaults; a `CHAOS_SETTINGS` naming a missing file is an error.
    ///
    /// ```no_run
    /// let settings = chaos_runtime::settings::Settings::load()?;
    /// println!("journals go to {:?}", settings.journal.dir);
    /// # Ok::<(), chaos_runtime::settings::SettingsError>(())
    /// ```
    pub fn load() -> Result<Settings, SettingsError> {
        let mut settings = match Settings::locate()? {
            Some(path) => Settings::load_from(&path)?,
            None => {
                tracing::debug!("no {FILE_NAME} found; using default settings");
                Settings::default()
            }
        };
        settings.journal.apply_env_overrides()?;
        settings.report.apply_env_overrides();
        Ok(settings)
    }
}

impl Parser<'_> {
    /// The settings, section by section, from the top-level entries of the file.
    fn settings(&mut self, top: &[Entry]) -> Res<Settings> {
        if self.format == Format::Toml {
            if let Some(e) = top.iter().find(|e| !SECTIONS.contains(&e.key.as_str())) {
                return Err(self.err(
                    e.line,
                    &join("", &e.key),
                    format!("unknown section; valid sections: {}", SECTIONS.join(", ")),
                ));
            }
        }
        let section = |name: &str| top.iter().find(|e| e.key == name);
        let mut settings = Settings {
            path: Some(self.file.to_path_buf()),
            ..Settings::default()
        };
        if let Some(e) = section("variables") {
            self.variables(&e.node)?;
            settings.variables = self.variables.clone();
        }
        if let Some(e) = section("secrets") {
            self.secrets(&e.node)?;
            settings.secrets = self.secrets.clone();
        }
        if let Some(e) = section("journal") {
            settings.journal = self.journal(&e.node)?;
        }
        if let Some(e) = section("report") {
            settings.report = self.report(&e.node)?;
        }
        if let Some(e) = section("schedule") {
            settings.schedule = self.schedule(&e.node)?;
        }
        if let Some(e) = section("notifications") {
            settings.notifications = self.notifications(&e.node)?;
        }
        if let Some(e) = section("credentials") {
            settings.credentials = self.credentials(&e.node)?;
        }
        if let Some(e) = section("targets") {
            self.table(&e.node, "targets")?;
        }
        Ok(settings)
    }
}
