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
//! ```

use crate::redact::Secret;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings file looked for when `CHAOS_SETTINGS` is not set.
///
/// ```
/// assert_eq!(chaos_runtime::settings::FILE_NAME, "chaos.toml");
/// ```
pub const FILE_NAME: &str = "chaos.toml";

/// The environment variable naming the settings file (any path; `.yaml` / `.yml` is read as
/// Chaos Toolkit's settings).
///
/// ```
/// assert_eq!(chaos_runtime::settings::SETTINGS_ENV, "CHAOS_SETTINGS");
/// ```
pub const SETTINGS_ENV: &str = "CHAOS_SETTINGS";

/// The environment variable overriding `[journal] dir`.
///
/// ```
/// assert_eq!(chaos_runtime::settings::JOURNAL_DIR_ENV, "CHAOS_JOURNAL_DIR");
/// ```
pub const JOURNAL_DIR_ENV: &str = "CHAOS_JOURNAL_DIR";

/// The environment variable overriding `[journal] flush_timeout`.
///
/// ```
/// assert_eq!(chaos_runtime::settings::FLUSH_TIMEOUT_ENV, "CHAOS_FLUSH_TIMEOUT");
/// ```
pub const FLUSH_TIMEOUT_ENV: &str = "CHAOS_FLUSH_TIMEOUT";

/// How long the harness waits at the end of a run for notifications, by default.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_FLUSH_TIMEOUT, Duration::from_secs(5));
/// ```
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A notification channel's timeout per delivery attempt, by default.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_CHANNEL_TIMEOUT, Duration::from_secs(3));
/// ```
pub const DEFAULT_CHANNEL_TIMEOUT: Duration = Duration::from_secs(3);

/// How many times a notification channel retries a failed delivery, by default.
///
/// ```
/// assert_eq!(chaos_runtime::settings::DEFAULT_RETRIES, 2);
/// ```
pub const DEFAULT_RETRIES: u32 = 2;

/// A notification channel's first pause between retries, by default (doubled each retry).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_BACKOFF, Duration::from_millis(200));
/// ```
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);

/// Where Kubernetes mounts a pod's service-account token: the default `token_path` of a
/// `k8s-service-account` credential.
///
/// ```
/// assert_eq!(
///     chaos_runtime::settings::DEFAULT_K8S_TOKEN_PATH,
///     "/var/run/secrets/kubernetes.io/serviceaccount/token"
/// );
/// ```
pub const DEFAULT_K8S_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

const SECTIONS: &[&str] = &[
    "variables",
    "secrets",
    "journal",
    "notifications",
    "credentials",
    "targets",
];
const JOURNAL_KEYS: &[&str] = &["dir", "flush_timeout"];
const CHANNEL_TYPES: &[&str] = &["http", "slack"];
const HTTP_KEYS: &[&str] = &[
    "type",
    "name",
    "url",
    "headers",
    "verify_tls",
    "forward_event_payload",
    "timeout",
    "retries",
    "backoff",
    "events",
];
const SLACK_KEYS: &[&str] = &[
    "type",
    "name",
    "webhook_url",
    "timeout",
    "retries",
    "backoff",
    "events",
];
const CREDENTIAL_TYPES: &[&str] = &["env-user-password", "token-file", "k8s-service-account"];
/// Chaos Toolkit events with no counterpart here, ignored in `settings.yaml`.
const CTK_ONLY_EVENTS: &[&str] = &[
    "discovery-started",
    "discovery-failed",
    "discovery-completed",
    "init-started",
    "init-failed",
    "init-completed",
];
const DURATION_HELP: &str =
    "expected a duration such as \"500ms\", \"5s\", \"1.5s\", \"2m\" or \"1h\", or a number of seconds";

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
    /// `[[notifications]]`, in file order.
    pub notifications: Vec<ChannelSettings>,
    /// `[credentials.NAME]`.
    pub credentials: BTreeMap<String, CredentialSettings>,
    /// `[targets]`, free-form: each target reads its own part.
    pub targets: toml::Table,
}

/// `[journal]`: where journals go and how long a run's end waits for notifications.
///
/// ```
/// use chaos_runtime::settings::JournalSettings;
/// let journal = JournalSettings::default();
/// assert_eq!(journal.dir, None);
/// assert_eq!(journal.flush_timeout, std::time::Duration::from_secs(5));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalSettings {
    /// The directory journals are written to (`None`: the harness's default). A relative
    /// path in the file is resolved against the settings file's directory;
    /// `CHAOS_JOURNAL_DIR` overrides it.
    pub dir: Option<PathBuf>,
    /// How long the harness waits at the end of a run for notifications to be delivered
    /// (default 5s); `CHAOS_FLUSH_TIMEOUT` overrides it.
    pub flush_timeout: Duration,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            dir: None,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
    }
}

/// A value of a setting that may be secret: a URL, a header value. It is secret when it
/// came from the environment, a file, `[secrets]`, or interpolates `${secrets.NAME}`; a secret
/// one is registered with the [redactor](crate::redact) and shows as `***`.
///
/// ```
/// use chaos_runtime::redact::Secret;
/// use chaos_runtime::settings::SettingValue;
/// let plain = SettingValue::Plain("http://127.0.0.1:9000".into());
/// let secret = SettingValue::Secret(Secret::new("Bearer doc-example-token"));
/// assert_eq!((plain.expose(), plain.is_secret()), ("http://127.0.0.1:9000", false));
/// assert_eq!(secret.expose(), "Bearer doc-example-token");
/// assert_eq!(format!("{plain} {secret} {secret:?}"), "http://127.0.0.1:9000 *** ***");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// Written in the settings file.
    Plain(String),
    /// Secret.
    Secret(Secret),
}

impl SettingValue {
    /// The value. Whatever it is written into is redacted on the way out of the run.
    pub fn expose(&self) -> &str {
        match self {
            SettingValue::Plain(s) => s,
            SettingValue::Secret(s) => s.expose(),
        }
    }

