//! Error types shared by activities and the runner.
//!
//! A leaf: it imports only other leaves (`time`, and the credential error, which lives in
//! a leaf of its own so that classifying it here makes no cycle).

use crate::credentials::error::CredentialError;
use std::time::Duration;

/// The error type activity blocks return through `?`: any error converts into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A variable the experiment asked for with [`Context::var`](crate::Context::var) is not set.
///
/// Returned through `?`, it ends the run with outcome `error` and names the variable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("variable `{name}` is not set (set the environment variable `{name}`)")]
pub struct MissingVariable {
    /// The variable's name.
    pub name: String,
}

/// A secret the experiment asked for with [`Context::secret`](crate::Context::secret) is not
/// configured. Returned through `?`, it ends the run with outcome `error`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("secret `{name}` is not configured (add it to the [secrets] of the settings file)")]
pub struct MissingSecret {
    /// The secret's name.
    pub name: String,
}

/// Why an activity failed, as recorded in the journal and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityFailure {
    /// The activity's block returned an error.
    Error(String),
    /// The activity ran past its timeout and was cancelled.
    Timeout(Duration),
    /// The activity panicked.
    Panic(String),
    /// The activity asked for a variable that is not set.
    MissingVariable(String),
    /// The activity asked for a secret or credentials that are not configured or could not be
    /// loaded; like a missing variable, this ends the run with outcome `error`.
    Setup(String),
}

impl ActivityFailure {
    /// Whether the failure is of the run's setup (a missing variable, secret or credentials):
    /// the run then ends with outcome `error`.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            ActivityFailure::MissingVariable(_) | ActivityFailure::Setup(_)
        )
    }

    /// Classifies an error returned by an activity block.
    pub fn from_error(err: BoxError) -> Self {
        let err = match err.downcast::<MissingVariable>() {
            Ok(missing) => return ActivityFailure::MissingVariable(missing.name),
            Err(other) => other,
        };
        let err = match err.downcast::<MissingSecret>() {
            Ok(missing) => return ActivityFailure::Setup(missing.to_string()),
            Err(other) => other,
        };
        match err.downcast::<CredentialError>() {
            Ok(e) => ActivityFailure::Setup(e.to_string()),
            Err(other) => ActivityFailure::Error(error_chain(other.as_ref())),
        }
    }

    /// Classifies a panic payload.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        ActivityFailure::Panic(msg)
    }
}

impl std::fmt::Display for ActivityFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActivityFailure::Error(e) => write!(f, "error: {e}"),
            ActivityFailure::Timeout(d) => write!(f, "timed out after {}", crate::time::human(*d)),
            ActivityFailure::Panic(m) => write!(f, "panicked: {m}"),
            ActivityFailure::MissingVariable(n) => {
                write!(
                    f,
                    "variable `{n}` is not set (set the environment variable `{n}`)"
                )
            }
            ActivityFailure::Setup(m) => f.write_str(m),
        }
    }
}

/// Formats an error with its sources, `outer: inner: innermost`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
