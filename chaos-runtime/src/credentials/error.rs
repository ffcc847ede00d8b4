//! [`CredentialError`]: why credentials could not be loaded, or why a registry refused a name.
//!
//! A leaf: it imports nothing of this crate, so [`crate::error`] can classify a credential
//! error as a failure of the run's setup without a cycle.

use std::fmt;
use std::path::PathBuf;

/// Any error, as [`crate::BoxError`] (spelled out here to keep this module a leaf).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Credentials could not be loaded, or a registry refused a name.
///
/// The context is carried once: the registered [`name`](Self::name) (once the error has
/// passed through [`CredentialRegistry::get`](super::CredentialRegistry::get) or
/// [`CredentialError::named`]), the [`provider`](Self::provider)'s kind, and what went wrong,
/// the [`kind`](Self::kind) (the variable or file). Messages name all three:
/// `credentials "ops" (env-user-password): environment variable OPS_PASSWORD is not set`.
/// They never contain a secret.
///
/// ```
/// use chaos_runtime::credentials::{
///     CredentialError, CredentialErrorKind, CredentialRegistry, EnvUserPassword,
/// };
/// std::env::set_var("ERROR_DOC_USER", "ops");
/// let mut registry = CredentialRegistry::new();
/// registry.register("ops", EnvUserPassword::new("ERROR_DOC_USER", "ERROR_DOC_PASSWORD"))?;
/// let err = registry.get("ops").unwrap_err();
/// assert!(matches!(err.kind(), CredentialErrorKind::EnvNotSet { var } if var == "ERROR_DOC_PASSWORD"));
/// assert_eq!(err.name(), Some("ops"));
/// assert_eq!(err.provider(), Some("env-user-password"));
/// assert_eq!(
///     err.to_string(),
///     r#"credentials "ops" (env-user-password): environment variable ERROR_DOC_PASSWORD is not set"#
/// );
/// # Ok::<(), CredentialError>(())
/// ```
#[derive(Debug)]
pub struct CredentialError {
    name: Option<String>,
    provider: Option<&'static str>,
    kind: CredentialErrorKind,
}