    /// Whether the value is secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, SettingValue::Secret(_))
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Plain(s) => f.write_str(s),
            SettingValue::Secret(s) => fmt::Display::fmt(s, f),
        }
    }
}

impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Plain(s) => fmt::Debug::fmt(s, f),
            SettingValue::Secret(s) => fmt::Debug::fmt(s, f),
        }
    }
}

/// One `[[notifications]]` entry.
///
/// ```
/// use chaos_runtime::settings::{ChannelSettings, HttpChannelSettings, SettingValue};
/// let mut http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
/// http.events = Some(vec!["run-failed".into()]);
/// let channel = ChannelSettings::Http(http);
/// assert_eq!(channel.name(), "audit");
/// assert!(channel.accepts("run-failed") && !channel.accepts("run-completed"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelSettings {
    /// `type = "http"`: Chaos Toolkit's HTTP notification.
    Http(HttpChannelSettings),
    /// `type = "slack"`: a Slack incoming webhook.
    Slack(SlackChannelSettings),
}

impl ChannelSettings {
    /// The channel's name, for verdicts, journals and logs.
    pub fn name(&self) -> &str {
        match self {
            ChannelSettings::Http(c) => &c.name,
            ChannelSettings::Slack(c) => &c.name,
        }
    }

    /// The events the channel is for; `None`: all of them.
    pub fn events(&self) -> Option<&[String]> {
        match self {
            ChannelSettings::Http(c) => c.events.as_deref(),
            ChannelSettings::Slack(c) => c.events.as_deref(),
        }
    }

    /// Whether the channel is for the event named `event` (`run-failed`, ...).
    pub fn accepts(&self, event: &str) -> bool {
        self.events()
            .is_none_or(|events| events.iter().any(|e| e == event))
    }
}

/// `type = "http"`: sends each event to a URL (Chaos Toolkit's HTTP notification).
///
/// ```
/// use chaos_runtime::settings::{HttpChannelSettings, SettingValue};
/// let http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
/// assert!(http.verify_tls && http.forward_event_payload && http.events.is_none());
/// assert_eq!((http.timeout.as_secs(), http.retries, http.backoff.as_millis()), (3, 2, 200));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HttpChannelSettings {
    /// `name` (default `http[<index>]`, the entry's index among `[[notifications]]`).
    pub name: String,
    /// `url` (required).
    pub url: SettingValue,
    /// `headers`, in file order.
    pub headers: Vec<(String, SettingValue)>,
    /// `verify_tls` (default `true`).
    pub verify_tls: bool,
    /// `forward_event_payload` (default `true`): POST the event as JSON; `false`: a bare GET.
    pub forward_event_payload: bool,
    /// `timeout` per attempt (default 3s).
    pub timeout: Duration,
    /// `retries` after a failed attempt (default 2).
    pub retries: u32,
    /// `backoff`: the pause before the first retry, doubled for each next one (default
    /// 200ms).
    pub backoff: Duration,
    /// `events`: the events sent (`None`: all).
    pub events: Option<Vec<String>>,
}

impl HttpChannelSettings {
    /// A channel named `name` sending to `url`, with the defaults for everything else.
    ///
    /// ```
    /// use chaos_runtime::settings::{HttpChannelSettings, SettingValue};
    /// let http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
    /// assert!(http.headers.is_empty());
    /// ```
    pub fn new(name: impl Into<String>, url: SettingValue) -> Self {
        HttpChannelSettings {
            name: name.into(),
            url,
            headers: Vec::new(),
            verify_tls: true,
            forward_event_payload: true,
            timeout: DEFAULT_CHANNEL_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            events: None,
        }
    }
}

/// `type = "slack"`: posts a message about each event to a Slack incoming webhook.
///
/// ```
/// use chaos_runtime::redact::Secret;
/// use chaos_runtime::settings::SlackChannelSettings;
/// let slack = SlackChannelSettings::new("ops", Secret::new("https://hooks.slack.test/doc-example"));
/// assert_eq!(format!("{:?}", slack.webhook_url), "***");
/// assert_eq!(slack.retries, 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SlackChannelSettings {
    /// `name` (default `slack[<index>]`).
    pub name: String,
    /// `webhook_url` (required; always secret).
    pub webhook_url: Secret,
    /// `timeout` per attempt (default 3s).
    pub timeout: Duration,
    /// `retries` after a failed attempt (default 2).
    pub retries: u32,
    /// `backoff`: the pause before the first retry, doubled for each next one (default
    /// 200ms).
    pub backoff: Duration,
    /// `events`: the events sent (`None`: all).
    pub events: Option<Vec<String>>,
}

impl SlackChannelSettings {
    /// A channel named `name` posting to `webhook_url`, with the defaults for everything else.
    ///
    /// ```
    /// use chaos_runtime::redact::Secret;
    /// use chaos_runtime::settings::SlackChannelSettings;
    /// let slack = SlackChannelSettings::new("ops", Secret::new("https://hooks.slack.test/doc-new"));
    /// assert!(slack.events.is_none());
    /// ```
    pub fn new(name: impl Into<String>, webhook_url: Secret) -> Self {
        SlackChannelSettings {
            name: name.into(),
            webhook_url,
            timeout: DEFAULT_CHANNEL_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            events: None,
        }
    }
}

/// One `[credentials.NAME]` entry: where a credential comes from. Nothing is read when the
/// settings load; the credential is read when it is used.
///
/// ```
/// use chaos_runtime::settings::{CredentialSettings, Settings};
/// use std::path::{Path, PathBuf};
/// let text = "[credentials.cluster]\ntype = \"k8s-service-account\"\n";
/// let settings = Settings::from_toml_str(text, Path::new("chaos.toml"))?;
/// assert_eq!(
///     settings.credentials["cluster"],
///     CredentialSettings::KubernetesServiceAccount {
///         token_path: PathBuf::from("/var/run/secrets/kubernetes.io/serviceaccount/token")
///     }
/// );
/// # Ok::<(), chaos_runtime::settings::SettingsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSettings {
    /// `type = "env-user-password"`: a user name and a password from two environment
    /// variables.
    EnvUserPassword {
        /// `user_env`: the variable holding the user name.
        user_env: String,
        /// `password_env`: the variable holding the password.
        password_env: String,
    },
    /// `type = "token-file"`: a bearer token read from a file (re-read on every use).
    TokenFile {
        /// `path` (relative to the settings file's directory).
        path: PathBuf,
    },
    /// `type = "k8s-service-account"`: the pod's service-account token.
    KubernetesServiceAccount {
        /// `token_path` (default [`DEFAULT_K8S_TOKEN_PATH`]).
        token_path: PathBuf,
    },
}

