//! Markers on Kubernetes objects: the annotation [`ANNOTATION`] on each deployment a run
//! scaled and each node it cordoned, written before the change and removed by its undo, and
//! the scan a recovery from markers reads them with.

use super::{list_all, Cluster, K8sError};
use crate::target::marker::{Found, Marker, ANNOTATION};
use crate::Context;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Resource;
use serde_json::{json, Value};

/// Writes `marker` on object `name` of `api` (`what` names it in errors), or removes the
/// marker when `None`.
pub(super) async fn mark<K>(
    c: &Cluster,
    api: &Api<K>,
    what: &str,
    name: &str,
    marker: Option<&Marker>,
) -> Result<(), K8sError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + Resource,
    <K as Resource>::DynamicType: Default,
{
    let value = marker.map_or(Value::Null, |m| Value::String(m.to_text()));
    let patch = Patch::Merge(json!({ "metadata": { "annotations": { ANNOTATION: value } } }));
    let pp = PatchParams::default();
    let op = match marker {
        Some(_) => format!("write the recovery marker on {what}"),
        None => format!("remove the recovery marker from {what}"),
    };
    c.call(&op, || api.patch(name, &pp, &patch)).await.map(drop)
}

/// Whether `annotations` hold a marker.
pub(super) fn has_marker(annotations: Option<&std::collections::BTreeMap<String, String>>) -> bool {
    annotations.is_some_and(|a| a.contains_key(ANNOTATION))
}

/// The markers on the cluster's deployments (every namespace) and nodes.
pub(crate) async fn markers(cx: &Context) -> Result<Vec<Found>, K8sError> {
    let c = super::cluster(cx).await?;
    let mut found = Vec::new();
    let deployments: Api<Deployment> = Api::all(c.client().clone());
    for d in list_all(&c, &deployments, ListParams::default(), "list deployments").await? {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        push(&mut found, format!("deployment {ns}/{name}"), &d.metadata);
    }
    let nodes: Api<Node> = Api::all(c.client().clone());
    for n in list_all(&c, &nodes, ListParams::default(), "list nodes").await? {
        let name = n.metadata.name.clone().unwrap_or_default();
        push(&mut found, format!("node {name}"), &n.metadata);
    }
    Ok(found)
}

fn push(
    found: &mut Vec<Found>,
    object: String,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    let Some(text) = meta.annotations.as_ref().and_then(|a| a.get(ANNOTATION)) else {
        return;
    };
    match Marker::parse(text) {
        Ok(marker) => found.push(Found { object, marker }),
        Err(e) => {
            tracing::warn!(%object, error = %e, "a recovery marker that cannot be read is left alone")
        }
    }
}
