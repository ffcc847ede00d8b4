//! Pods: selection, terminate and evict, readiness and phase probes, recovery waits.

use super::pod_info::PodInfo;
use super::{cluster, events, list_all, wait_until, ActionReport, Cluster, K8sError, POLL};
use crate::context::Context;
use crate::target::{glob, Select, Selection};
use futures_util::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, EvictParams, ListParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// How many deletes or evictions are in flight at once, by default.
pub(crate) const IN_FLIGHT: usize = 16;

/// Pods of a namespace, narrowed by label and field selectors and a name pattern.
///
/// ```no_run
/// # async fn probe(cx: &chaos_runtime::Context) -> Result<usize, chaos_runtime::target::k8s::K8sError> {
/// use chaos_runtime::target::k8s;
/// k8s::pods(cx, "shop").labeled("app=web,tier in (frontend)").fields("status.phase=Running").ready_count().await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Pods<'a> {
    cx: &'a Context,
    namespace: String,
    labels: Vec<String>,
    fields: Vec<String>,
    name_pattern: Option<String>,
    name_regex: Option<regex::Regex>,
    grace: Option<Duration>,
    force: bool,
    page_size: u32,
    in_flight: usize,
}

/// The pods of `namespace` (`""`: the cluster's default namespace; `"*"`: every namespace).
pub fn pods<'a>(cx: &'a Context, namespace: &str) -> Pods<'a> {
    Pods {
        cx,
        namespace: namespace.to_owned(),
        labels: Vec::new(),
        fields: Vec::new(),
        name_pattern: None,
        name_regex: None,
        grace: None,
        force: false,
        page_size: 500,
        in_flight: IN_FLIGHT,
    }
}