/// Settings that cannot be used. The message names the file, the line and the key.
///
/// ```
/// use chaos_runtime::settings::{Settings, SettingsError};
/// use std::path::Path;
/// let err = Settings::from_toml_str("[jurnal]\n", Path::new("chaos.toml")).unwrap_err();
/// assert_eq!(err.line(), Some(1));
/// assert!(err.to_string().starts_with("chaos.toml:1: jurnal: unknown section; valid sections: variables, "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// `CHAOS_SETTINGS` names a file that does not exist.
    #[error("{SETTINGS_ENV} names `{}`, which does not exist", path.display())]
    NotFound {
        /// The path named.
        path: PathBuf,
    },
    /// The settings file could not be read.
    #[error("cannot read settings file `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML (or YAML).
    #[error("{}:{line}: {format} syntax error: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The line (1-based).
        line: usize,
        /// `TOML` or `YAML`.
        format: &'static str,
        /// What the parser said.
        message: String,
    },
    /// A key is unknown, of the wrong type, missing or has a bad value.
    #[error("{}:{line}: {key}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The key's path, e.g. `notifications[1].timeout`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable overriding a setting is malformed.
    #[error("{var}=`{value}`: {message}")]
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
    /// The line of the settings file the error is about, when it is about one.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let err = Settings::from_toml_str("\n[journal]\ndir = 1\n", "chaos.toml".as_ref()).unwrap_err();
    /// assert_eq!(err.line(), Some(3));
    /// ```
    pub fn line(&self) -> Option<usize> {
        match self {
            SettingsError::Syntax { line, .. } | SettingsError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
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
        let mut settings = match std::env::var_os(SETTINGS_ENV).filter(|v| !v.is_empty()) {
            Some(named) => {
                let path = PathBuf::from(named);
                if !path.exists() {
                    return Err(SettingsError::NotFound { path });
                }
                Settings::load_from(&path)?
            }
            None => match std::env::current_dir()
                .ok()
                .and_then(|dir| Settings::find_from(&dir))
            {
                Some(path) => Settings::load_from(&path)?,
                None => {
                    tracing::debug!("no {FILE_NAME} found; using default settings");
                    Settings::default()
                }
            },
        };
        settings.apply_env_overrides()?;
        Ok(settings)
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
        if let Some(named) = std::env::var_os(SETTINGS_ENV).filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(named));
        }
        std::env::current_dir()
            .ok()
            .and_then(|dir| Settings::find_from(&dir))
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
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
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

    /// Parses `text`, the TOML settings file at `path` (`path` names the file in errors, and
    /// relative paths in the file are resolved against its directory). Secrets are read (from
    /// the environment and files) and registered with the redactor.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let text = "[secrets]\ndoc_token = { env = \"DOC_EXAMPLE_TOKEN\" }\n";
    /// std::env::set_var("DOC_EXAMPLE_TOKEN", "doc-example-token-value");
    /// let settings = Settings::from_toml_str(text, "chaos.toml".as_ref())?;
    /// assert_eq!(settings.secrets["doc_token"].expose(), "doc-example-token-value");
    /// assert_eq!(chaos_runtime::redact::redact("doc-example-token-value"), "***");
    /// # Ok::<(), chaos_runtime::settings::SettingsError>(())
    /// ```
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let lines = LineIndex::new(text);
        let doc = toml::de::DeTable::parse(text).map_err(|e| SettingsError::Syntax {
            file: path.to_path_buf(),
            line: e.span().map_or(1, |s| lines.line(s.start)),
            format: "TOML",
            message: e.message().to_owned(),
        })?;
        let entries: Vec<Entry> = doc
            .get_ref()
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                line: lines.line(k.span().start),
                node: toml_node(v, &lines),
            })
            .collect();
        let mut parser = Parser::new(path, Format::Toml);
        let mut settings = parser.settings(&entries)?;
        if entries.iter().any(|e| e.key == "targets") {
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| SettingsError::Syntax {
                    file: path.to_path_buf(),
                    line: e.span().map_or(1, |s| lines.line(s.start)),
                    format: "TOML",
                    message: e.message().to_owned(),
                })?;
            if let Some(toml::Value::Table(targets)) = table.remove("targets") {
                settings.targets = targets;
            }
        }
        Ok(settings)
    }

    /// Parses `text`, Chaos Toolkit's `settings.yaml` at `path`: its `notifications` list
    /// (`type: http` entries; `type: plugin` entries are Python modules, skipped with a
    /// warning). Other top-level keys are ignored.
    ///
    /// ```
    /// use chaos_runtime::settings::{ChannelSettings, Settings};
    /// let text = "notifications:\n  - type: http\n    url: http://127.0.0.1:9000/events\n";
    /// let settings = Settings::from_yaml_str(text, "settings.yaml".as_ref())?;
    /// let ChannelSettings::Http(http) = &settings.notifications[0] else { unreachable!() };
    /// assert_eq!(http.url.expose(), "http://127.0.0.1:9000/events");
    /// # Ok::<(), chaos_runtime::settings::SettingsError>(())
    /// ```
    pub fn from_yaml_str(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let value: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| SettingsError::Syntax {
                file: path.to_path_buf(),
                line: e.location().map_or(1, |l| l.line()),
                format: "YAML",
                message: e.to_string(),
            })?;
        let mut parser = Parser::new(path, Format::Yaml);
        let mapping = match value {
            serde_norway::Value::Null => serde_norway::Mapping::new(),
            serde_norway::Value::Mapping(m) => m,
            other => {
                return Err(parser.err(
                    1,
                    "(top level)",
                    format!("expected a mapping, found {}", yaml_type(&other)),
                ))
            }
        };
        let locator = YamlLocator::new(text);
        let mut entries = Vec::new();
        if let Some(notifications) = mapping.get("notifications") {
            let line = locator.find_top_key("notifications").unwrap_or(0);
            let inline = locator.flow_after_key(line, "notifications");
            let mut cursor = line + 1;
            entries.push(Entry {
                key: "notifications".to_owned(),
                line: line + 1,
                node: locator.node(notifications, line, inline, &mut cursor),
            });
        }
        parser.settings(&entries)
    }

    fn apply_env_overrides(&mut self) -> Result<(), SettingsError> {
        if let Some(dir) = std::env::var_os(JOURNAL_DIR_ENV).filter(|v| !v.is_empty()) {
            self.journal.dir = Some(PathBuf::from(dir));
        }
        if let Ok(value) = std::env::var(FLUSH_TIMEOUT_ENV) {
            if !value.is_empty() {
                self.journal.flush_timeout =
                    parse_duration(&value).map_err(|message| SettingsError::Env {
                        var: FLUSH_TIMEOUT_ENV,
                        value: value.clone(),
                        message,
                    })?;
            }
        }
        Ok(())
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

/// Parses `500ms`, `5s`, `1.5s`, `2m`, `1h`, `2m30s`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let malformed = || format!("malformed duration {text:?}: {DURATION_HELP}");
    let s = text.trim();
    if s.is_empty() {
        return Err(malformed());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(malformed);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().map_err(|_| malformed())?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let secs = match &rest[..unit] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(malformed()),
        };
        total += value * secs;
        rest = &rest[unit..];
    }
    secs_to_duration(total).ok_or_else(malformed)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    let nanos = (secs * 1e9).round();
    (nanos.is_finite() && nanos >= 0.0 && nanos <= u64::MAX as f64)
        .then(|| Duration::from_nanos(nanos as u64))
}

/// Byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

/// A settings value with its line, whatever the file's format.
struct Node {
    line: usize,
    value: NodeValue,
}

enum NodeValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    Table(Vec<Entry>),
    Other(&'static str),
}

struct Entry {
    key: String,
    line: usize,
    node: Node,
}

impl Node {
    fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Str(_) => "a string",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a float",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Array(_) => "an array",
            NodeValue::Table(_) => "a table",
            NodeValue::Other(what) => what,
        }
    }
}

fn toml_node(v: &toml::Spanned<toml::de::DeValue<'_>>, lines: &LineIndex) -> Node {
    use toml::de::DeValue;
    let value = match v.get_ref() {
        DeValue::String(s) => NodeValue::Str(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or(NodeValue::Other("an integer out of range"), NodeValue::Int),
        DeValue::Float(f) => f
            .as_str()
            .parse()
            .map_or(NodeValue::Other("a float"), NodeValue::Float),
        DeValue::Boolean(b) => NodeValue::Bool(*b),
        DeValue::Datetime(_) => NodeValue::Other("a datetime"),
        DeValue::Array(a) => NodeValue::Array(a.iter().map(|v| toml_node(v, lines)).collect()),
        DeValue::Table(t) => NodeValue::Table(
            t.iter()
                .map(|(k, v)| Entry {
                    key: k.get_ref().to_string(),
                    line: lines.line(k.span().start),
                    node: toml_node(v, lines),
                })
                .collect(),
        ),
    };
    Node {
        line: lines.line(v.span().start),
        value,
    }
}

fn yaml_type(v: &serde_norway::Value) -> &'static str {
    use serde_norway::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Finds the lines of YAML keys and sequence items, for messages. `serde_norway` keeps no
/// positions, so this follows the block-style text in document order; flow collections
/// (`[a, b]`, `{k: v}`) take the line they start on. Lines here are 0-based.
struct YamlLocator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> YamlLocator<'a> {
    fn new(text: &'a str) -> Self {
        YamlLocator {
            lines: text.lines().collect(),
        }
    }

    /// The line's content without its indentation and sequence markers (`- `).
    fn content(line: &str) -> &str {
        let mut s = line.trim_start();
        while let Some(rest) = s.strip_prefix('-') {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                s = rest.trim_start();
            } else {
                break;
            }
        }
        s
    }

    /// What follows `key:` in `content`, if `content` starts with that key.
    fn after_key<'s>(content: &'s str, key: &str) -> Option<&'s str> {
        [key.to_owned(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .find_map(|k| content.strip_prefix(k.as_str()))
            .and_then(|rest| rest.trim_start().strip_prefix(':'))
            .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    }

    fn find_top_key(&self, key: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| !l.starts_with([' ', '\t']) && Self::after_key(l, key).is_some())
    }

    fn find_key(&self, from: usize, key: &str) -> Option<usize> {
        (from..self.lines.len())
            .find(|&i| Self::after_key(Self::content(self.lines[i]), key).is_some())
    }

    fn find_item(&self, from: usize) -> Option<usize> {
        (from..self.lines.len()).find(|&i| {
            let t = self.lines[i].trim_start();
            t.strip_prefix('-')
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        })
    }

    fn is_flow(rest: &str) -> bool {
        rest.trim_start().starts_with(['[', '{'])
    }

    fn flow_after_key(&self, line: usize, key: &str) -> bool {
        self.lines
            .get(line)
            .and_then(|l| Self::after_key(Self::content(l), key))
            .is_some_and(Self::is_flow)
    }

    fn flow_item(&self, line: usize) -> bool {
        self.lines
            .get(line)
            .is_some_and(|l| Self::is_flow(Self::content(l)))
    }

    /// Converts `v`, which starts on `line`; `cursor` is where the search for its keys and
    /// items begins, and moves forward.
    fn node(&self, v: &serde_norway::Value, line: usize, inline: bool, cursor: &mut usize) -> Node {
        use serde_norway::Value;
        let value = match v {
            Value::Null => NodeValue::Other("null"),
            Value::Bool(b) => NodeValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => NodeValue::Int(i),
                (None, Some(f)) => NodeValue::Float(f),
                (None, None) => NodeValue::Other("a number out of range"),
            },
            Value::String(s) => NodeValue::Str(s.clone()),
            Value::Tagged(_) => NodeValue::Other("a tagged value"),
            Value::Sequence(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for item in items {
                    let item_line = if inline {
                        line
                    } else {
                        self.find_item(*cursor).unwrap_or(line)
                    };
                    let item_inline = inline || self.flow_item(item_line);
                    *cursor = (*cursor).max(item_line);
                    nodes.push(self.node(item, item_line, item_inline, cursor));
                    *cursor = (*cursor).max(item_line + 1);
                }
                NodeValue::Array(nodes)
            }
            Value::Mapping(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (k, val) in map {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        other => format!("<{}>", yaml_type(other)),
                    };
                    let key_line = if inline {
                        line
                    } else {
                        self.find_key(*cursor, &key).unwrap_or(line)
                    };
                    let child_inline = inline || self.flow_after_key(key_line, &key);
                    *cursor = (*cursor).max(key_line + 1);
                    let node = self.node(val, key_line, child_inline, cursor);
                    entries.push(Entry {
                        key,
                        line: key_line + 1,
                        node,
                    });
                }
                NodeValue::Table(entries)
            }
        };
        Node {
            line: line + 1,
            value,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Yaml,
}

