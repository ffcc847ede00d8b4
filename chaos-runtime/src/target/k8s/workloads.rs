//! Deployments: scale (remembering the old replica count for the rollback), rollout restart,
//! availability probes and waits.

use super::markers;
use super::{cluster, events, wait_until, Cluster, K8sError, POLL};
use crate::context::Context;
use crate::ledger::UndoRecord;
use crate::target::marker::Marker;
use crate::target::touches_nothing;
use crate::target::undo::undo_key;
use crate::target::{Intent, TargetContext};
use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// A deployment, by namespace and name.
///
/// ```no_run
/// # async fn rollback(cx: &chaos_runtime::Context) -> Result<(), chaos_runtime::target::k8s::K8sError> {
/// use chaos_runtime::target::k8s;
/// let web = k8s::deployment(cx, "shop", "web");
/// web.scale(1).await?;                 // method
/// k8s::restore_scales(cx).await?;      // rollback: back to what it was
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Deployment<'a> {
    cx: &'a Context,
    namespace: String,
    name: String,
}

/// The deployment `name` in `namespace` (`""`: the cluster's default namespace).
pub fn deployment<'a>(cx: &'a Context, namespace: &str, name: &str) -> Deployment<'a> {
    Deployment {
        cx,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

/// A deployment's replica counts, from its status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentState {
    /// `spec.replicas`.
    pub desired: i32,
    /// `status.replicas`.
    pub replicas: i32,
    /// `status.updatedReplicas`.
    pub updated: i32,
    /// `status.readyReplicas`.
    pub ready: i32,
    /// `status.availableReplicas`.
    pub available: i32,
    /// Whether the `Available` condition is true.
    pub available_condition: bool,
    /// Whether the status reflects the latest spec (`observedGeneration >= generation`).
    pub observed: bool,
}

impl DeploymentState {
    /// Every desired replica is updated, ready and available, and nothing else runs.
    pub fn fully_available(&self) -> bool {
        self.observed
            && self.updated == self.desired
            && self.ready == self.desired
            && self.available == self.desired
            && self.replicas == self.desired
    }
}

/// What a scale did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScaleReport {
    /// `namespace/name`.
    pub deployment: String,
    /// The replica count before.
    pub previous: i32,
    /// The replica count asked for.
    pub replicas: i32,
    /// Whether this was a dry run (nothing touched).
    pub dry_run: bool,
}

/// The replica counts this run's scales found, for [`restore_scales`]: the first one per
/// deployment, with its standby record in the ledger.
#[derive(Default)]
struct Scaled(BTreeMap<(String, String), (i32, Option<Intent>)>);

/// The undo kind of a scale: `{"namespace", "name", "replicas"}`, the count to restore.
const UNDO_SCALE: &str = "k8s.scale";

/// A recovery's undo of a scale: the deployment back to the replica count it had.
fn undo_scale(
    data: serde_json::Value,
    cx: Context,
) -> futures_util::future::BoxFuture<'static, Result<serde_json::Value, crate::BoxError>> {
    Box::pin(async move {
        let (Some(ns), Some(name), Some(replicas)) = (
            data["namespace"].as_str(),
            data["name"].as_str(),
            data["replicas"]
                .as_i64()
                .and_then(|r| i32::try_from(r).ok()),
        ) else {
            return Err(format!(
                "a `{UNDO_SCALE}` record needs namespace, name and replicas: {data}"
            )
            .into());
        };
        let report = restore(&cx, ns, name, replicas).await?;
        Ok(serde_json::to_value(report)?)
    })
}
crate::undo_kind!(UNDO_SCALE, undo_scale);

impl<'a> Deployment<'a> {
    async fn target(&self) -> Result<(Cluster, String, Api<K8sDeployment>), K8sError> {
        let c = cluster(self.cx).await?;
        let ns = if self.namespace.is_empty() {
            c.namespace().to_owned()
        } else {
            self.namespace.clone()
        };
        let api = Api::namespaced(c.client().clone(), &ns);
        Ok((c, ns, api))
    }

    async fn fetch(
        &self,
        c: &Cluster,
        ns: &str,
        api: &Api<K8sDeployment>,
    ) -> Result<K8sDeployment, K8sError> {
        c.call(&format!("get deployment {ns}/{}", self.name), || {
            api.get(&self.name)
        })
        .await
    }

    /// Its replica counts.
    pub async fn state(&self) -> Result<DeploymentState, K8sError> {
        let (c, ns, api) = self.target().await?;
        let d = self.fetch(&c, &ns, &api).await?;
        Ok(state_of(&d))
    }

    /// Whether its `Available` condition is true.
    pub async fn available(&self) -> Result<bool, K8sError> {
        Ok(self.state().await?.available_condition)
    }

    /// Whether every desired replica is updated, ready and available.
    pub async fn fully_available(&self) -> Result<bool, K8sError> {
        Ok(self.state().await?.fully_available())
    }

