//! `[credentials.NAME]`: where a credential comes from (nothing is read until it is used).

use super::parse::{join, Node, Parser, Res};
use std::collections::BTreeMap;
use std::path::PathBuf;

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

pub(super) const CREDENTIAL_TYPES: &[&str] =
    &["env-user-password", "token-file", "k8s-service-account"];

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

impl Parser<'_> {
    pub(super) fn credentials(&self, node: &Node) -> Res<BTreeMap<String, CredentialSettings>> {
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