/// `prefix.key`, quoting keys that are not bare words.
fn join(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// Validates the format-independent tree into [`Settings`].
struct Parser<'a> {
    file: &'a Path,
    dir: PathBuf,
    format: Format,
    variables: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
}

type Res<T> = std::result::Result<T, SettingsError>;

impl<'a> Parser<'a> {
    fn new(file: &'a Path, format: Format) -> Self {
        Parser {
            file,
            dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            format,
            variables: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    fn err(&self, line: usize, key: &str, message: impl Into<String>) -> SettingsError {
        SettingsError::Invalid {
            file: self.file.to_path_buf(),
            line,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn expected(&self, node: &Node, key: &str, what: &str) -> SettingsError {
        self.err(
            node.line,
            key,
            format!("expected {what}, found {}", node.type_name()),
        )
    }

    fn unknown_key(&self, entry: &Entry, prefix: &str, valid: &[&str]) -> SettingsError {
        self.err(
            entry.line,
            &join(prefix, &entry.key),
            format!("unknown key; valid keys: {}", valid.join(", ")),
        )
    }

    fn table<'n>(&self, node: &'n Node, key: &str) -> Res<&'n [Entry]> {
        match &node.value {
            NodeValue::Table(entries) => Ok(entries),
            _ => Err(self.expected(node, key, "a table")),
        }
    }

    fn string(&self, node: &Node, key: &str) -> Res<String> {
        match &node.value {
            NodeValue::Str(s) => Ok(s.clone()),
            _ => Err(self.expected(node, key, "a string")),
        }
    }

    fn non_empty_string(&self, node: &Node, key: &str) -> Res<String> {
        let s = self.string(node, key)?;
        if s.trim().is_empty() {
            return Err(self.err(node.line, key, "must not be empty"));
        }
        Ok(s)
    }

    fn boolean(&self, node: &Node, key: &str) -> Res<bool> {
        match node.value {
            NodeValue::Bool(b) => Ok(b),
            _ => Err(self.expected(node, key, "true or false")),
        }
    }

    fn count(&self, node: &Node, key: &str) -> Res<u32> {
        match node.value {
            NodeValue::Int(i) => u32::try_from(i).map_err(|_| {
                self.err(
                    node.line,
                    key,
                    format!("{i} is out of range: expected 0 to {}", u32::MAX),
                )
            }),
            _ => Err(self.expected(node, key, "a whole number")),
        }
    }

    fn duration(&self, node: &Node, key: &str) -> Res<Duration> {
        let parsed = match &node.value {
            NodeValue::Str(s) => parse_duration(s),
            NodeValue::Int(i) => secs_to_duration(*i as f64)
                .ok_or_else(|| format!("malformed duration {i}: {DURATION_HELP}")),
            NodeValue::Float(f) => secs_to_duration(*f)
                .ok_or_else(|| format!("malformed duration {f}: {DURATION_HELP}")),
            _ => return Err(self.expected(node, key, "a duration such as \"5s\"")),
        };
        parsed.map_err(|message| self.err(node.line, key, message))
    }

    /// A path, relative to the settings file's directory.
    fn path(&self, node: &Node, key: &str) -> Res<PathBuf> {
        let s = self.non_empty_string(node, key)?;
        Ok(self.dir.join(s))
    }

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

    fn variables(&mut self, node: &Node) -> Res<()> {
        for e in self.table(node, "variables")? {
            let key = join("variables", &e.key);
            let value = match &e.node.value {
                NodeValue::Str(s) => s.clone(),
                NodeValue::Int(i) => i.to_string(),
                NodeValue::Float(f) => f.to_string(),
                NodeValue::Bool(b) => b.to_string(),
                _ => return Err(self.expected(&e.node, &key, "a string")),
            };
            self.variables.insert(e.key.clone(), value);
        }
        Ok(())
    }

    fn secrets(&mut self, node: &Node) -> Res<()> {
        for e in self.table(node, "secrets")? {
            let key = join("secrets", &e.key);
            let secret = match &e.node.value {
                NodeValue::Str(s) => {
                    tracing::warn!(
                        "{}:{}: secret `{}` is written inline in the settings file; read it from \
                         the environment (`{{ env = \"NAME\" }}`) or a file (`{{ file = \"PATH\" }}`) \
                         to keep it out of version control",
                        self.file.display(),
                        e.line,
                        e.key
                    );
                    Secret::new(s.clone())
                }
                NodeValue::Table(_) => self.secret_source(&e.node, &key, false)?,
                _ => {
                    return Err(self.expected(
                        &e.node,
                        &key,
                        "{ env = \"NAME\" }, { file = \"PATH\" } or a string",
                    ))
                }
            };
            self.secrets.insert(e.key.clone(), secret);
        }
        Ok(())
    }

    /// `{ env = "NAME" }`, `{ file = "PATH" }`, or (when `allow_ref`) `{ secret = "NAME" }`.
    fn secret_source(&self, node: &Node, key: &str, allow_ref: bool) -> Res<Secret> {
        let valid: &[&str] = if allow_ref {
            &["env", "file", "secret"]
        } else {
            &["env", "file"]
        };
        let entries = self.table(node, key)?;
        if let Some(e) = entries.iter().find(|e| !valid.contains(&e.key.as_str())) {
            return Err(self.unknown_key(e, key, valid));
        }
        let [e] = entries else {
            return Err(self.err(
                node.line,
                key,
                format!("expected exactly one of {}", valid.join(", ")),
            ));
        };
        let sub = join(key, &e.key);
        match e.key.as_str() {
            "env" => {
                let var = self.non_empty_string(&e.node, &sub)?;
                match std::env::var(&var) {
                    Ok(value) => Ok(Secret::new(value)),
                    Err(std::env::VarError::NotPresent) => Err(self.err(
                        e.node.line,
                        key,
                        format!("environment variable `{var}` is not set"),
                    )),
                    Err(std::env::VarError::NotUnicode(_)) => Err(self.err(
                        e.node.line,
                        key,
                        format!("environment variable `{var}` is not valid UTF-8"),
                    )),
                }
            }
            "file" => {
                let path = self.path(&e.node, &sub)?;
                let text = std::fs::read_to_string(&path).map_err(|err| {
                    self.err(
                        e.node.line,
                        key,
                        format!("cannot read secret file `{}`: {err}", path.display()),
                    )
                })?;
                Ok(Secret::new(text.trim_end_matches(['\n', '\r'])))
            }
            _ => {
                let name = self.string(&e.node, &sub)?;
                self.secrets
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| self.err(e.node.line, key, self.no_such_secret(&name)))
            }
        }
    }

    fn no_such_secret(&self, name: &str) -> String {
        let defined: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        if defined.is_empty() {
            format!("no secret `{name}`: [secrets] defines none")
        } else {
            format!(
                "no secret `{name}` in [secrets]; defined: {}",
                defined.join(", ")
            )
        }
    }

    /// A value that may be secret: a string (interpolating `${secrets.NAME}` and
    /// `${variables.NAME}`), or `{ env = .. }` / `{ file = .. }` / `{ secret = .. }`.
    fn value(&self, node: &Node, key: &str) -> Res<SettingValue> {
        match &node.value {
            NodeValue::Str(s) => self.interpolate(s, node.line, key),
            NodeValue::Table(_) => Ok(SettingValue::Secret(self.secret_source(node, key, true)?)),
            _ => Err(self.expected(
                node,
                key,
                "a string, { env = \"NAME\" }, { file = \"PATH\" } or { secret = \"NAME\" }",
            )),
        }
    }

    fn interpolate(&self, text: &str, line: usize, key: &str) -> Res<SettingValue> {
        let mut out = String::with_capacity(text.len());
        let mut secret = false;
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix("${") {
                // `$${` is a literal `${`.
                out.push_str("${");
                rest = r;
            } else if let Some(r) = after.strip_prefix('{') {
                let Some(end) = r.find('}') else {
                    return Err(self.err(line, key, "unclosed `${`: write `${secrets.NAME}` or `${variables.NAME}` (`$${` for a literal `${`)"));
                };
                let reference = &r[..end];
                match reference.split_once('.') {
                    Some(("secrets", name)) => {
                        let value = self
                            .secrets
                            .get(name)
                            .ok_or_else(|| self.err(line, key, self.no_such_secret(name)))?;
                        out.push_str(value.expose());
                        secret = true;
                    }
                    Some(("variables", name)) => {
                        let value = std::env::var(name)
                            .ok()
                            .or_else(|| self.variables.get(name).cloned())
                            .ok_or_else(|| {
                                self.err(
                                    line,
                                    key,
                                    format!(
                                        "variable `{name}` is neither in [variables] nor set in \
                                         the environment"
                                    ),
                                )
                            })?;
                        out.push_str(&value);
                    }
                    _ => {
                        return Err(self.err(
                            line,
                            key,
                            format!(
                                "unknown reference `${{{reference}}}`: write `${{secrets.NAME}}` \
                                 or `${{variables.NAME}}`"
                            ),
                        ))
                    }
                }
                rest = &r[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(if secret {
            SettingValue::Secret(Secret::new(out))
        } else {
            SettingValue::Plain(out)
        })
    }

    fn url(&self, node: &Node, key: &str) -> Res<SettingValue> {
        let value = self.value(node, key)?;
        let shown = if value.is_secret() {
            "the URL".to_owned()
        } else {
            format!("`{}`", value.expose())
        };
        match reqwest::Url::parse(value.expose()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(value),
            Ok(url) => Err(self.err(
                node.line,
                key,
                format!(
                    "{shown} has scheme `{}`: expected http or https",
                    url.scheme()
                ),
            )),
            Err(e) => Err(self.err(node.line, key, format!("{shown} is not a valid URL: {e}"))),
        }
    }

    fn journal(&self, node: &Node) -> Res<JournalSettings> {
        let mut journal = JournalSettings::default();
        for e in self.table(node, "journal")? {
            let key = join("journal", &e.key);
            match e.key.as_str() {
                "dir" => journal.dir = Some(self.path(&e.node, &key)?),
                "flush_timeout" => journal.flush_timeout = self.duration(&e.node, &key)?,
                _ => return Err(self.unknown_key(e, "journal", JOURNAL_KEYS)),
            }
        }
        Ok(journal)
    }

    fn notifications(&self, node: &Node) -> Res<Vec<ChannelSettings>> {
        let NodeValue::Array(items) = &node.value else {
            let what = match self.format {
                Format::Toml => "an array of tables ([[notifications]])",
                Format::Yaml => "a list of channels",
            };
            return Err(self.expected(node, "notifications", what));
        };
        let mut channels: Vec<ChannelSettings> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let prefix = format!("notifications[{index}]");
            let entries = self.table(item, &prefix)?;
            let Some(ty) = entries.iter().find(|e| e.key == "type") else {
                return Err(self.err(
                    item.line,
                    &join(&prefix, "type"),
                    format!(
                        "missing required key; valid types: {}",
                        CHANNEL_TYPES.join(", ")
                    ),
                ));
            };
            let ty_key = join(&prefix, "type");
            let channel =
                match self.string(&ty.node, &ty_key)?.as_str() {
                    "http" => ChannelSettings::Http(self.http(index, item, entries)?),
                    "slack" => ChannelSettings::Slack(self.slack(index, item, entries)?),
                    "plugin" if self.format == Format::Yaml => {
                        let module = entries
                            .iter()
                            .find(|e| e.key == "module")
                            .and_then(|e| match &e.node.value {
                                NodeValue::Str(s) => Some(s.as_str()),
                                _ => None,
                            })
                            .unwrap_or("<no module>");
                        tracing::warn!(
                        "{}:{}: {prefix} is the Chaos Toolkit plugin `{module}`, a Python module: \
                         it is skipped; write a custom notification channel in Rust instead",
                        self.file.display(),
                        item.line
                    );
                        continue;
                    }
                    "plugin" => return Err(self.err(
                        ty.node.line,
                        &ty_key,
                        "Chaos Toolkit plugins are Python modules and cannot run here; write a \
                         custom notification channel in Rust instead (valid types: http, slack)",
                    )),
                    other => {
                        return Err(self.err(
                            ty.node.line,
                            &ty_key,
                            format!(
                                "unknown channel type {other:?}; valid types: {}",
                                CHANNEL_TYPES.join(", ")
                            ),
                        ))
                    }
                };
            if let Some(previous) = channels.iter().find(|c| c.name() == channel.name()) {
                let line = entries
                    .iter()
                    .find(|e| e.key == "name")
                    .map_or(item.line, |e| e.node.line);
                return Err(self.err(
                    line,
                    &join(&prefix, "name"),
                    format!("duplicate channel name {:?}", previous.name()),
                ));
            }
            channels.push(channel);
        }
        Ok(channels)
    }

    fn events(&self, node: &Node, key: &str) -> Res<Vec<String>> {
        let NodeValue::Array(items) = &node.value else {
            return Err(self.expected(node, key, "an array of event names"));
        };
        let mut events = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            let name = self.string(item, &item_key)?;
            if self.format == Format::Yaml && CTK_ONLY_EVENTS.contains(&name.as_str()) {
                tracing::warn!(
                    "{}:{}: {item_key}: Chaos Toolkit's event {name:?} has no counterpart here \
                     (there is no discovery or init phase); it is ignored",
                    self.file.display(),
                    item.line
                );
                continue;
            }
            if !crate::event::EVENT_NAMES.contains(&name.as_str()) {
                return Err(self.err(
                    item.line,
                    &item_key,
                    format!(
                        "unknown event {name:?}; valid events: {}",
                        crate::event::EVENT_NAMES.join(", ")
                    ),
                ));
            }
            events.push(name);
        }
        Ok(events)
    }

    fn headers(&self, node: &Node, key: &str) -> Res<Vec<(String, SettingValue)>> {
        let mut headers = Vec::new();
        for e in self.table(node, key)? {
            let sub = join(key, &e.key);
            if reqwest::header::HeaderName::from_bytes(e.key.as_bytes()).is_err() {
                return Err(self.err(e.line, &sub, "not a valid HTTP header name"));
            }
            let value = self.value(&e.node, &sub)?;
            if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                return Err(self.err(
                    e.node.line,
                    &sub,
                    "not a valid HTTP header value (it holds a control character or a newline)",
                ));
            }
            headers.push((e.key.clone(), value));
        }
        Ok(headers)
    }

