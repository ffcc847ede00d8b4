//! Nodes: selection, cordon / uncordon, drain and delete, readiness probes.

use super::markers;
use super::pod_info::PodInfo;
use super::pods::{touch_pods, IN_FLIGHT};
use super::{cluster, events, list_all, wait_until, ActionReport, Cluster, K8sError, POLL};
use crate::context::Context;
use crate::ledger::UndoRecord;
use crate::target::marker::Marker;
use crate::target::undo::undo_key;
use crate::target::{glob, Select, Selection};
use crate::target::{Intent, TargetContext};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// One node, as selections and probes report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// Its name.
    pub name: String,
    /// Whether its `Ready` condition is true.
    pub ready: bool,
    /// Whether it is cordoned (`spec.unschedulable`).
    pub unschedulable: bool,
    /// Its creation time (RFC 3339).
    pub created: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    created_epoch: i64,
}

impl NodeInfo {
    fn from_node(n: &Node) -> NodeInfo {
        let created = n.metadata.creation_timestamp.as_ref().map(|t| t.0);
        NodeInfo {
            name: n.metadata.name.clone().unwrap_or_default(),
            ready: n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
            unschedulable: n
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false),
            created: created.map(|t| t.to_string()).unwrap_or_default(),
            labels: n.metadata.labels.clone().unwrap_or_default(),
            created_epoch: created.map_or(0, |t| t.as_second()),
        }
    }
}

/// Nodes, narrowed by a label selector and a name pattern.
///
/// ```no_run
/// # async fn method(cx: &chaos_runtime::Context) -> Result<(), chaos_runtime::target::k8s::K8sError> {
/// use chaos_runtime::target::{k8s, Select};
/// k8s::nodes(cx).labeled("pool=web").drain(Select::random(1)).await?;
/// k8s::uncordon_cordoned(cx).await?; // rollback
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Nodes<'a> {
    cx: &'a Context,
    labels: Vec<String>,
    name_pattern: Option<String>,
    drain_timeout: Duration,
}

/// Every node of the cluster (narrow with [`Nodes::labeled`] and [`Nodes::name_matches`]).
pub fn nodes(cx: &Context) -> Nodes<'_> {
    Nodes {
        cx,
        labels: Vec::new(),
        name_pattern: None,
        drain_timeout: Duration::from_secs(120),
    }
}

/// The node `name`.
pub fn node<'a>(cx: &'a Context, name: &str) -> Nodes<'a> {
    nodes(cx).name_matches(name)
}

/// The nodes this run cordoned (or drained), for [`uncordon_cordoned`], each with its
/// standby record in the ledger.
#[derive(Default)]
struct Cordoned(Vec<(String, Option<Intent>)>);

/// The undo kind of a cordon: `{"node"}`, the node to uncordon.
const UNDO_CORDON: &str = "k8s.uncordon";

/// A recovery's undo of a cordon (or a drain): the node schedulable again.
fn undo_cordon(
    data: serde_json::Value,
    cx: Context,
) -> futures_util::future::BoxFuture<'static, Result<serde_json::Value, crate::BoxError>> {
    Box::pin(async move {
        let Some(node) = data["node"].as_str() else {
            return Err(format!("a `{UNDO_CORDON}` record needs a node: {data}").into());
        };
        // As any uncordon: guards and dry-run apply; a node that is gone is left alone.
        let nodes = self::node(&cx, node);
        let (c, chosen, done) = nodes.prepare("uncordon", Select::all()).await?;
        if let Some(report) = done {
            return Ok(serde_json::to_value(report)?);
        }
        let api: Api<Node> = Api::all(c.client().clone());
        for n in &chosen {
            // Idempotent: a node already schedulable (uncordoned by the run, killed before
            // its ledger said so) is not uncordoned again, and its Event is written once.
            if n.unschedulable {
                mark_undone(set_unschedulable(&cx, &c, &n.name, false).await?);
            }
            uncordoned(&cx, &c, &n.name).await;
            markers::mark(&c, &api, &format!("node {}", n.name), &n.name, None).await?;
        }
        Ok(serde_json::to_value(ActionReport {
            action: "uncordon",
            targets: chosen.into_iter().map(|n| n.name).collect(),
            dry_run: false,
        })?)
    })
}

crate::undo_kind!(UNDO_CORDON, undo_cordon);

/// The Event of a cordon's undo: node `name` uncordoned; once per undo.
async fn uncordoned(cx: &Context, c: &Cluster, name: &str) {
    events::undo(
        cx,
        c,
        c.namespace(),
        events::Regarding::nodes(std::iter::once(name)),
        "ChaosNodeUncordoned",
        "uncordon",
        format!("uncordoned node {name}, which this run cordoned"),
        undo_key(cx, UNDO_CORDON, &json!({ "node": name })),
    )
    .await;
}