impl<'a> Pods<'a> {
    /// Adds a label selector (`app=web`, `tier in (a,b)`, `!canary`...); several are ANDed.
    pub fn labeled(mut self, selector: &str) -> Self {
        self.labels.push(selector.to_owned());
        self
    }
    /// Adds a field selector (`status.phase=Running`, `spec.nodeName=node-1`...).
    pub fn fields(mut self, selector: &str) -> Self {
        self.fields.push(selector.to_owned());
        self
    }
    /// Keeps pods whose name matches `pattern` (`*` any run, `?` one character).
    pub fn name_matches(mut self, pattern: &str) -> Self {
        self.name_pattern = Some(pattern.to_owned());
        self
    }
    /// Keeps pods whose name the regular expression `re` matches anywhere (Chaos Toolkit's
    /// `name_pattern`).
    pub(crate) fn name_regex(mut self, re: regex::Regex) -> Self {
        self.name_regex = Some(re);
        self
    }
    /// The grace period terminations and evictions give (else the pod's own, usually 30 s).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }
    /// Terminates at once (grace period 0), as `kubectl delete --force --grace-period=0`.
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
    /// How many deletes or evictions an action keeps in flight at once (default 16).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.in_flight = n.max(1);
        self
    }
    /// How many pods each list page asks for (default 500).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// The selection, for messages: namespace, selectors and pattern.
    fn describe(&self) -> String {
        let mut d = match self.namespace.as_str() {
            "" => "the default namespace".to_owned(),
            "*" => "all namespaces".to_owned(),
            ns => format!("namespace {ns}"),
        };
        if !self.labels.is_empty() {
            d.push_str(&format!(" with labels `{}`", self.labels.join(",")));
        }
        if !self.fields.is_empty() {
            d.push_str(&format!(" with fields `{}`", self.fields.join(",")));
        }
        if let Some(p) = &self.name_pattern {
            d.push_str(&format!(" named like `{p}`"));
        }
        d
    }

    pub(super) async fn target(&self) -> Result<(Cluster, String), K8sError> {
        let c = cluster(self.cx).await?;
        let ns = match self.namespace.as_str() {
            "" => c.namespace().to_owned(),
            other => other.to_owned(),
        };
        Ok((c, ns))
    }

    fn api(c: &Cluster, ns: &str) -> Api<Pod> {
        if ns == "*" {
            Api::all(c.client().clone())
        } else {
            Api::namespaced(c.client().clone(), ns)
        }
    }

    /// Every matching pod over all pages, sorted by namespace and name.
    pub async fn list(&self) -> Result<Vec<PodInfo>, K8sError> {
        let (c, ns) = self.target().await?;
        self.list_in(&c, &ns).await
    }

    async fn list_in(&self, c: &Cluster, ns: &str) -> Result<Vec<PodInfo>, K8sError> {
        let api = Self::api(c, ns);
        let mut lp = ListParams::default().limit(self.page_size);
        if !self.labels.is_empty() {
            lp = lp.labels(&self.labels.join(","));
        }
        if !self.fields.is_empty() {
            lp = lp.fields(&self.fields.join(","));
        }
        let op = format!(
            "list pods in {}",
            if ns == "*" { "all namespaces" } else { ns }
        );
        let mut out: Vec<PodInfo> = list_all(c, &api, lp, &op)
            .await?
            .iter()
            .map(PodInfo::from_pod)
            .filter(|p| {
                self.name_pattern
                    .as_deref()
                    .is_none_or(|g| glob(g, &p.name))
            })
            .filter(|p| self.name_regex.as_ref().is_none_or(|r| r.is_match(&p.name)))
            .collect();
        out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(out)
    }

    /// Chooses among the matching pods that are not already being deleted (with the run's
    /// seeded generator, or oldest first), and records the selection in the journal.
    pub async fn choose(&self, select: Select) -> Result<Selection<PodInfo>, K8sError> {
        let (c, ns) = self.target().await?;
        self.choose_in(&c, &ns, select).await
    }

    async fn choose_in(
        &self,
        c: &Cluster,
        ns: &str,
        select: Select,
    ) -> Result<Selection<PodInfo>, K8sError> {
        let all: Vec<PodInfo> = self
            .list_in(c, ns)
            .await?
            .into_iter()
            .filter(|p| !p.terminating)
            .collect();
        let selection = select.choose(self.cx, &all, PodInfo::key, |p| p.created_epoch);
        let query = json!({
            "namespace": ns,
            "label_selector": self.labels.join(","),
            "field_selector": self.fields.join(","),
            "name_pattern": self.name_pattern.clone().or_else(|| self.name_regex.as_ref().map(|r| r.as_str().to_owned())),
        });
        selection.record(
            self.cx,
            "k8s-pods",
            query,
            PodInfo::key,
            c.settings().dry_run,
        );
        Ok(selection)
    }

    fn delete_params(&self) -> DeleteParams {
        let mut dp = DeleteParams::default();
        if self.force {
            dp = dp.grace_period(0);
        } else if let Some(g) = self.grace {
            dp = dp.grace_period(g.as_secs().min(u64::from(u32::MAX)) as u32);
        }
        dp
    }

    /// Terminates the chosen pods (deletes them with the grace period, at most 16 deletes in
    /// flight). A pod already gone counts as terminated.
    pub async fn terminate(&self, select: Select) -> Result<ActionReport, K8sError> {
        self.act("terminate", select).await
    }

    /// Evicts the chosen pods through the eviction API (which honours PodDisruptionBudgets: a
    /// refused eviction is retried, then fails with `TooManyRequests`).
    pub async fn evict(&self, select: Select) -> Result<ActionReport, K8sError> {
        self.act("evict", select).await
    }

    async fn act(&self, action: &'static str, select: Select) -> Result<ActionReport, K8sError> {
        let (c, ns) = self.target().await?;
        let selection = self.choose_in(&c, &ns, select).await?;
        let chosen = &selection.chosen;
        let namespaces: Vec<&str> = chosen
            .iter()
            .map(|p| p.namespace.as_str())
            .chain((ns != "*").then_some(ns.as_str()))
            .collect();
        c.guard(
            action,
            "pod(s)",
            &namespaces,
            (chosen.len(), Some(selection.matched)),
            chosen.iter().map(|p| (p.name.as_str(), &p.labels)),
        )?;
        let targets: Vec<String> = chosen.iter().map(PodInfo::key).collect();
        if let Some(r) = ActionReport::untouched(&c, action, &targets) {
            return Ok(r);
        }
        let touched = touch_pods(&c, action, chosen, self.delete_params(), self.in_flight).await;
        // The Event is written even when some pods failed: the others were touched.
        let outcome = match &touched {
            Ok(()) => String::new(),
            Err(e) => format!(" ({e})"),
        };
        events::action(
            self.cx,
            &c,
            &ns_for_event(&c, chosen),
            events::Regarding::pods(chosen),
            if action == "evict" {
                "ChaosPodsEvicted"
            } else {
                "ChaosPodsTerminated"
            },
            action,
            format!(
                "{action} {} of {} matching pod(s): {}{outcome}",
                chosen.len(),
                selection.matched,
                targets.join(", ")
            ),
        )
        .await;
        touched?;
        Ok(ActionReport {
            action,
            targets,
            dry_run: false,
        })
    }

    /// How many pods match (terminating ones included).
    pub async fn count(&self) -> Result<usize, K8sError> {
        Ok(self.list().await?.len())
    }

    /// How many matching pods are ready and not being deleted.
    pub async fn ready_count(&self) -> Result<usize, K8sError> {
        Ok(self.list().await?.iter().filter(|p| p.serving()).count())
    }

    /// How many matching pods are in each phase (terminating ones as `Terminating`).
    pub async fn phases(&self) -> Result<BTreeMap<String, usize>, K8sError> {
        let mut m = BTreeMap::new();
        for p in self.list().await? {
            let phase = if p.terminating {
                "Terminating".to_owned()
            } else {
                p.phase
            };
            *m.entry(phase).or_insert(0) += 1;
        }
        Ok(m)
    }

    /// How many matching pods are in `phase` (and not being deleted).
    pub async fn count_in_phase(&self, phase: &str) -> Result<usize, K8sError> {
        Ok(self
            .list()
            .await?
            .iter()
            .filter(|p| p.phase == phase && !p.terminating)
            .count())
    }

    /// Whether at least one pod matches and every matching pod is in `phase`.
    pub async fn all_in_phase(&self, phase: &str) -> Result<bool, K8sError> {
        let all = self.list().await?;
        Ok(!all.is_empty() && all.iter().all(|p| p.phase == phase && !p.terminating))
    }

    /// Waits until at least `min` matching pods are ready (and not being deleted), for at most
    /// `timeout`; returns how many are.
    pub async fn wait_ready(&self, min: usize, timeout: Duration) -> Result<usize, K8sError> {
        let what = format!("{min} ready pod(s) of {}", self.describe());
        wait_until(&what, POLL, timeout, || async {
            let n = self.ready_count().await?;
            Ok(if n >= min {
                Ok(n)
            } else {
                Err(format!("{n} ready"))
            })
        })
        .await
    }
}

