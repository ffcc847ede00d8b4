//! [`KubernetesServiceAccount`]: a pod's service-account token (and namespace).

use super::token_file::read_token;
use super::{CredentialError, CredentialErrorKind, CredentialProvider, Credentials};
use crate::redact::Secret;
use std::path::{Path, PathBuf};

/// Where Kubernetes mounts a pod's service-account token and namespace.
///
/// ```
/// assert_eq!(
///     chaos_runtime::credentials::SERVICE_ACCOUNT_DIR,
///     "/var/run/secrets/kubernetes.io/serviceaccount"
/// );
/// ```
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

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
                return Err(CredentialError::new(
                    Self::KIND,
                    CredentialErrorKind::Read {
                        file: "namespace file",
                        path: self.namespace_path.clone(),
                        source,
                    },
                ))
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
