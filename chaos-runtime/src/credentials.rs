//! Credential providers, after Kallisti's: where an experiment's user names, passwords and
//! tokens come from.
//!
//! A [`CredentialProvider`] loads [`Credentials`]: from environment variables
//! ([`EnvUserPassword`]), a token file ([`TokenFile`]), a Kubernetes service account
//! ([`KubernetesServiceAccount`]), or anything else you implement the trait for (or wrap in
//! [`from_fn`]). A [`CredentialRegistry`] names providers and loads fresh credentials on every
//! [`get`](CredentialRegistry::get), so a rotated token file is picked up by the next request.
//!
//! Every password and token loaded is a [`Secret`]: registered with the process-wide
//! [redactor](crate::redact) as it is loaded, so it shows as `***` in journals, verdicts, logs
//! and panic messages, including inside the `Authorization` values [`Credentials::bearer`] and
//! [`Credentials::basic`] make.
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

use crate::error::BoxError;
use crate::redact::{self, Secret};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Kubernetes mounts a pod's service-account token and namespace.
///
/// ```
/// assert_eq!(
///     chaos_runtime::credentials::SERVICE_ACCOUNT_DIR,
///     "/var/run/secrets/kubernetes.io/serviceaccount"
/// );
/// ```
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What a provider yields. The secret parts are [`Secret`]s, registered with the redactor when
/// they were loaded.
///
/// `Debug` shows the user name and `***` for the secrets.
///
/// ```
/// use chaos_runtime::credentials::Credentials;
/// use chaos_runtime::redact::Secret;
///
/// let creds = Credentials {
///     username: Some("ops".into()),
///     password: Some(Secret::new("struct-doc-password")),
///     token: None,
/// };
/// assert_eq!(
///     format!("{creds:?}"),
///     r#"Credentials { username: Some("ops"), password: Some(***), token: None }"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user name, when the provider has one (for a Kubernetes service account: its
    /// namespace).
    pub username: Option<String>,
    /// The password.
    pub password: Option<Secret>,
    /// The bearer token.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Credentials made of a token alone; the token is registered with the redactor.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_token("from-token-doc-value");
    /// assert_eq!(creds.token.unwrap().expose(), "from-token-doc-value");
    /// assert_eq!(creds.username, None);
    /// ```
    pub fn from_token(token: impl Into<String>) -> Self {
        Credentials {
            token: Some(Secret::new(token)),
            ..Credentials::default()
        }
    }

    /// Credentials made of a user name and a password; the password is registered with the
    /// redactor.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_user_password("ops", "from-user-password-doc");
    /// assert_eq!(creds.username.as_deref(), Some("ops"));
    /// assert_eq!(creds.password.unwrap().expose(), "from-user-password-doc");
    /// ```
    pub fn from_user_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: Some(username.into()),
            password: Some(Secret::new(password)),
            token: None,
        }
    }

    /// The `Authorization` header value for the token, `Bearer <token>`; `None` without a
    /// token. The token inside is redacted wherever the value is written.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_token("bearer-doc-token");
    /// assert_eq!(creds.bearer().as_deref(), Some("Bearer bearer-doc-token"));
    /// assert_eq!(chaos_runtime::redact::redact(&creds.bearer().unwrap()), "Bearer ***");
    /// assert_eq!(Credentials::default().bearer(), None);
    /// ```
    pub fn bearer(&self) -> Option<String> {
        self.token
            .as_ref()
            .map(|token| format!("Bearer {}", token.expose()))
    }

    /// The `Authorization` header value for HTTP basic authentication,
    /// `Basic base64(<username>:<password>)` (RFC 7617, UTF-8); `None` unless both the user
    /// name and the password are set.
    ///
    /// The encoded part is registered with the redactor too, so the header value shows as
    /// `Basic ***` wherever it is written. A user name must not contain `:` (RFC 7617): the
    /// server would split it there.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_user_password("Aladdin", "open sesame");
    /// let header = creds.basic().unwrap();
    /// assert_eq!(header, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    /// assert_eq!(chaos_runtime::redact::redact(&header), "Basic ***");
    /// assert_eq!(Credentials::from_token("only-a-token").basic(), None);
    /// ```
    pub fn basic(&self) -> Option<String> {
        let username = self.username.as_ref()?;
        let password = self.password.as_ref()?;
        let encoded = base64(format!("{username}:{}", password.expose()).as_bytes());
        redact::register(&encoded);
        Some(format!("Basic {encoded}"))
    }
}

