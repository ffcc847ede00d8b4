//! [`CredentialRegistry`]: named providers, loaded afresh on every `get`.

use super::{CredentialError, CredentialErrorKind, CredentialProvider, Credentials};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
    /// the same name is refused with [`CredentialErrorKind::Duplicate`] and the first stays.
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
            Entry::Occupied(existing) => Err(CredentialError::new(
                provider.kind(),
                CredentialErrorKind::Duplicate {
                    existing: existing.get().kind(),
                },
            )
            .named(existing.key())),
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
        let provider = self.providers.get(name).ok_or_else(|| {
            CredentialError::unknown(name, self.names().map(String::from).collect())
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
