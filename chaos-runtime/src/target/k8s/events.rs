//! Kubernetes Events (events.k8s.io/v1) telling the cluster what an experiment did: its start
//! (on the run's first use of the cluster), every action, the rollbacks and the verdict.
//!
//! Actions write theirs inline. The start time, the rollbacks and the verdict come from the
//! run's lifecycle: the [`ClusterEvents`] extension (a harness registers it with the `k8s`
//! feature on). Writing an Event never fails an
//! activity or changes a verdict: it is tried once, for at most 2 s, and a failure is logged.
//! No Event is written in dry-run, with `events = false`, or in a namespace outside
//! `allowed_namespaces`.

use super::pod_info::PodInfo;
use super::Cluster;
use crate::context::Context;
use crate::event::RunReport;
use crate::extend::{BoxFuture, Control, ControlPoint, Extension, Veto};
use crate::outcome::Outcome;
use crate::target::TargetContext;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The `reportingController` of every Event the harness writes.
pub const REPORTING_CONTROLLER: &str = "chaos-harness.dev/experiment";

/// How long one Event write may take.
const EVENT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the end of a run waits for the Events still being written.
const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The object an Event is about.
pub(crate) struct Regarding(ObjectReference);

impl Regarding {
    fn namespace(ns: &str) -> Regarding {
        Regarding(ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Namespace".into()),
            name: Some(ns.to_owned()),
            ..ObjectReference::default()
        })
    }
    /// The pod when there is one, else its namespace.
    pub(crate) fn pods(pods: &[PodInfo]) -> Regarding {
        match pods {
            [p] => Regarding(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                namespace: Some(p.namespace.clone()),
                name: Some(p.name.clone()),
                uid: Some(p.uid.clone()).filter(|u| !u.is_empty()),
                ..ObjectReference::default()
            }),
            [p, ..] => Regarding::namespace(&p.namespace),
            [] => Regarding(ObjectReference::default()),
        }
    }
    pub(crate) fn deployment(ns: &str, name: &str, uid: Option<&str>) -> Regarding {
        Regarding(ObjectReference {
            api_version: Some("apps/v1".into()),
            kind: Some("Deployment".into()),
            namespace: Some(ns.to_owned()),
            name: Some(name.to_owned()),
            uid: uid.map(str::to_owned),
            ..ObjectReference::default()
        })
    }
    /// The first node.
    pub(crate) fn nodes<'a>(mut names: impl Iterator<Item = &'a str>) -> Regarding {
        Regarding(ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: names.next().map(str::to_owned),
            ..ObjectReference::default()
        })
    }
}

/// Per-run bookkeeping: when the run started, where it wrote Events, what is in flight.
#[derive(Default)]
struct Ledger {
    started: Option<SystemTime>,
    namespaces: BTreeSet<String>,
    pending: Vec<tokio::task::JoinHandle<()>>,
}

fn enabled(c: &Cluster) -> bool {
    c.settings().events && !c.settings().dry_run
}

fn run_cluster(cx: &Context) -> Option<Cluster> {
    cx.with_stash(|c: &mut Option<Cluster>| c.clone())
}

/// Writes the experiment's start Event in the cluster's default namespace (called on the run's
/// first use of the cluster, dated when the run started).
pub(crate) async fn started(cx: &Context, c: &Cluster) {
    if !enabled(c) {
        return;
    }
    let at = cx
        .with_stash(|l: &mut Ledger| l.started)
        .unwrap_or_else(SystemTime::now);
    let ns = c.namespace().to_owned();
    write(
        cx,
        c,
        &ns,
        Regarding::namespace(&ns),
        "ChaosExperimentStarted",
        "Start",
        "Normal",
        format!(
            "chaos experiment {} started (seed {})",
            cx.experiment(),
            cx.seed()
        ),
        at,
        None,
    )
    .await;
}

/// Writes an action's Event in `ns`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn action(
    cx: &Context,
    c: &Cluster,
    ns: &str,
    regarding: Regarding,
    reason: &str,
    action: &str,
    note: String,
) {
    if !enabled(c) {
        return;
    }
    let note = format!("{}: {note}", cx.experiment());
    write(
        cx,
        c,
        ns,
        regarding,
        reason,
        action,
        "Normal",
        note,
        SystemTime::now(),
        None,
    )
    .await;
}