/// A source of [`Credentials`]: Kallisti's credential types, as a trait you can implement.
///
/// [`load`](CredentialProvider::load) is called on every [`CredentialRegistry::get`], so it
/// should read the source afresh (tokens rotate) and stay cheap; it blocks, so keep it to small
/// reads. Wrap every secret it yields in a [`Secret`] (or build the result with
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

/// A user name and a password from two environment variables (Kallisti's
/// `ENV_VAR_USERNAME_PASSWORD`). Kind: `env-user-password`.
///
/// Both variables must be set and not empty; the values are taken as they are (not trimmed).
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, EnvUserPassword};
/// std::env::set_var("ENV_DOC_USER", "ops");
/// std::env::set_var("ENV_DOC_PASSWORD", "env-doc-password");
/// let creds = EnvUserPassword::new("ENV_DOC_USER", "ENV_DOC_PASSWORD").load()?;
/// assert_eq!(creds.username.as_deref(), Some("ops"));
/// assert_eq!(creds.password.unwrap().expose(), "env-doc-password");
///
/// let err = EnvUserPassword::new("ENV_DOC_USER", "ENV_DOC_UNSET").load().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "credentials (env-user-password): environment variable ENV_DOC_UNSET is not set"
/// );
/// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvUserPassword {
    user_env: String,
    password_env: String,
}

impl EnvUserPassword {
    /// The kind, as [`CredentialProvider::kind`] returns it.
    ///
    /// ```
    /// use chaos_runtime::credentials::EnvUserPassword;
    /// assert_eq!(EnvUserPassword::KIND, "env-user-password");
    /// ```
    pub const KIND: &'static str = "env-user-password";

    /// Reads the user name from `user_env` and the password from `password_env`.
    ///
    /// ```
    /// use chaos_runtime::credentials::EnvUserPassword;
    /// let provider = EnvUserPassword::new("OPS_USER", "OPS_PASSWORD");
    /// assert_eq!(provider.password_env(), "OPS_PASSWORD");
    /// ```
    pub fn new(user_env: impl Into<String>, password_env: impl Into<String>) -> Self {
        EnvUserPassword {
            user_env: user_env.into(),
            password_env: password_env.into(),
        }
    }

    /// The variable holding the user name.
    ///
    /// ```
    /// use chaos_runtime::credentials::EnvUserPassword;
    /// assert_eq!(EnvUserPassword::new("OPS_USER", "OPS_PASSWORD").user_env(), "OPS_USER");
    /// ```
    pub fn user_env(&self) -> &str {
        &self.user_env
    }

    /// The variable holding the password.
    ///
    /// ```
    /// use chaos_runtime::credentials::EnvUserPassword;
    /// assert_eq!(EnvUserPassword::new("OPS_USER", "OPS_PASSWORD").password_env(), "OPS_PASSWORD");
    /// ```
    pub fn password_env(&self) -> &str {
        &self.password_env
    }

    fn var(&self, var: &str) -> Result<String, CredentialError> {
        let (name, provider, var_name) = (None, Self::KIND, var.to_owned());
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            Ok(_) => Err(CredentialError::EnvEmpty {
                name,
                provider,
                var: var_name,
            }),
            Err(std::env::VarError::NotPresent) => Err(CredentialError::EnvNotSet {
                name,
                provider,
                var: var_name,
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(CredentialError::EnvNotUnicode {
                name,
                provider,
                var: var_name,
            }),
        }
    }
}

impl CredentialProvider for EnvUserPassword {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        let username = self.var(&self.user_env)?;
        let password = self.var(&self.password_env)?;
        tracing::debug!(
            user_env = %self.user_env,
            password_env = %self.password_env,
            "loaded a user name and password from the environment"
        );
        Ok(Credentials::from_user_password(username, password))
    }
}

