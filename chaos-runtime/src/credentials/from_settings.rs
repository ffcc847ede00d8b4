//! The settings file's `[credentials.NAME]` sections made into providers.

use super::{CredentialProvider, EnvUserPassword, KubernetesServiceAccount, TokenFile};
use crate::settings::CredentialSettings;
use std::sync::Arc;

impl CredentialSettings {
    /// The provider this `[credentials.NAME]` section describes, ready to register.
    ///
    /// ```
    /// use chaos_runtime::credentials::CredentialProvider;
    /// use chaos_runtime::settings::CredentialSettings;
    /// let section = CredentialSettings::TokenFile { path: "/run/token".into() };
    /// assert_eq!(section.provider().kind(), "token-file");
    /// ```
    pub fn provider(&self) -> Arc<dyn CredentialProvider> {
        match self {
            CredentialSettings::EnvUserPassword {
                user_env,
                password_env,
            } => Arc::new(EnvUserPassword::new(user_env.clone(), password_env.clone())),
            CredentialSettings::TokenFile { path } => Arc::new(TokenFile::new(path.clone())),
            CredentialSettings::KubernetesServiceAccount { token_path } => Arc::new(
                KubernetesServiceAccount::with_token_path(token_path.clone()),
            ),
        }
    }
}