impl<'a> Nodes<'a> {
    /// Adds a label selector; several are ANDed.
    pub fn labeled(mut self, selector: &str) -> Self {
        self.labels.push(selector.to_owned());
        self
    }
    /// Keeps nodes whose name matches `pattern` (`*` any run, `?` one character).
    pub fn name_matches(mut self, pattern: &str) -> Self {
        self.name_pattern = Some(pattern.to_owned());
        self
    }
    /// How long a drain waits for the evicted pods to go (default 2 min).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Every matching node, sorted by name.
    pub async fn list(&self) -> Result<Vec<NodeInfo>, K8sError> {
        let c = cluster(self.cx).await?;
        self.list_in(&c).await
    }

    async fn list_in(&self, c: &Cluster) -> Result<Vec<NodeInfo>, K8sError> {
        Ok(self
            .objects_in(c)
            .await?
            .iter()
            .map(NodeInfo::from_node)
            .collect())
    }

    /// Every matching node as the API serves it, sorted by name (for values shaped as
    /// Chaos Toolkit's functions return them).
    pub(crate) async fn objects(&self) -> Result<Vec<Node>, K8sError> {
        let c = cluster(self.cx).await?;
        self.objects_in(&c).await
    }

    async fn objects_in(&self, c: &Cluster) -> Result<Vec<Node>, K8sError> {
        let api: Api<Node> = Api::all(c.client().clone());
        let mut lp = ListParams::default().limit(500);
        if !self.labels.is_empty() {
            lp = lp.labels(&self.labels.join(","));
        }
        let mut out: Vec<Node> = list_all(c, &api, lp, "list nodes")
            .await?
            .into_iter()
            .filter(|n| {
                self.name_pattern
                    .as_deref()
                    .is_none_or(|g| glob(g, n.metadata.name.as_deref().unwrap_or_default()))
            })
            .collect();
        out.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Ok(out)
    }

    /// Chooses among the matching nodes and records the selection in the journal.
    pub async fn choose(&self, select: Select) -> Result<Selection<NodeInfo>, K8sError> {
        let c = cluster(self.cx).await?;
        self.choose_in(&c, select).await
    }

    async fn choose_in(
        &self,
        c: &Cluster,
        select: Select,
    ) -> Result<Selection<NodeInfo>, K8sError> {
        let all = self.list_in(c).await?;
        let selection = select.choose(self.cx, &all, |n| n.name.clone(), |n| n.created_epoch);
        let query = json!({
            "label_selector": self.labels.join(","),
            "name_pattern": self.name_pattern,
        });
        let name = |n: &NodeInfo| n.name.clone();
        selection.record(self.cx, "k8s-nodes", query, name, c.settings().dry_run);
        Ok(selection)
    }

    /// Resolves and guards an action; `None` when it must touch nothing (dry run or nothing
    /// chosen), with the report to return.
    async fn prepare(
        &self,
        action: &'static str,
        select: Select,
    ) -> Result<(Cluster, Vec<NodeInfo>, Option<ActionReport>), K8sError> {
        let c = cluster(self.cx).await?;
        let selection = self.choose_in(&c, select).await?;
        // max_percent is of the cluster's nodes, not of those a name or selector matched.
        let total = if self.labels.is_empty() && self.name_pattern.is_none() {
            selection.matched
        } else {
            nodes(self.cx).list_in(&c).await?.len()
        };
        c.guard(
            action,
            "node(s)",
            &[],
            (selection.chosen.len(), Some(total)),
            selection
                .chosen
                .iter()
                .map(|n| (n.name.as_str(), &n.labels)),
        )?;
        let targets: Vec<String> = selection.chosen.iter().map(|n| n.name.clone()).collect();
        let done = ActionReport::untouched(&c, action, &targets);
        Ok((c, selection.chosen, done))
    }

    /// Cordons the chosen nodes (no new pods are scheduled there) and remembers them for
    /// [`uncordon_cordoned`].
    pub async fn cordon(&self, select: Select) -> Result<ActionReport, K8sError> {
        let (c, chosen, done) = self.prepare("cordon", select).await?;
        if let Some(r) = done {
            return Ok(r);
        }
        for n in chosen.iter().filter(|n| !n.unschedulable) {
            set_unschedulable(self.cx, &c, &n.name, true).await?;
        }
        self.report(&c, "cordon", "ChaosNodeCordoned", &chosen)
            .await
    }