    /// Waits until it is fully available, for at most `timeout`; returns its state.
    pub async fn wait_fully_available(
        &self,
        timeout: Duration,
    ) -> Result<DeploymentState, K8sError> {
        let what = format!(
            "deployment {}/{} fully available",
            self.namespace, self.name
        );
        wait_until(&what, POLL, timeout, || async {
            let s = self.state().await?;
            Ok(if s.fully_available() {
                Ok(s)
            } else {
                Err(format!("{s:?}"))
            })
        })
        .await
    }

    fn guard(
        &self,
        c: &Cluster,
        ns: &str,
        action: &'static str,
        d: &K8sDeployment,
        (count, of): (usize, Option<usize>),
    ) -> Result<(), K8sError> {
        let labels = d.metadata.labels.clone().unwrap_or_default();
        c.guard(
            action,
            "deployment",
            &[ns],
            (count, of),
            [(self.name.as_str(), &labels)],
        )
    }

    /// Sets its replica count through the scale subresource, remembering the count it had
    /// (the first time this run scales it) for [`restore_scales`]. Setting it back to that count
    /// is its restore: what `restore_scales` would do.
    pub async fn scale(&self, replicas: i32) -> Result<ScaleReport, K8sError> {
        let (c, ns, api) = self.target().await?;
        let d = self.fetch(&c, &ns, &api).await?;
        let previous = d.spec.replicas.unwrap_or(1);
        // max_count and max_percent bound the pods a scale-down removes, of those there were.
        let removed = usize::try_from(previous.saturating_sub(replicas)).unwrap_or(0);
        let had = usize::try_from(previous).unwrap_or(0);
        self.guard(&c, &ns, "scale", &d, (removed, Some(had)))?;
        let report = ScaleReport {
            deployment: format!("{ns}/{}", self.name),
            previous,
            replicas,
            dry_run: c.settings().dry_run,
        };
        self.cx.record_targets(json!({
            "target": "k8s-deployment",
            "deployment": report.deployment,
            "action": "scale",
            "previous": previous,
            "replicas": replicas,
            "dry_run": report.dry_run,
        }));
        if touches_nothing(
            "scale",
            std::slice::from_ref(&report.deployment),
            report.dry_run,
        )
        .is_some()
        {
            return Ok(report);
        }
        let key = (ns.clone(), self.name.clone());
        // Back to the count it had before this run first scaled it: that is its restore (its
        // record undone, its marker removed), as `restore_scales` would do it.
        let original = self.cx.with_stash(|s: &mut Scaled| s.0.get(&key).cloned());
        if let Some((count, intent)) = original.filter(|(count, _)| *count == replicas) {
            let mut restored = restore(self.cx, &ns, &self.name, count).await?;
            self.cx.with_stash(|s: &mut Scaled| s.0.remove(&key));
            if let Some(intent) = intent {
                if let Err(e) = intent.undone() {
                    tracing::warn!(error = %e, "the scale is restored; its ledger record is not marked undone, so a recovery would restore it again");
                }
            }
            restored.previous = previous;
            return Ok(restored);
        }
        // Remembered before the call: if it times out after the server applied it, the
        // rollback still knows what to restore; and recorded in the ledger, so that a recovery
        // knows it if the run dies.
        let first = self.cx.with_stash(|s: &mut Scaled| !s.0.contains_key(&key));
        let intent = if first {
            let record = UndoRecord::new(
                UNDO_SCALE,
                format!(
                    "restore deployment {} to {previous} replica(s)",
                    report.deployment
                ),
                json!({ "namespace": ns, "name": self.name, "replicas": previous }),
            );
            let marker = Marker::of(self.cx, &record, c.settings().marker_lease);
            let intent = self.cx.standby(record).map_err(|source| K8sError::Ledger {
                operation: format!("scale deployment {}", report.deployment),
                source,
            })?;
            if let Some(m) = &marker {
                let what = format!("deployment {}", report.deployment);
                markers::mark(&c, &api, &what, &self.name, Some(m)).await?;
            }
            self.cx
                .with_stash(|s: &mut Scaled| s.0.insert(key, (previous, Some(intent.clone()))));
            Some(intent)
        } else {
            None
        };
        self.set_replicas(&c, &ns, &api, replicas).await?;
        if let Some(intent) = intent {
            if let Err(e) = intent.applied() {
                tracing::warn!(error = %e, "the scale is made; its ledger record is not marked applied");
            }
        }
        events::action(
            self.cx,
            &c,
            &ns,
            events::Regarding::deployment(&ns, &self.name, d.metadata.uid.as_deref()),
            "ChaosDeploymentScaled",
            "scale",
            format!(
                "scaled deployment {} from {previous} to {replicas} replica(s)",
                report.deployment
            ),
        )
        .await;
        Ok(report)
    }

    async fn set_replicas(
        &self,
        c: &Cluster,
        ns: &str,
        api: &Api<K8sDeployment>,
        replicas: i32,
    ) -> Result<(), K8sError> {
        let patch = Patch::Merge(json!({ "spec": { "replicas": replicas } }));
        let pp = PatchParams::default();
        c.call(&format!("scale deployment {ns}/{}", self.name), || {
            api.patch_scale(&self.name, &pp, &patch)
        })
        .await
        .map(drop)
    }