/// A bearer token read from a file (Kallisti's `TOKEN_FILE`). Kind: `token-file`.
///
/// The file is read on every load, so a rotated token is picked up; trailing whitespace (the
/// final newline) is trimmed, and a file that is empty after trimming is an error.
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("token");
/// std::fs::write(&path, "token-file-doc-value\n")?;
/// let creds = TokenFile::new(&path).load()?;
/// assert_eq!(creds.token.unwrap().expose(), "token-file-doc-value");
///
/// std::fs::write(&path, "\n")?;
/// let err = TokenFile::new(&path).load().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     format!("credentials (token-file): token file `{}` is empty", path.display())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The kind, as [`CredentialProvider::kind`] returns it.
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// assert_eq!(TokenFile::KIND, "token-file");
    /// ```
    pub const KIND: &'static str = "token-file";

    /// Reads the token from `path` (relative paths: from the current directory).
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// let provider = TokenFile::new("/run/secrets/api-token");
    /// assert_eq!(provider.path(), std::path::Path::new("/run/secrets/api-token"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile { path: path.into() }
    }

    /// The token file.
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// assert_eq!(TokenFile::new("token").path(), std::path::Path::new("token"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CredentialProvider for TokenFile {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        let token = read_token(Self::KIND, &self.path)?;
        tracing::debug!(path = %self.path.display(), "read a token file");
        Ok(Credentials::from_token(token))
    }
}

/// A Kubernetes service account's token, as mounted into a pod (Kallisti's
/// `K8S_SVC_ACC_TOKEN_FILE`). Kind: `k8s-service-account`.
///
/// The token file is read on every load (the kubelet rotates projected tokens), trimmed of
/// trailing whitespace and must not be empty. When the namespace file exists, the namespace is
/// put in [`Credentials::username`]; a missing namespace file leaves it `None`.
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, KubernetesServiceAccount};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("token"), "k8s-doc-token-value")?;
/// std::fs::write(dir.path().join("namespace"), "payments\n")?;
/// let creds = KubernetesServiceAccount::at(dir.path()).load()?;
/// assert_eq!(creds.username.as_deref(), Some("payments"));
/// assert_eq!(creds.bearer().as_deref(), Some("Bearer k8s-doc-token-value"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubernetesServiceAccount {
    token_path: PathBuf,
    namespace_path: PathBuf,
}

impl KubernetesServiceAccount {
    /// The kind, as [`CredentialProvider::kind`] returns it.
    ///
    /// ```
    /// use chaos_runtime::credentials::KubernetesServiceAccount;
    /// assert_eq!(KubernetesServiceAccount::KIND, "k8s-service-account");
    /// ```
    pub const KIND: &'static str = "k8s-service-account";

    /// Reads the token from `token_path` (any file name) and the namespace from `namespace`
    /// beside it.
    ///
    /// ```
    /// use chaos_runtime::credentials::KubernetesServiceAccount;
    /// let provider = KubernetesServiceAccount::with_token_path("/mnt/sa/custom-token");
    /// assert_eq!(provider.token_path(), std::path::Path::new("/mnt/sa/custom-token"));
    /// assert_eq!(provider.namespace_path(), std::path::Path::new("/mnt/sa/namespace"));
    /// ```
    pub fn with_token_path(token_path: impl Into<PathBuf>) -> Self {
        let token_path = token_path.into();
        let namespace_path = token_path
            .parent()
            .map(|d| d.join("namespace"))
            .unwrap_or_else(|| PathBuf::from("namespace"));
        KubernetesServiceAccount {
            token_path,
            namespace_path,
        }
    }

    /// Reads `token` and `namespace` in `dir` instead of [`SERVICE_ACCOUNT_DIR`].
    ///
    /// ```
    /// use chaos_runtime::credentials::KubernetesServiceAccount;
    /// let provider = KubernetesServiceAccount::at("/mnt/sa");
    /// assert_eq!(provider.token_path(), std::path::Path::new("/mnt/sa/token"));
    /// ```
    pub fn at(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        KubernetesServiceAccount {
            token_path: dir.join("token"),
            namespace_path: dir.join("namespace"),
        }
    }

    /// The token file.
    ///
    /// ```
    /// use chaos_runtime::credentials::KubernetesServiceAccount;
    /// assert_eq!(
    ///     KubernetesServiceAccount::default().token_path(),
    ///     std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token")
    /// );
    /// ```
    pub fn token_path(&self) -> &Path {
        &self.token_path
    }

    /// The namespace file.
    ///
    /// ```
    /// use chaos_runtime::credentials::KubernetesServiceAccount;
    /// assert_eq!(
    ///     KubernetesServiceAccount::default().namespace_path(),
    ///     std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    /// );
    /// ```
    pub fn namespace_path(&self) -> &Path {
        &self.namespace_path
    }
}