    fn http(&self, index: usize, item: &Node, entries: &[Entry]) -> Res<HttpChannelSettings> {
        let prefix = format!("notifications[{index}]");
        let mut ch =
            HttpChannelSettings::new(format!("http[{index}]"), SettingValue::Plain(String::new()));
        let mut url = None;
        for e in entries {
            let key = join(&prefix, &e.key);
            match e.key.as_str() {
                "type" => {}
                "name" => ch.name = self.non_empty_string(&e.node, &key)?,
                "url" => url = Some(self.url(&e.node, &key)?),
                "headers" => ch.headers = self.headers(&e.node, &key)?,
                "verify_tls" => ch.verify_tls = self.boolean(&e.node, &key)?,
                "forward_event_payload" => {
                    ch.forward_event_payload = self.boolean(&e.node, &key)?
                }
                "timeout" => ch.timeout = self.duration(&e.node, &key)?,
                "retries" => ch.retries = self.count(&e.node, &key)?,
                "backoff" => ch.backoff = self.duration(&e.node, &key)?,
                "events" => ch.events = Some(self.events(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, &prefix, HTTP_KEYS)),
            }
        }
        ch.url = url.ok_or_else(|| {
            self.err(
                item.line,
                &join(&prefix, "url"),
                "missing required key: an http channel needs a url",
            )
        })?;
        Ok(ch)
    }

