//! [`CredentialProvider`]: the trait a source of credentials implements, and [`from_fn`] to
//! make one from a closure.

use super::{CredentialError, Credentials};
use std::fmt;
use std::sync::Arc;

/// A source of [`Credentials`]: Kallisti's credential types, as a trait you can implement.
///
/// [`load`](CredentialProvider::load) is called on every
/// [`CredentialRegistry::get`](super::CredentialRegistry::get), so it should read the source
/// afresh (tokens rotate) and stay cheap; it blocks, so keep it to small reads. Wrap every
/// secret it yields in a [`Secret`](crate::redact::Secret) (or build the result with
/// [`Credentials::from_token`] / [`Credentials::from_user_password`]) so that it is redacted.
/// Report failures as a [`CredentialError`]; [`CredentialError::custom`] wraps any error.
///
/// ```
/// use chaos_runtime::credentials::{CredentialError, CredentialProvider, Credentials};
///
/// /// A token kept in memory, e.g. one fetched at start-up from a vault.
/// struct StaticToken(String);
///
/// impl CredentialProvider for StaticToken {
///     fn kind(&self) -> &'static str {
///         "static-token"
///     }
///     fn load(&self) -> Result<Credentials, CredentialError> {
///         if self.0.is_empty() {
///             return Err(CredentialError::custom(self.kind(), "the token is empty"));
///         }
///         Ok(Credentials::from_token(self.0.clone()))
///     }
/// }
///
/// let creds = StaticToken("trait-doc-token".into()).load()?;
/// assert_eq!(creds.bearer().as_deref(), Some("Bearer trait-doc-token"));
/// let err = StaticToken(String::new()).load().unwrap_err();
/// assert_eq!(err.to_string(), "credentials (static-token): the token is empty");
/// # Ok::<(), CredentialError>(())
/// ```
pub trait CredentialProvider: Send + Sync + 'static {
    /// A short, stable name for the kind of provider, used in errors and logs
    /// (`env-user-password`, `token-file`, `k8s-service-account`, ...).
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
    /// assert_eq!(TokenFile::new("/run/secrets/token").kind(), "token-file");
    /// ```
    fn kind(&self) -> &'static str;

    /// Loads the credentials, reading the source afresh.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialProvider, EnvUserPassword};
    /// std::env::set_var("LOAD_DOC_USER", "ops");
    /// std::env::set_var("LOAD_DOC_PASSWORD", "load-doc-password");
    /// let creds = EnvUserPassword::new("LOAD_DOC_USER", "LOAD_DOC_PASSWORD").load()?;
    /// assert_eq!(creds.username.as_deref(), Some("ops"));
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    fn load(&self) -> Result<Credentials, CredentialError>;
}

/// A shared provider is a provider.
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
/// use std::sync::Arc;
/// let shared: Arc<dyn CredentialProvider> = Arc::new(TokenFile::new("/run/secrets/token"));
/// assert_eq!(shared.kind(), "token-file");
/// ```
impl<P: CredentialProvider + ?Sized> CredentialProvider for Arc<P> {
    fn kind(&self) -> &'static str {
        (**self).kind()
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        (**self).load()
    }
}

/// A provider made from a closure; see [`from_fn`].
///
/// ```
/// use chaos_runtime::credentials::{from_fn, CredentialProvider, Credentials, FnProvider};
/// let provider: FnProvider<_> = from_fn("fixed", || Ok(Credentials::from_token("fn-provider-doc")));
/// assert_eq!(provider.kind(), "fixed");
/// ```
pub struct FnProvider<F> {
    kind: &'static str,
    load: F,
}

/// Makes a provider of kind `kind` whose [`load`](CredentialProvider::load) calls `load`.
///
/// ```
/// use chaos_runtime::credentials::{from_fn, CredentialError, CredentialRegistry, Credentials};
///
/// let mut registry = CredentialRegistry::new();
/// registry.register(
///     "vault",
///     from_fn("vault", || {
///         let token = std::env::var("FROM_FN_DOC_TOKEN")
///             .map_err(|e| CredentialError::custom("vault", e))?;
///         Ok(Credentials::from_token(token))
///     }),
/// )?;
/// let err = registry.get("vault").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"credentials "vault" (vault): environment variable not found"#
/// );
/// # Ok::<(), CredentialError>(())
/// ```
pub fn from_fn<F>(kind: &'static str, load: F) -> FnProvider<F>
where
    F: Fn() -> Result<Credentials, CredentialError> + Send + Sync + 'static,
{
    FnProvider { kind, load }
}

impl<F> CredentialProvider for FnProvider<F>
where
    F: Fn() -> Result<Credentials, CredentialError> + Send + Sync + 'static,
{
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        (self.load)()
    }
}

impl<F> fmt::Debug for FnProvider<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnProvider")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}