/// Writes the Event of an undo in `ns`, once: under a name made of its
/// [`undo_key`](crate::target::undo::undo_key) when it has one, so that an undo run again (a
/// recovery after a kill between the undo and its ledger record) does not say it twice.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn undo(
    cx: &Context,
    c: &Cluster,
    ns: &str,
    regarding: Regarding,
    reason: &str,
    action: &str,
    note: String,
    key: Option<String>,
) {
    if !enabled(c) {
        return;
    }
    let note = format!("{}: {note}", cx.experiment());
    write(
        cx,
        c,
        ns,
        regarding,
        reason,
        action,
        "Normal",
        note,
        SystemTime::now(),
        key,
    )
    .await;
}

#[allow(clippy::too_many_arguments)]
async fn write(
    cx: &Context,
    c: &Cluster,
    ns: &str,
    regarding: Regarding,
    reason: &str,
    action: &str,
    kind: &str,
    note: String,
    at: SystemTime,
    key: Option<String>,
) {
    let allowed = &c.settings().allowed_namespaces;
    if !allowed.is_empty() && !allowed.iter().any(|a| a == ns) {
        // Nothing is written outside the namespaces the settings allow.
        tracing::debug!(namespace = ns, reason, "no Event: namespace not allowed");
        return;
    }
    cx.with_stash(|l: &mut Ledger| l.namespaces.insert(ns.to_owned()));
    let event = Event {
        metadata: ObjectMeta {
            name: Some(match &key {
                Some(key) => format!("{}.undo-{key}", event_prefix(cx.experiment())),
                None => event_name(cx.experiment(), at),
            }),
            namespace: Some(ns.to_owned()),
            labels: Some([("chaos-harness.dev/seed".to_owned(), cx.seed().to_string())].into()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(timestamp(at))),
        reporting_controller: Some(REPORTING_CONTROLLER.into()),
        reporting_instance: Some(instance()),
        action: Some(action.to_owned()),
        reason: Some(reason.to_owned()),
        type_: Some(kind.to_owned()),
        regarding: Some(regarding.0),
        note: Some(truncate(&crate::redact::redact(&note), 1024)),
        ..Event::default()
    };
    let api: Api<Event> = Api::namespaced(c.client().clone(), ns);
    let pp = PostParams::default();
    // One attempt, bounded: an Event never holds an activity up.
    match tokio::time::timeout(EVENT_TIMEOUT, api.create(&pp, &event)).await {
        Ok(Ok(_)) => {}
        Ok(Err(kube::Error::Api(e))) if e.code == 409 && key.is_some() => {
            tracing::debug!(
                namespace = ns,
                reason,
                "the undo's Event was written before"
            );
        }
        Ok(Err(e)) => {
            tracing::warn!(
                namespace = ns,
                reason,
                "could not write the Kubernetes Event: {e}"
            )
        }
        Err(_) => tracing::warn!(
            namespace = ns,
            reason,
            "could not write the Kubernetes Event within {}",
            crate::time::human(EVENT_TIMEOUT)
        ),
    }
}

fn timestamp(at: SystemTime) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::try_from(at).unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

/// A unique, valid Event name: `chaos.<experiment slug>.<hex>`.
fn event_name(experiment: &str, at: SystemTime) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.{:x}{:x}{seq:x}",
        event_prefix(experiment),
        nanos,
        std::process::id()
    )
}

/// `chaos.<experiment slug>`, the start of the names of an experiment's Events.
fn event_prefix(experiment: &str) -> String {
    let mut slug: String = experiment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.truncate(100);
    let slug = slug.trim_matches('-');
    format!(
        "chaos.{}",
        if slug.is_empty() { "experiment" } else { slug }
    )
}

fn instance() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "localhost".into());
    truncate(&format!("{host}-{}", std::process::id()), 128)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The extension that writes a run's Kubernetes Events: it dates the start Event, writes the
/// rollbacks' Events, and after the run waits for the Events still being written and writes
/// the verdict Event. Runs that do not use the cluster write nothing. A harness registers it
/// for every run when the `k8s` feature is on ([`crate::target::extensions`]); a runner built
/// by hand adds it itself:
///
/// ```
/// use chaos_runtime::run::Runner;
/// let runner = Runner::new().extension(chaos_runtime::target::k8s::ClusterEvents);
/// # let _ = runner;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ClusterEvents;