    /// Restarts its pods the way `kubectl rollout restart` does (a new template annotation,
    /// so a new ReplicaSet rolls out).
    pub async fn restart(&self) -> Result<(), K8sError> {
        let (c, ns, api) = self.target().await?;
        let d = self.fetch(&c, &ns, &api).await?;
        self.guard(&c, &ns, "restart", &d, (1, None))?;
        self.cx.record_targets(json!({
            "target": "k8s-deployment",
            "deployment": format!("{ns}/{}", self.name),
            "action": "restart",
            "dry_run": c.settings().dry_run,
        }));
        let deployment = format!("{ns}/{}", self.name);
        if touches_nothing("restart", &[deployment], c.settings().dry_run).is_some() {
            return Ok(());
        }
        // kubectl's annotation, so that `kubectl rollout history` reads it as its own.
        let patch = Patch::Merge(
            json!({ "spec": { "template": { "metadata": { "annotations": {
            "kubectl.kubernetes.io/restartedAt": k8s_openapi::jiff::Timestamp::now().to_string()
        } } } } }),
        );
        let pp = PatchParams::default();
        c.call(&format!("restart deployment {ns}/{}", self.name), || {
            api.patch(&self.name, &pp, &patch)
        })
        .await?;
        events::action(
            self.cx,
            &c,
            &ns,
            events::Regarding::deployment(&ns, &self.name, d.metadata.uid.as_deref()),
            "ChaosDeploymentRestarted",
            "restart",
            format!("rollout restart of deployment {ns}/{}", self.name),
        )
        .await;
        Ok(())
    }
}

/// Rollback helper: sets every deployment this run scaled back to the replica count it had
/// before (nothing when none was scaled). Returns what it restored.
pub async fn restore_scales(cx: &Context) -> Result<Vec<ScaleReport>, K8sError> {
    let scaled = cx.with_stash(|s: &mut Scaled| s.0.clone());
    let mut out = Vec::new();
    for ((ns, name), (replicas, intent)) in scaled {
        out.push(restore(cx, &ns, &name, replicas).await?);
        // Forgotten only once restored: a failed rollback can be run again.
        cx.with_stash(|s: &mut Scaled| s.0.remove(&(ns.clone(), name.clone())));
        if let Some(intent) = intent {
            if let Err(e) = intent.undone() {
                tracing::warn!(error = %e, "the scale is restored; its ledger record is not marked undone, so a recovery would restore it again");
            }
        }
    }
    Ok(out)
}

/// Sets deployment `ns`/`name` back to `replicas` (idempotent), with its Event.
async fn restore(
    cx: &Context,
    ns: &str,
    name: &str,
    replicas: i32,
) -> Result<ScaleReport, K8sError> {
    let d = deployment(cx, ns, name);
    let (c, ns, api) = d.target().await?;
    let deployment = format!("{ns}/{name}");
    if touches_nothing(
        "scale",
        std::slice::from_ref(&deployment),
        c.settings().dry_run,
    )
    .is_some()
    {
        return Ok(ScaleReport {
            deployment,
            previous: replicas,
            replicas,
            dry_run: true,
        });
    }
    let now = d.fetch(&c, &ns, &api).await?;
    let previous = now.spec.replicas.unwrap_or(1);
    // As any scale: the namespace and opt-in guards apply (a restore removes no pod).
    d.guard(&c, &ns, "scale", &now, (0, None))?;
    // Idempotent: a deployment already back at its count (restored before a kill that came
    // ahead of the ledger's record of it) is not scaled again, and its Event, written under
    // the undo's key, is written once.
    let note = if previous == replicas {
        format!("deployment {ns}/{name} is back at {replicas} replica(s)")
    } else {
        d.set_replicas(&c, &ns, &api, replicas).await?;
        format!("restored deployment {ns}/{name} from {previous} to {replicas} replica(s)")
    };
    let key = undo_key(
        cx,
        UNDO_SCALE,
        &json!({ "namespace": ns, "name": name, "replicas": replicas }),
    );
    events::undo(
        cx,
        &c,
        &ns,
        events::Regarding::deployment(&ns, name, now.metadata.uid.as_deref()),
        "ChaosDeploymentRestored",
        "scale",
        note,
        key,
    )
    .await;
    if markers::has_marker(now.metadata.annotations.as_ref()) {
        markers::mark(&c, &api, &format!("deployment {deployment}"), name, None).await?;
    }
    Ok(ScaleReport {
        deployment,
        previous,
        replicas,
        dry_run: false,
    })
}

fn state_of(d: &K8sDeployment) -> DeploymentState {
    let s = d.status.clone().unwrap_or_default();
    DeploymentState {
        desired: d.spec.replicas.unwrap_or(1),
        replicas: s.replicas.unwrap_or(0),
        updated: s.updated_replicas.unwrap_or(0),
        ready: s.ready_replicas.unwrap_or(0),
        available: s.available_replicas.unwrap_or(0),
        available_condition: s.conditions.unwrap_or_default().iter().any(|c| {
            c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
        }),
        observed: s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0),
    }
}