fn ns_for_event(c: &Cluster, chosen: &[PodInfo]) -> String {
    chosen
        .first()
        .map_or_else(|| c.namespace().to_owned(), |p| p.namespace.clone())
}

/// Deletes or evicts `pods`, at most `in_flight` at once; the first failure is returned
/// after all were tried (with how many failed).
pub(crate) async fn touch_pods(
    c: &Cluster,
    action: &'static str,
    pods: &[PodInfo],
    dp: DeleteParams,
    in_flight: usize,
) -> Result<(), K8sError> {
    // Every future owns what it uses: futures borrowing through the closure are not `Send` in
    // general (a higher-ranked lifetime), and experiments' futures must be.
    let owned: Vec<(Cluster, PodInfo, DeleteParams)> = pods
        .iter()
        .map(|p| {
            // The pod chosen, not a replacement that took its name since.
            let mut dp = dp.clone();
            if !p.uid.is_empty() {
                dp.preconditions = Some(kube::api::Preconditions {
                    uid: Some(p.uid.clone()),
                    resource_version: None,
                });
            }
            (c.clone(), p.clone(), dp)
        })
        .collect();
    let results: Vec<Result<(), K8sError>> = stream::iter(owned)
        .map(|(c, p, dp)| async move {
            let api: Api<Pod> = Api::namespaced(c.client().clone(), &p.namespace);
            let op = format!("{action} pod {}", p.key());
            let r = if action == "evict" {
                let ep = EvictParams {
                    delete_options: Some(dp.clone()),
                    ..EvictParams::default()
                };
                c.call(&op, || api.evict(&p.name, &ep)).await.map(drop)
            } else {
                c.call(&op, || api.delete(&p.name, &dp)).await.map(drop)
            };
            match r {
                Err(K8sError::Api { code: 404, .. }) => {
                    tracing::info!(pod = %p.key(), "already gone");
                    Ok(())
                }
                other => other,
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    match results.into_iter().find_map(Result::err) {
        // One pod: its error as it is.
        Some(first) if pods.len() == 1 => Err(first),
        Some(first) => Err(K8sError::Partial {
            action,
            failed,
            total: pods.len(),
            first: Box::new(first),
        }),
        None => Ok(()),
    }
}