impl Extension for ClusterEvents {
    fn name(&self) -> &str {
        "k8s-events"
    }
    fn controls(&self) -> Vec<std::sync::Arc<dyn Control>> {
        vec![std::sync::Arc::new(EventsControl)]
    }
    fn finish_run<'a>(&'a self, cx: &'a Context, report: &'a RunReport) -> BoxFuture<'a, ()> {
        Box::pin(finish_run(cx, report))
    }
}

/// The control half of [`ClusterEvents`].
struct EventsControl;

impl Control for EventsControl {
    fn name(&self) -> &str {
        "k8s-events"
    }

    fn before(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        match point {
            ControlPoint::Experiment => {
                cx.with_stash(|l: &mut Ledger| l.started = Some(SystemTime::now()));
            }
            ControlPoint::Rollbacks => spawn(
                cx,
                "ChaosRollbacksStarted",
                "Rollback",
                "rollbacks started".into(),
            ),
            _ => {}
        }
        Ok(())
    }

    fn after(&self, point: &ControlPoint<'_>, cx: &Context) -> Result<(), Veto> {
        if matches!(point, ControlPoint::Rollbacks) {
            spawn(
                cx,
                "ChaosRollbacksCompleted",
                "Rollback",
                "rollbacks completed".into(),
            );
        }
        Ok(())
    }
}

/// Writes an Event in every namespace the run wrote to, from a task (controls are synchronous).
fn spawn(cx: &Context, reason: &'static str, action: &'static str, note: String) {
    let Some(c) = run_cluster(cx).filter(enabled) else {
        return;
    };
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let cx2 = cx.clone();
    let at = SystemTime::now();
    let task = rt.spawn(async move {
        for ns in namespaces(&cx2, &c) {
            let note = format!("{}: {note}", cx2.experiment());
            write(
                &cx2,
                &c,
                &ns,
                Regarding::namespace(&ns),
                reason,
                action,
                "Normal",
                note,
                at,
                None,
            )
            .await;
        }
    });
    cx.with_stash(|l: &mut Ledger| l.pending.push(task));
}

fn namespaces(cx: &Context, c: &Cluster) -> BTreeSet<String> {
    let mut all = cx.with_stash(|l: &mut Ledger| l.namespaces.clone());
    all.insert(c.namespace().to_owned());
    all
}

/// After a run: waits (at most 5 s) for the Events still being written, then writes the
/// verdict Event (`Normal` when the run passed, `Warning` otherwise) in every namespace the
/// run wrote to. Does nothing for runs that did not use the cluster.
async fn finish_run(cx: &Context, report: &RunReport) {
    let Some(c) = run_cluster(cx).filter(enabled) else {
        return;
    };
    let work = async {
        let pending = cx.with_stash(|l: &mut Ledger| std::mem::take(&mut l.pending));
        for p in pending {
            let _ = p.await;
        }
        let kind = if report.outcome == Outcome::Passed {
            "Normal"
        } else {
            "Warning"
        };
        let reason = format!("ChaosExperiment{}", camel(report.outcome.as_str()));
        let mut note = format!(
            "chaos experiment {} ended {} in {} (seed {})",
            report.experiment,
            report.outcome,
            crate::time::human(report.duration),
            report.seed
        );
        if let Some(f) = report.findings.first() {
            note.push_str(&format!("; {f:?}"));
        }
        for ns in namespaces(cx, &c) {
            write(
                cx,
                &c,
                &ns,
                Regarding::namespace(&ns),
                &reason,
                "Verdict",
                kind,
                note.clone(),
                SystemTime::now(),
                None,
            )
            .await;
        }
    };
    if tokio::time::timeout(FINISH_TIMEOUT, work).await.is_err() {
        tracing::warn!("the verdict's Kubernetes Events were not all written within 5s");
    }
}

/// `baseline-not-met` → `BaselineNotMet`.
fn camel(s: &str) -> String {
    s.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_unique() {
        let a = event_name("k8s::Kill pods_with label", SystemTime::now());
        let b = event_name("k8s::Kill pods_with label", SystemTime::now());
        assert_ne!(a, b);
        assert!(a.starts_with("chaos.k8s--kill-pods-with-label."), "{a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'));
        assert_eq!(camel("baseline-not-met"), "BaselineNotMet");
        assert_eq!(truncate("ééé", 5), "é…");
    }
}
