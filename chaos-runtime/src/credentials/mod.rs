//! Credential providers, after Kallisti's: where an experiment's user names, passwords and
//! tokens come from.
//!
//! A [`CredentialProvider`] loads [`Credentials`]: from environment variables
//! ([`EnvUserPassword`]), a token file ([`TokenFile`]), a Kubernetes service account
//! ([`KubernetesServiceAccount`]), or anything else you implement the trait for (or wrap in
//! [`from_fn`]). A [`CredentialRegistry`] names providers and loads fresh credentials on every
//! [`get`](CredentialRegistry::get), so a rotated token file is picked up by the next request.
//!
//! Every password and token loaded is a [`Secret`](crate::redact::Secret): registered with
//! the process-wide [redactor](crate::redact) as it is loaded, so it shows as `***` in
//! journals, verdicts, logs and panic messages, including inside the `Authorization` values
//! [`Credentials::bearer`] and [`Credentials::basic`] make.
//!
//! ```
//! use chaos_runtime::credentials::{CredentialRegistry, TokenFile};
//! use chaos_runtime::redact;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("token");
//! std::fs::write(&path, "module-doc-token-1\n")?;
//!
//! let mut registry = CredentialRegistry::new();
//! registry.register("api", TokenFile::new(&path))?;
//! let creds = registry.get("api")?;
//! assert_eq!(creds.bearer().as_deref(), Some("Bearer module-doc-token-1"));
//! assert_eq!(redact::redact("token module-doc-token-1"), "token ***");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Layering, bottom up: `error` (a leaf, which `crate::error` reads), `value`, `provider`, the
// three built-in providers, `registry`.
mod env_user_password;
pub(crate) mod error;
mod from_settings;
mod provider;
mod registry;
mod service_account;
mod token_file;
mod value;

pub use env_user_password::EnvUserPassword;
pub use error::{CredentialError, CredentialErrorKind};
pub use provider::{from_fn, CredentialProvider, FnProvider};
pub use registry::CredentialRegistry;
pub use service_account::{KubernetesServiceAccount, SERVICE_ACCOUNT_DIR};
pub use token_file::TokenFile;
pub use value::Credentials;