/// The pod's own service account, under [`SERVICE_ACCOUNT_DIR`].
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, KubernetesServiceAccount};
/// let provider = KubernetesServiceAccount::default();
/// assert_eq!(provider.kind(), "k8s-service-account");
/// ```
impl Default for KubernetesServiceAccount {
    fn default() -> Self {
        KubernetesServiceAccount::at(SERVICE_ACCOUNT_DIR)
    }
}

impl CredentialProvider for KubernetesServiceAccount {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        let token = read_token(Self::KIND, &self.token_path)?;
        let namespace = match std::fs::read_to_string(&self.namespace_path) {
            Ok(text) => Some(text.trim().to_owned()).filter(|ns| !ns.is_empty()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(CredentialError::Read {
                    name: None,
                    provider: Self::KIND,
                    file: "namespace file",
                    path: self.namespace_path.clone(),
                    source,
                })
            }
        };
        tracing::debug!(
            token_path = %self.token_path.display(),
            namespace = namespace.as_deref().unwrap_or("<none>"),
            "read a Kubernetes service-account token"
        );
        Ok(Credentials {
            username: namespace,
            password: None,
            token: Some(Secret::new(token)),
        })
    }
}

/// Reads a token file: trailing whitespace trimmed, empty is an error.
fn read_token(provider: &'static str, path: &Path) -> Result<String, CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialError::Read {
        name: None,
        provider,
        file: "token file",
        path: path.to_owned(),
        source,
    })?;
    let token = text.trim_end();
    if token.is_empty() {
        return Err(CredentialError::EmptyFile {
            name: None,
            provider,
            file: "token file",
            path: path.to_owned(),
        });
    }
    Ok(token.to_owned())
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

/// Named credential providers. Each name is registered once; [`get`](Self::get) loads fresh
/// credentials on every call, so rotated token files are picked up.
///
/// Cheap to clone (the providers are shared).
///
/// ```
/// use chaos_runtime::credentials::{CredentialRegistry, EnvUserPassword, TokenFile};
///
/// std::env::set_var("REGISTRY_DOC_USER", "ops");
/// std::env::set_var("REGISTRY_DOC_PASSWORD", "registry-doc-password");
/// let mut registry = CredentialRegistry::new();
/// registry.register("ops", EnvUserPassword::new("REGISTRY_DOC_USER", "REGISTRY_DOC_PASSWORD"))?;
/// registry.register("api", TokenFile::new("/surely/not/here/token"))?;
///
/// assert_eq!(registry.get("ops")?.username.as_deref(), Some("ops"));
/// assert_eq!(
///     registry.get("nope").unwrap_err().to_string(),
///     r#"no credentials are registered as "nope" (registered: "api", "ops")"#
/// );
/// assert!(registry
///     .get("api")
///     .unwrap_err()
///     .to_string()
///     .starts_with(r#"credentials "api" (token-file): could not read token file `/surely/not/here/token`"#));
/// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
/// ```
#[derive(Clone, Default)]
pub struct CredentialRegistry {
    providers: BTreeMap<String, Arc<dyn CredentialProvider>>,
}

impl CredentialRegistry {
    /// An empty registry.
    ///
    /// ```
    /// let registry = chaos_runtime::credentials::CredentialRegistry::new();
    /// assert!(registry.is_empty());
    /// ```
    pub fn new() -> Self {
        CredentialRegistry::default()
    }

    /// Registers `provider` as `name`. A name is registered once: a second registration of
    /// the same name is refused with [`CredentialError::Duplicate`] and the first stays.
    ///
    /// An `Arc<dyn CredentialProvider>` is a provider too, so providers can be shared between
    /// registries.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialRegistry, TokenFile};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("api", TokenFile::new("/run/secrets/a"))?;
    /// let err = registry.register("api", TokenFile::new("/run/secrets/b")).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"credentials "api" (token-file) are registered once: a second provider (token-file) was refused"#
    /// );
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn register(
        &mut self,
        name: impl Into<String>,
        provider: impl CredentialProvider,
    ) -> Result<(), CredentialError> {
        use std::collections::btree_map::Entry;
        let name = name.into();
        match self.providers.entry(name) {
            Entry::Occupied(existing) => Err(CredentialError::Duplicate {
                name: existing.key().clone(),
                existing: existing.get().kind(),
                provider: provider.kind(),
            }),
            Entry::Vacant(slot) => {
                tracing::debug!(credentials = %slot.key(), provider = provider.kind(), "registered credentials");
                slot.insert(Arc::new(provider));
                Ok(())
            }
        }
    }

