//! The pod's own cluster, as Kubernetes gives it to a pod: the API server in
//! `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, and the service account's token,
//! CA certificate and namespace in `/var/run/secrets/kubernetes.io/serviceaccount` (or the
//! directory `CHAOS_K8S_SERVICE_ACCOUNT_DIR` names, for a token projected elsewhere). The
//! token is read from its file as the client needs it, so a rotated token is picked up.

use super::K8sError;
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use std::path::PathBuf;

/// Where Kubernetes mounts a pod's service account.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The service account directory: `CHAOS_K8S_SERVICE_ACCOUNT_DIR`, else Kubernetes's.
pub(crate) fn service_account_dir() -> PathBuf {
    crate::env::path(crate::env::K8S_SERVICE_ACCOUNT_DIR)
        .unwrap_or_else(|| PathBuf::from(SERVICE_ACCOUNT_DIR))
}

/// The pod's cluster as a kubeconfig, or what is missing.
pub(crate) fn kubeconfig() -> Result<Kubeconfig, K8sError> {
    let missing = |what: String| K8sError::Config(format!("in-cluster: {what} (is this a pod?)"));
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| missing("KUBERNETES_SERVICE_HOST is not set".into()))?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT")
        .ok()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| missing("KUBERNETES_SERVICE_PORT is not set".into()))?;
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let dir = service_account_dir();
    let token = dir.join("token");
    if !token.is_file() {
        return Err(missing(format!(
            "no service account token at {}",
            token.display()
        )));
    }
    let ca = dir.join("ca.crt");
    let namespace = std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let name = "in-cluster".to_owned();
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.clone(),
            cluster: Some(Cluster {
                server: Some(format!("https://{host}:{port}")),
                certificate_authority: ca.is_file().then(|| ca.display().to_string()),
                ..Cluster::default()
            }),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.clone(),
            auth_info: Some(AuthInfo {
                token_file: Some(token.display().to_string()),
                ..AuthInfo::default()
            }),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: name.clone(),
            context: Some(Context {
                cluster: name.clone(),
                user: Some(name.clone()),
                namespace,
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(name),
        ..Kubeconfig::default()
    })
}
