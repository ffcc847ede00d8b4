//! [`SettingsError`]: settings that cannot be used. A leaf: it imports nothing of this crate.

use std::fmt;
use std::path::{Path, PathBuf};

/// Settings that cannot be used.
///
/// The context is carried once: the [`file`](Self::file) and the [`line`](Self::line) (when
/// the error is about one), and what is wrong, the [`kind`](Self::kind) (with the key). The
/// message names the file, the line and the key:
/// `chaos.toml:14: notifications[1].timeout: malformed duration "5x": ...`.
///
/// ```
/// use chaos_runtime::settings::{Settings, SettingsErrorKind};
/// use std::path::Path;
/// let err = Settings::from_toml_str("[jurnal]\n", Path::new("chaos.toml")).unwrap_err();
/// assert_eq!(err.file(), Some(Path::new("chaos.toml")));
/// assert_eq!(err.line(), Some(1));
/// assert!(matches!(err.kind(), SettingsErrorKind::Invalid { key, .. } if key == "jurnal"));
/// assert!(err.to_string().starts_with("chaos.toml:1: jurnal: unknown section; valid sections: variables, "));
/// ```
#[derive(Debug)]
pub struct SettingsError {
    file: Option<PathBuf>,
    line: Option<usize>,
    kind: SettingsErrorKind,
}

/// What is wrong, in a [`SettingsError`] (which carries the file and the line).
#[derive(Debug)]
#[non_exhaustive]
pub enum SettingsErrorKind {
    /// An environment variable (`CHAOS_SETTINGS`) names a settings file that does not exist.
    NotFound {
        /// The variable.
        var: &'static str,
    },
    /// The settings file could not be read.
    Read {
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML (or YAML).
    Syntax {
        /// `TOML` or `YAML`.
        format: &'static str,
        /// What the parser said.
        message: String,
    },
    /// A key is unknown, of the wrong type, missing or has a bad value.
    Invalid {
        /// The key's path, e.g. `notifications[1].timeout`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable overriding a setting is malformed (no file is involved).
    Env {
        /// The environment variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        message: String,
    },
}

impl SettingsError {
    /// `var` names `path`, which does not exist.
    pub(super) fn not_found(var: &'static str, path: PathBuf) -> Self {
        SettingsError {
            file: Some(path),
            line: None,
            kind: SettingsErrorKind::NotFound { var },
        }
    }

    /// `path` could not be read.
    pub(super) fn read(path: PathBuf, source: std::io::Error) -> Self {
        SettingsError {
            file: Some(path),
            line: None,
            kind: SettingsErrorKind::Read { source },
        }
    }

    /// `file` is not valid `format` at `line`.
    pub(super) fn syntax(file: &Path, line: usize, format: &'static str, message: String) -> Self {
        SettingsError {
            file: Some(file.to_path_buf()),
            line: Some(line),
            kind: SettingsErrorKind::Syntax { format, message },
        }
    }

    /// `key`, at `line` of `file`, is wrong.
    pub(super) fn invalid(file: &Path, line: usize, key: &str, message: impl Into<String>) -> Self {
        SettingsError {
            file: Some(file.to_path_buf()),
            line: Some(line),
            kind: SettingsErrorKind::Invalid {
                key: key.to_owned(),
                message: message.into(),
            },
        }
    }

    /// The environment variable `var`, overriding a setting, is malformed.
    pub(super) fn env(var: &'static str, value: String, message: String) -> Self {
        SettingsError {
            file: None,
            line: None,
            kind: SettingsErrorKind::Env {
                var,
                value,
                message,
            },
        }
    }

    /// The settings file the error is about (for [`SettingsErrorKind::NotFound`]: the path
    /// named), when it is about one.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let err = Settings::from_toml_str("[journal]\ndir = 1\n", "conf/chaos.toml".as_ref()).unwrap_err();
    /// assert_eq!(err.file(), Some(std::path::Path::new("conf/chaos.toml")));
    /// ```
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The line of the settings file the error is about, when it is about one.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let err = Settings::from_toml_str("\n[journal]\ndir = 1\n", "chaos.toml".as_ref()).unwrap_err();
    /// assert_eq!(err.line(), Some(3));
    /// ```
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong.
    ///
    /// ```
    /// use chaos_runtime::settings::{Settings, SettingsErrorKind};
    /// let err = Settings::from_toml_str("[journal\n", "chaos.toml".as_ref()).unwrap_err();
    /// assert!(matches!(err.kind(), SettingsErrorKind::Syntax { format: "TOML", .. }));
    /// ```
    pub fn kind(&self) -> &SettingsErrorKind {
        &self.kind
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_deref().unwrap_or(Path::new("<settings>"));
        if let Some(line) = self.line {
            write!(f, "{}:{line}: ", file.display())?;
        }
        match &self.kind {
            SettingsErrorKind::NotFound { var } => {
                write!(f, "{var} names `{}`, which does not exist", file.display())
            }
            SettingsErrorKind::Read { source } => {
                write!(
                    f,
                    "cannot read settings file `{}`: {source}",
                    file.display()
                )
            }
            SettingsErrorKind::Syntax { format, message } => {
                write!(f, "{format} syntax error: {message}")
            }
            SettingsErrorKind::Invalid { key, message } => write!(f, "{key}: {message}"),
            SettingsErrorKind::Env {
                var,
                value,
                message,
            } => write!(f, "{var}=`{value}`: {message}"),
        }
    }
}

impl std::error::Error for SettingsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SettingsErrorKind::Read { source } => Some(source),
            _ => None,
        }
    }
}
