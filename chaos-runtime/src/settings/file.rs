//! Finding and reading the settings file: `CHAOS_SETTINGS`, else the nearest `chaos.toml` up
//! to the workspace root; `.yaml` / `.yml` is read as Chaos Toolkit's settings.

use super::{Settings, SettingsError};
use std::path::{Path, PathBuf};

/// The settings file looked for when `CHAOS_SETTINGS` is not set.
///
/// ```
/// assert_eq!(chaos_runtime::settings::FILE_NAME, "chaos.toml");
/// ```
pub const FILE_NAME: &str = "chaos.toml";

impl Settings {
    /// The file [`Settings::load`] reads: the path in `CHAOS_SETTINGS` (an error when it does
    /// not exist), else the nearest `chaos.toml`; `None` without one.
    pub(super) fn locate() -> Result<Option<PathBuf>, SettingsError> {
        match crate::env::path(crate::env::SETTINGS) {
            Some(path) => {
                if !path.exists() {
                    return Err(SettingsError::not_found(crate::env::SETTINGS, path));
                }
                Ok(Some(path))
            }
            None => Ok(std::env::current_dir()
                .ok()
                .and_then(|dir| Settings::find_from(&dir))),
        }
    }

    /// The settings file of this run, without reading it: the path in `CHAOS_SETTINGS` when
    /// it is set (whether or not it exists), else [`Settings::find_from`] the current
    /// directory.
    ///
    /// ```no_run
    /// if let Some(path) = chaos_runtime::settings::Settings::find() {
    ///     println!("settings from {}", path.display());
    /// }
    /// ```
    pub fn find() -> Option<PathBuf> {
        crate::env::path(crate::env::SETTINGS).or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|dir| Settings::find_from(&dir))
        })
    }

    /// The nearest `chaos.toml` from `start` up to the workspace root: the nearest directory
    /// whose `Cargo.toml` has a `[workspace]` table, else the outermost directory with a
    /// `Cargo.toml`. Without any `Cargo.toml` above `start`, only `start` is looked in.
    /// (`cargo test` runs tests in the package's directory: its `chaos.toml` wins over the
    /// workspace's.)
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let root = tempfile::tempdir()?;
    /// std::fs::write(root.path().join("Cargo.toml"), "[workspace]\nmembers = [\"app\"]\n")?;
    /// std::fs::write(root.path().join("chaos.toml"), "")?;
    /// let app = root.path().join("app");
    /// std::fs::create_dir(&app)?;
    /// std::fs::write(app.join("Cargo.toml"), "[package]\nname = \"app\"\n")?;
    /// assert_eq!(Settings::find_from(&app), Some(root.path().join("chaos.toml")));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn find_from(start: &Path) -> Option<PathBuf> {
        let root = workspace_root(start);
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            if root.is_none_or(|root| root == dir) {
                break;
            }
        }
        None
    }

    /// Reads and parses the settings file at `path`: as Chaos Toolkit YAML when its name ends
    /// in `.yaml` or `.yml`, else as TOML. The `CHAOS_*` environment overrides are not
    /// applied (that is [`Settings::load`]'s job).
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("chaos.toml");
    /// std::fs::write(&path, "[variables]\nregion = \"eu-west-1\"\n")?;
    /// let settings = Settings::load_from(&path)?;
    /// assert_eq!(settings.variables["region"], "eu-west-1");
    /// assert_eq!(settings.path.as_deref(), Some(path.as_path()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_from(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SettingsError::read(path.to_path_buf(), source))?;
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let settings = if yaml {
            Settings::from_yaml_str(&text, path)?
        } else {
            Settings::from_toml_str(&text, path)?
        };
        tracing::debug!(path = %path.display(), "settings loaded");
        Ok(settings)
    }
}

/// The directory where [`Settings::find_from`] stops looking.
fn workspace_root(start: &Path) -> Option<&Path> {
    let mut outermost = None;
    for dir in start.ancestors() {
        if let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) {
            if manifest
                .lines()
                .any(|l| l.trim_start().starts_with("[workspace"))
            {
                return Some(dir);
            }
            outermost = Some(dir);
        }
    }
    outermost
}