    /// Uncordons the chosen nodes.
    pub async fn uncordon(&self, select: Select) -> Result<ActionReport, K8sError> {
        let (c, chosen, done) = self.prepare("uncordon", select).await?;
        if let Some(r) = done {
            return Ok(r);
        }
        let mut undone = Vec::new();
        for n in &chosen {
            undone.extend(set_unschedulable(self.cx, &c, &n.name, false).await?);
        }
        let report = self
            .report(&c, "uncordon", "ChaosNodeUncordoned", &chosen)
            .await;
        mark_undone(undone);
        report
    }

    /// Drains the chosen nodes as `kubectl drain --ignore-daemonsets` does: cordons them,
    /// evicts their pods (DaemonSet and mirror pods stay), and waits until those pods are
    /// gone (at most the drain timeout). The nodes are remembered for [`uncordon_cordoned`].
    pub async fn drain(&self, select: Select) -> Result<ActionReport, K8sError> {
        let (c, chosen, done) = self.prepare("drain", select).await?;
        if let Some(r) = done {
            return Ok(r);
        }
        // The pods a drain evicts are guarded too (namespaces, opt-in label) before anything.
        let mut all_pods = Vec::new();
        for n in &chosen {
            all_pods.push(evictable_pods(&c, &n.name).await?);
        }
        guard_pods(&c, "drain", all_pods.iter().flatten())?;
        for (n, pods) in chosen.iter().zip(&all_pods) {
            if !n.unschedulable {
                set_unschedulable(self.cx, &c, &n.name, true).await?;
            }
            touch_pods(&c, "evict", pods, DeleteParams::default(), IN_FLIGHT).await?;
            let what = format!("the pods of node {} gone", n.name);
            wait_until(&what, POLL, self.drain_timeout, || async {
                let left = evictable_pods(&c, &n.name).await?;
                Ok(
                    if left.iter().all(|p| pods.iter().all(|q| q.uid != p.uid)) {
                        Ok(())
                    } else {
                        Err(format!("{} pod(s) left", left.len()))
                    },
                )
            })
            .await?;
        }
        self.report(&c, "drain", "ChaosNodeDrained", &chosen).await
    }

    /// Deletes the chosen nodes (their pods go with them and are rescheduled elsewhere). This
    /// cannot be rolled back: the node must register again.
    pub async fn delete(&self, select: Select) -> Result<ActionReport, K8sError> {
        let (c, chosen, done) = self.prepare("delete-node", select).await?;
        if let Some(r) = done {
            return Ok(r);
        }
        // The pods that go with the nodes are guarded too.
        let mut pods = Vec::new();
        for n in &chosen {
            pods.extend(evictable_pods(&c, &n.name).await?);
        }
        guard_pods(&c, "delete-node", &pods)?;
        let api: Api<Node> = Api::all(c.client().clone());
        for n in &chosen {
            let dp = DeleteParams::default();
            c.call(&format!("delete node {}", n.name), || {
                api.delete(&n.name, &dp)
            })
            .await?;
        }
        self.report(&c, "delete-node", "ChaosNodeDeleted", &chosen)
            .await
    }

    async fn report(
        &self,
        c: &Cluster,
        action: &'static str,
        reason: &str,
        chosen: &[NodeInfo],
    ) -> Result<ActionReport, K8sError> {
        let targets: Vec<String> = chosen.iter().map(|n| n.name.clone()).collect();
        events::action(
            self.cx,
            c,
            c.namespace(),
            events::Regarding::nodes(chosen.iter().map(|n| n.name.as_str())),
            reason,
            action,
            format!("{action} node(s): {}", targets.join(", ")),
        )
        .await;
        Ok(ActionReport {
            action,
            targets,
            dry_run: false,
        })
    }

    /// How many matching nodes are ready.
    pub async fn ready_count(&self) -> Result<usize, K8sError> {
        Ok(self.list().await?.iter().filter(|n| n.ready).count())
    }

    /// Whether at least one node matches and every matching node is ready.
    pub async fn all_ready(&self) -> Result<bool, K8sError> {
        let all = self.list().await?;
        Ok(!all.is_empty() && all.iter().all(|n| n.ready))
    }

    /// Waits until every matching node is ready (at least one matching), for at most
    /// `timeout`.
    pub async fn wait_all_ready(&self, timeout: Duration) -> Result<usize, K8sError> {
        wait_until("all nodes ready", POLL, timeout, || async {
            let all = self.list().await?;
            let ready = all.iter().filter(|n| n.ready).count();
            Ok(if !all.is_empty() && ready == all.len() {
                Ok(ready)
            } else {
                Err(format!("{ready} of {} ready", all.len()))
            })
        })
        .await
    }
}