    /// Loads the credentials registered as `name`, afresh. Errors name `name`, the provider's
    /// kind and what was missing; an unknown name's error lists the registered names.
    ///
    /// ```
    /// use chaos_runtime::credentials::{from_fn, CredentialRegistry, Credentials};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("fixed", from_fn("fixed", || Ok(Credentials::from_token("get-doc-token"))))?;
    /// assert_eq!(registry.get("fixed")?.bearer().as_deref(), Some("Bearer get-doc-token"));
    /// assert_eq!(
    ///     CredentialRegistry::new().get("fixed").unwrap_err().to_string(),
    ///     r#"no credentials are registered as "fixed" (none are registered)"#
    /// );
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn get(&self, name: &str) -> Result<Credentials, CredentialError> {
        let provider = self
            .providers
            .get(name)
            .ok_or_else(|| CredentialError::Unknown {
                name: name.to_owned(),
                registered: self.providers.keys().cloned().collect(),
            })?;
        let credentials = provider.load().map_err(|e| e.named(name))?;
        tracing::debug!(
            credentials = name,
            provider = provider.kind(),
            "loaded credentials"
        );
        Ok(credentials)
    }

    /// Whether `name` is registered.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialRegistry, TokenFile};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("api", TokenFile::new("token"))?;
    /// assert!(registry.contains("api"));
    /// assert!(!registry.contains("ops"));
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// The kind of the provider registered as `name`.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialRegistry, KubernetesServiceAccount};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("cluster", KubernetesServiceAccount::default())?;
    /// assert_eq!(registry.kind("cluster"), Some("k8s-service-account"));
    /// assert_eq!(registry.kind("other"), None);
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn kind(&self, name: &str) -> Option<&'static str> {
        self.providers.get(name).map(|p| p.kind())
    }

    /// The registered names, sorted.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialRegistry, TokenFile};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("b", TokenFile::new("b"))?;
    /// registry.register("a", TokenFile::new("a"))?;
    /// assert_eq!(registry.names().collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// How many names are registered.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialRegistry, TokenFile};
    /// let mut registry = CredentialRegistry::new();
    /// registry.register("api", TokenFile::new("token"))?;
    /// assert_eq!(registry.len(), 1);
    /// # Ok::<(), chaos_runtime::credentials::CredentialError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether no name is registered.
    ///
    /// ```
    /// assert!(chaos_runtime::credentials::CredentialRegistry::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }
}

impl fmt::Debug for CredentialRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.providers.iter().map(|(name, p)| (name, p.kind())))
            .finish()
    }
}