/// What went wrong, in a [`CredentialError`] (which carries the name and the provider).
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialErrorKind {
    /// An environment variable the provider reads is not set.
    EnvNotSet {
        /// The variable.
        var: String,
    },
    /// An environment variable the provider reads is set but empty.
    EnvEmpty {
        /// The variable.
        var: String,
    },
    /// An environment variable the provider reads is not valid Unicode.
    EnvNotUnicode {
        /// The variable.
        var: String,
    },
    /// A file the provider reads could not be read (missing, unreadable, not UTF-8).
    Read {
        /// What the file is (`token file`, `namespace file`).
        file: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file the provider reads is empty (or only whitespace).
    EmptyFile {
        /// What the file is (`token file`).
        file: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A provider failed in its own way; see [`CredentialError::custom`].
    Provider {
        /// The error.
        source: BoxError,
    },
    /// A name was registered a second time; the error's provider is the one refused.
    Duplicate {
        /// The kind of the provider registered first (which stays).
        existing: &'static str,
    },
    /// No provider is registered under the name asked for.
    Unknown {
        /// The registered names, sorted.
        registered: Vec<String>,
    },
}

impl CredentialError {
    /// An error of a provider of kind `provider`, for providers that report one of the
    /// built-in kinds of failure (for anything else, [`CredentialError::custom`]).
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialError, CredentialErrorKind};
    /// let err = CredentialError::new("vault", CredentialErrorKind::EnvNotSet { var: "VAULT_ADDR".into() });
    /// assert_eq!(err.to_string(), "credentials (vault): environment variable VAULT_ADDR is not set");
    /// ```
    pub fn new(provider: &'static str, kind: CredentialErrorKind) -> Self {
        CredentialError {
            name: None,
            provider: Some(provider),
            kind,
        }
    }

    /// An error of a provider of kind `provider`, for custom providers: wraps any error (or
    /// message). The message must not contain the secret.
    ///
    /// ```
    /// use chaos_runtime::credentials::CredentialError;
    /// let err = CredentialError::custom("vault", "vault answered 403");
    /// assert_eq!(err.to_string(), "credentials (vault): vault answered 403");
    /// assert_eq!(err.named("db").to_string(), r#"credentials "db" (vault): vault answered 403"#);
    /// ```
    pub fn custom(provider: &'static str, source: impl Into<BoxError>) -> Self {
        CredentialError::new(
            provider,
            CredentialErrorKind::Provider {
                source: source.into(),
            },
        )
    }

    /// No provider is registered as `name`.
    pub(super) fn unknown(name: &str, registered: Vec<String>) -> Self {
        CredentialError {
            name: Some(name.to_owned()),
            provider: None,
            kind: CredentialErrorKind::Unknown { registered },
        }
    }

    /// The error with the registered name filled in, unless it already names one.
    /// [`CredentialRegistry::get`](super::CredentialRegistry::get) does this for you.
    ///
    /// ```
    /// use chaos_runtime::credentials::CredentialError;
    /// let err = CredentialError::custom("vault", "sealed").named("db").named("other");
    /// assert_eq!(err.name(), Some("db"));
    /// ```
    pub fn named(mut self, registered_as: &str) -> Self {
        if self.name.is_none() {
            self.name = Some(registered_as.to_owned());
        }
        self
    }

    /// The registered name the error is about, when known.
    ///
    /// ```
    /// use chaos_runtime::credentials::CredentialRegistry;
    /// let err = CredentialRegistry::new().get("ops").unwrap_err();
    /// assert_eq!(err.name(), Some("ops"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The kind of the provider that failed (for [`CredentialErrorKind::Duplicate`]: the one
    /// refused); `None` for an unknown name.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
    /// let err = TokenFile::new("/surely/not/here/token").load().unwrap_err();
    /// assert_eq!(err.provider(), Some("token-file"));
    /// ```
    pub fn provider(&self) -> Option<&'static str> {
        self.provider
    }

    /// What went wrong.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialErrorKind, CredentialRegistry};
    /// let err = CredentialRegistry::new().get("ops").unwrap_err();
    /// assert!(matches!(err.kind(), CredentialErrorKind::Unknown { registered } if registered.is_empty()));
    /// ```
    pub fn kind(&self) -> &CredentialErrorKind {
        &self.kind
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.as_deref();
        match &self.kind {
            CredentialErrorKind::Duplicate { existing } => {
                write!(f, "{} are registered once: ", Origin(name, Some(existing)))?;
                match self.provider {
                    Some(refused) => write!(f, "a second provider ({refused}) was refused"),
                    None => f.write_str("a second provider was refused"),
                }
            }
            CredentialErrorKind::Unknown { registered } => match name {
                Some(name) => write!(
                    f,
                    "no credentials are registered as \"{name}\" ({})",
                    Registered(registered)
                ),
                None => write!(
                    f,
                    "no credentials are registered under that name ({})",
                    Registered(registered)
                ),
            },
            kind => {
                write!(f, "{}: ", Origin(name, self.provider))?;
                match kind {
                    CredentialErrorKind::EnvNotSet { var } => {
                        write!(f, "environment variable {var} is not set")
                    }
                    CredentialErrorKind::EnvEmpty { var } => {
                        write!(f, "environment variable {var} is empty")
                    }
                    CredentialErrorKind::EnvNotUnicode { var } => {
                        write!(f, "environment variable {var} is not valid Unicode")
                    }
                    CredentialErrorKind::Read { file, path, source } => {
                        write!(f, "could not read {file} `{}`: {source}", path.display())
                    }
                    CredentialErrorKind::EmptyFile { file, path } => {
                        write!(f, "{file} `{}` is empty", path.display())
                    }
                    CredentialErrorKind::Provider { source } => write!(f, "{source}"),
                    CredentialErrorKind::Duplicate { .. } | CredentialErrorKind::Unknown { .. } => {
                        unreachable!("handled above")
                    }
                }
            }
        }
    }
}

impl std::error::Error for CredentialError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CredentialErrorKind::Read { source, .. } => Some(source),
            CredentialErrorKind::Provider { source } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// `credentials "name" (kind)`; without the name (not known yet) `credentials (kind)`.
struct Origin<'a>(Option<&'a str>, Option<&'a str>);

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("credentials")?;
        if let Some(name) = self.0 {
            write!(f, " \"{name}\"")?;
        }
        if let Some(provider) = self.1 {
            write!(f, " ({provider})")?;
        }
        Ok(())
    }
}

/// `registered: "a", "b"`, or `none are registered`.
struct Registered<'a>(&'a [String]);

impl fmt::Display for Registered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none are registered");
        }
        f.write_str("registered: ")?;
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{name}\"")?;
        }
        Ok(())
    }
}
