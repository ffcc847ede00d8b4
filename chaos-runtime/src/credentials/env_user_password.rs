//! [`EnvUserPassword`]: a user name and a password from two environment variables.

use super::{CredentialError, CredentialErrorKind, CredentialProvider, Credentials};

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
        let error = |kind| Err(CredentialError::new(Self::KIND, kind));
        let var_name = || var.to_owned();
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            Ok(_) => error(CredentialErrorKind::EnvEmpty { var: var_name() }),
            Err(std::env::VarError::NotPresent) => {
                error(CredentialErrorKind::EnvNotSet { var: var_name() })
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                error(CredentialErrorKind::EnvNotUnicode { var: var_name() })
            }
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