/// Credentials could not be loaded, or a registry refused a name.
///
/// Messages name the provider's kind, the registered name once the error has passed through
/// [`CredentialRegistry::get`] (or [`CredentialError::named`]), and the variable or file:
/// `credentials "ops" (env-user-password): environment variable OPS_PASSWORD is not set`.
/// They never contain a secret.
///
/// ```
/// use chaos_runtime::credentials::{CredentialError, CredentialRegistry, EnvUserPassword};
/// std::env::set_var("ERROR_DOC_USER", "ops");
/// let mut registry = CredentialRegistry::new();
/// registry.register("ops", EnvUserPassword::new("ERROR_DOC_USER", "ERROR_DOC_PASSWORD"))?;
/// let err = registry.get("ops").unwrap_err();
/// assert!(matches!(err, CredentialError::EnvNotSet { ref var, .. } if var == "ERROR_DOC_PASSWORD"));
/// assert_eq!(err.name(), Some("ops"));
/// assert_eq!(err.provider(), Some("env-user-password"));
/// assert_eq!(
///     err.to_string(),
///     r#"credentials "ops" (env-user-password): environment variable ERROR_DOC_PASSWORD is not set"#
/// );
/// # Ok::<(), CredentialError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// An environment variable the provider reads is not set.
    #[error("{}: environment variable {var} is not set", Origin(name, provider))]
    EnvNotSet {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// The variable.
        var: String,
    },
    /// An environment variable the provider reads is set but empty.
    #[error("{}: environment variable {var} is empty", Origin(name, provider))]
    EnvEmpty {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// The variable.
        var: String,
    },
    /// An environment variable the provider reads is not valid Unicode.
    #[error(
        "{}: environment variable {var} is not valid Unicode",
        Origin(name, provider)
    )]
    EnvNotUnicode {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// The variable.
        var: String,
    },
    /// A file the provider reads could not be read (missing, unreadable, not UTF-8).
    #[error("{}: could not read {file} `{}`: {source}", Origin(name, provider), path.display())]
    Read {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// What the file is (`token file`, `namespace file`).
        file: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file the provider reads is empty (or only whitespace).
    #[error("{}: {file} `{}` is empty", Origin(name, provider), path.display())]
    EmptyFile {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// What the file is (`token file`).
        file: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A provider failed in its own way; see [`CredentialError::custom`].
    #[error("{}: {source}", Origin(name, provider))]
    Provider {
        /// The registered name, when known.
        name: Option<String>,
        /// The provider's kind.
        provider: &'static str,
        /// The error.
        source: BoxError,
    },
    /// A name was registered a second time.
    #[error("credentials \"{name}\" ({existing}) are registered once: a second provider ({provider}) was refused")]
    Duplicate {
        /// The name.
        name: String,
        /// The kind of the provider registered first (which stays).
        existing: &'static str,
        /// The kind of the provider refused.
        provider: &'static str,
    },
    /// No provider is registered under the name asked for.
    #[error(
        "no credentials are registered as \"{name}\" ({})",
        Registered(registered)
    )]
    Unknown {
        /// The name asked for.
        name: String,
        /// The registered names, sorted.
        registered: Vec<String>,
    },
}

impl CredentialError {
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
        CredentialError::Provider {
            name: None,
            provider,
            source: source.into(),
        }
    }

    /// The error with the registered name filled in, unless it already names one.
    /// [`CredentialRegistry::get`] does this for you.
    ///
    /// ```
    /// use chaos_runtime::credentials::CredentialError;
    /// let err = CredentialError::custom("vault", "sealed").named("db").named("other");
    /// assert_eq!(err.name(), Some("db"));
    /// ```
    pub fn named(mut self, registered_as: &str) -> Self {
        match &mut self {
            CredentialError::EnvNotSet { name, .. }
            | CredentialError::EnvEmpty { name, .. }
            | CredentialError::EnvNotUnicode { name, .. }
            | CredentialError::Read { name, .. }
            | CredentialError::EmptyFile { name, .. }
            | CredentialError::Provider { name, .. } => {
                if name.is_none() {
                    *name = Some(registered_as.to_owned());
                }
            }
            CredentialError::Duplicate { .. } | CredentialError::Unknown { .. } => {}
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
        match self {
            CredentialError::EnvNotSet { name, .. }
            | CredentialError::EnvEmpty { name, .. }
            | CredentialError::EnvNotUnicode { name, .. }
            | CredentialError::Read { name, .. }
            | CredentialError::EmptyFile { name, .. }
            | CredentialError::Provider { name, .. } => name.as_deref(),
            CredentialError::Duplicate { name, .. } | CredentialError::Unknown { name, .. } => {
                Some(name)
            }
        }
    }

    /// The kind of the provider that failed (for [`CredentialError::Duplicate`]: the one
    /// refused); `None` for an unknown name.
    ///
    /// ```
    /// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
    /// let err = TokenFile::new("/surely/not/here/token").load().unwrap_err();
    /// assert_eq!(err.provider(), Some("token-file"));
    /// ```
    pub fn provider(&self) -> Option<&'static str> {
        match self {
            CredentialError::EnvNotSet { provider, .. }
            | CredentialError::EnvEmpty { provider, .. }
            | CredentialError::EnvNotUnicode { provider, .. }
            | CredentialError::Read { provider, .. }
            | CredentialError::EmptyFile { provider, .. }
            | CredentialError::Provider { provider, .. }
            | CredentialError::Duplicate { provider, .. } => Some(provider),
            CredentialError::Unknown { .. } => None,
        }
    }
}

/// `credentials "name" (kind)`, or `credentials (kind)` before the name is known.
struct Origin<'a>(&'a Option<String>, &'a &'static str);

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => write!(f, "credentials \"{name}\" ({})", self.1),
            None => write!(f, "credentials ({})", self.1),
        }
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

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (group >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(input.as_bytes()), encoded, "{input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }
}