    fn slack(&self, index: usize, item: &Node, entries: &[Entry]) -> Res<SlackChannelSettings> {
        let prefix = format!("notifications[{index}]");
        let mut name = format!("slack[{index}]");
        let mut webhook = None;
        let (mut timeout, mut retries, mut backoff, mut events) = (
            DEFAULT_CHANNEL_TIMEOUT,
            DEFAULT_RETRIES,
            DEFAULT_BACKOFF,
            None,
        );
        for e in entries {
            let key = join(&prefix, &e.key);
            match e.key.as_str() {
                "type" => {}
                "name" => name = self.non_empty_string(&e.node, &key)?,
                "webhook_url" => {
                    let value = self.url(&e.node, &key)?;
                    webhook = Some(match value {
                        SettingValue::Secret(s) => s,
                        SettingValue::Plain(s) => {
                            tracing::warn!(
                                "{}:{}: {key} is written inline in the settings file; a Slack \
                                 webhook URL is a secret: read it from the environment \
                                 (`{{ env = \"NAME\" }}`) or [secrets] (`{{ secret = \"NAME\" }}`)",
                                self.file.display(),
                                e.node.line
                            );
                            Secret::new(s)
                        }
                    });
                }
                "timeout" => timeout = self.duration(&e.node, &key)?,
                "retries" => retries = self.count(&e.node, &key)?,
                "backoff" => backoff = self.duration(&e.node, &key)?,
                "events" => events = Some(self.events(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, &prefix, SLACK_KEYS)),
            }
        }
        let webhook_url = webhook.ok_or_else(|| {
            self.err(
                item.line,
                &join(&prefix, "webhook_url"),
                "missing required key: a slack channel needs a webhook_url",
            )
        })?;
        Ok(SlackChannelSettings {
            name,
            webhook_url,
            timeout,
            retries,
            backoff,
            events,
        })
    }

