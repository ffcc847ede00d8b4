//! [`PodInfo`]: one pod as selections, probes, actions and Events report it.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use std::collections::BTreeMap;

/// One pod, as selections and probes report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodInfo {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// Its phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`).
    pub phase: String,
    /// Whether its `Ready` condition is true.
    pub ready: bool,
    /// Whether it is being deleted.
    pub terminating: bool,
    /// The node it runs on.
    pub node: Option<String>,
    /// Its creation time (RFC 3339).
    pub created: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub(super) created_epoch: i64,
}

impl PodInfo {
    pub(crate) fn from_pod(p: &Pod) -> PodInfo {
        let status = p.status.as_ref();
        let created = p.metadata.creation_timestamp.as_ref().map(|t| t.0);
        PodInfo {
            namespace: p.metadata.namespace.clone().unwrap_or_default(),
            name: p.metadata.name.clone().unwrap_or_default(),
            uid: p.metadata.uid.clone().unwrap_or_default(),
            phase: status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            ready: status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
            terminating: p.metadata.deletion_timestamp.is_some(),
            node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
            created: created.map(|t| t.to_string()).unwrap_or_default(),
            labels: p.metadata.labels.clone().unwrap_or_default(),
            created_epoch: created.map_or(0, |t| t.as_second()),
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The name, for messages.
    pub(crate) fn key_str(&self) -> &str {
        &self.name
    }

    /// Ready and not being deleted: what serves traffic.
    pub fn serving(&self) -> bool {
        self.ready && !self.terminating
    }
}