/// Cordons or uncordons node `name`. An uncordon returns the ledger records of this run's
/// cordons it undid, for the caller to mark undone once it has said so (its Event).
async fn set_unschedulable(
    cx: &Context,
    c: &Cluster,
    name: &str,
    cordon: bool,
) -> Result<Vec<Intent>, K8sError> {
    let api: Api<Node> = Api::all(c.client().clone());
    if cordon {
        // Remembered before the call (a node already cordoned is not: the caller skips it),
        // so a rollback uncordons it even when the call timed out after the server applied
        // it; and recorded in the ledger, so that a recovery uncordons it if the run dies.
        let known = cx.with_stash(|s: &mut Cordoned| s.0.iter().any(|(n, _)| n == name));
        let intent = if known {
            None
        } else {
            let record = UndoRecord::new(
                UNDO_CORDON,
                format!("uncordon node {name}"),
                json!({ "node": name }),
            );
            let marker = Marker::of(cx, &record, c.settings().marker_lease);
            let intent = cx.standby(record).map_err(|source| K8sError::Ledger {
                operation: format!("cordon node {name}"),
                source,
            })?;
            if let Some(m) = &marker {
                markers::mark(c, &api, &format!("node {name}"), name, Some(m)).await?;
            }
            cx.with_stash(|s: &mut Cordoned| s.0.push((name.to_owned(), Some(intent.clone()))));
            Some(intent)
        };
        c.call(&format!("cordon node {name}"), || api.cordon(name))
            .await?;
        if let Some(intent) = intent {
            if let Err(e) = intent.applied() {
                tracing::warn!(error = %e, "the cordon is made; its ledger record is not marked applied");
            }
        }
    } else {
        c.call(&format!("uncordon node {name}"), || api.uncordon(name))
            .await?;
        let forgotten: Vec<(String, Option<Intent>)> = cx.with_stash(|s: &mut Cordoned| {
            let (gone, kept) = std::mem::take(&mut s.0)
                .into_iter()
                .partition(|(n, _)| n == name);
            s.0 = kept;
            gone
        });
        let intents: Vec<Intent> = forgotten.into_iter().filter_map(|(_, i)| i).collect();
        if intents.iter().any(Intent::is_durable) {
            // This run marked it (a run with a ledger entry marks what it changes).
            markers::mark(c, &api, &format!("node {name}"), name, None).await?;
        }
        return Ok(intents);
    }
    Ok(Vec::new())
}

/// Marks the ledger records of undone cordons undone, so that no recovery undoes them again.
fn mark_undone(intents: Vec<Intent>) {
    for intent in intents {
        if let Err(e) = intent.undone() {
            tracing::warn!(error = %e, "the node is uncordoned; its ledger record is not marked undone, so a recovery would uncordon it again");
        }
    }
}

/// The pods on `node` a drain evicts: not DaemonSet-owned, not mirror pods, not already
/// going.
async fn evictable_pods(c: &Cluster, node: &str) -> Result<Vec<PodInfo>, K8sError> {
    let api: Api<Pod> = Api::all(c.client().clone());
    let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let pods = list_all(c, &api, lp, &format!("list pods on node {node}")).await?;
    Ok(pods
        .iter()
        .filter(|p| {
            let daemon = p
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| o.iter().any(|o| o.kind == "DaemonSet"));
            let mirror = p
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
            !daemon && !mirror && p.metadata.deletion_timestamp.is_none()
        })
        .map(|p| {
            let mut info = PodInfo::from_pod(p);
            info.node = Some(node.to_owned());
            info
        })
        .collect())
}

/// Rollback helper: uncordons every node this run cordoned or drained (nothing when none
/// was; a node that was already cordoned before the run is left as it was). Returns their
/// names.
pub async fn uncordon_cordoned(cx: &Context) -> Result<Vec<String>, K8sError> {
    let names: Vec<String> =
        cx.with_stash(|s: &mut Cordoned| s.0.iter().map(|(n, _)| n.clone()).collect());
    if names.is_empty() {
        return Ok(names);
    }
    let c = cluster(cx).await?;
    let mut undone = Vec::new();
    for n in &names {
        // Forgets each node once uncordoned: a failed rollback can be run again.
        undone.extend(set_unschedulable(cx, &c, n, false).await?);
        uncordoned(cx, &c, n).await;
    }
    mark_undone(undone);
    Ok(names)
}

/// Refuses a drain or node deletion whose pods a guard forbids (allowed namespaces, opt-in
/// label); the counts bound the nodes, not their pods.
fn guard_pods<'a>(
    c: &Cluster,
    action: &'static str,
    pods: impl IntoIterator<Item = &'a PodInfo>,
) -> Result<(), K8sError> {
    let pods: Vec<&PodInfo> = pods.into_iter().collect();
    let namespaces: Vec<&str> = pods.iter().map(|p| p.namespace.as_str()).collect();
    c.guard(
        action,
        "pod(s)",
        &namespaces,
        (pods.len(), None),
        pods.iter().map(|p| (p.key_str(), &p.labels)),
    )
}