    fn credentials(&self, node: &Node) -> Res<BTreeMap<String, CredentialSettings>> {
        let mut out = BTreeMap::new();
        for cred in self.table(node, "credentials")? {
            let prefix = join("credentials", &cred.key);
            let entries = self.table(&cred.node, &prefix)?;
            let ty_key = join(&prefix, "type");
            let Some(ty) = entries.iter().find(|e| e.key == "type") else {
                return Err(self.err(
                    cred.node.line,
                    &ty_key,
                    format!(
                        "missing required key; valid types: {}",
                        CREDENTIAL_TYPES.join(", ")
                    ),
                ));
            };
            let ty_name = self.string(&ty.node, &ty_key)?;
            let valid: &[&str] = match ty_name.as_str() {
                "env-user-password" => &["type", "user_env", "password_env"],
                "token-file" => &["type", "path"],
                "k8s-service-account" => &["type", "token_path"],
                other => {
                    return Err(self.err(
                        ty.node.line,
                        &ty_key,
                        format!(
                            "unknown credential type {other:?}; valid types: {}",
                            CREDENTIAL_TYPES.join(", ")
                        ),
                    ))
                }
            };
            if let Some(e) = entries.iter().find(|e| !valid.contains(&e.key.as_str())) {
                return Err(self.unknown_key(e, &prefix, valid));
            }
            let get = |name: &str| entries.iter().find(|e| e.key == name);
            let required = |name: &str| {
                get(name).ok_or_else(|| {
                    self.err(
                        cred.node.line,
                        &join(&prefix, name),
                        format!("missing required key: a {ty_name} credential needs {name}"),
                    )
                })
            };
            let settings = match ty_name.as_str() {
                "env-user-password" => {
                    let user = required("user_env")?;
                    let password = required("password_env")?;
                    CredentialSettings::EnvUserPassword {
                        user_env: self.non_empty_string(&user.node, &join(&prefix, "user_env"))?,
                        password_env: self
                            .non_empty_string(&password.node, &join(&prefix, "password_env"))?,
                    }
                }
                "token-file" => {
                    let path = required("path")?;
                    CredentialSettings::TokenFile {
                        path: self.path(&path.node, &join(&prefix, "path"))?,
                    }
                }
                _ => CredentialSettings::KubernetesServiceAccount {
                    token_path: match get("token_path") {
                        Some(e) => self.path(&e.node, &join(&prefix, "token_path"))?,
                        None => PathBuf::from(DEFAULT_K8S_TOKEN_PATH),
                    },
                },
            };
            out.insert(cred.key.clone(), settings);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("2m30s"), Duration::from_secs(150));
        assert_eq!(ok("0.1s"), Duration::from_millis(100));
        assert_eq!(ok("3"), Duration::from_secs(3));
        for bad in ["", "5x", "s", "-1s", "1.2.3s", "5 s", "inf", "NaN", "-3"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.starts_with("malformed duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn yaml_lines_follow_block_and_flow_style() {
        let text = "\
controls:
  x:
    type: http
notifications:
  - type: http
    url: http://a.test/
    events:
      - run-started
      - run-failed
  - {type: http, url: 'http://b.test/', events: [run-failed]}
  -
    type: plugin
    module: chaostoolkit_slack.notifier
";
        let value: serde_norway::Value = serde_norway::from_str(text).unwrap();
        let loc = YamlLocator::new(text);
        let line = loc.find_top_key("notifications").unwrap();
        assert_eq!(line, 3);
        let mut cursor = line + 1;
        let node = loc.node(&value["notifications"], line, false, &mut cursor);
        let NodeValue::Array(items) = &node.value else {
            panic!()
        };
        let lines = |n: &Node| match &n.value {
            NodeValue::Table(es) => es.iter().map(|e| (e.key.clone(), e.line)).collect(),
            _ => vec![],
        };
        assert_eq!(items[0].line, 5);
        assert_eq!(
            lines(&items[0]),
            [("type".into(), 5), ("url".into(), 6), ("events".into(), 7)]
        );
        let NodeValue::Table(first) = &items[0].value else {
            panic!()
        };
        let NodeValue::Array(events) = &first[2].node.value else {
            panic!()
        };
        assert_eq!((events[0].line, events[1].line), (8, 9));
        assert_eq!(items[1].line, 10);
        assert_eq!(
            lines(&items[1]),
            [
                ("type".into(), 10),
                ("url".into(), 10),
                ("events".into(), 10)
            ]
        );
        assert_eq!(items[2].line, 11);
        assert_eq!(
            lines(&items[2]),
            [("type".into(), 12), ("module".into(), 13)]
        );
    }
}
